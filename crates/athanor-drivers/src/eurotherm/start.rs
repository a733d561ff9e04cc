//! Starting a program without ever starting it twice: a pure state machine that takes what the
//! line reported and returns what to do next.
//!
//! The rule: "run" is sent only right after reading a state in which the program is not running
//! (reset, or held). A write whose answer was lost may have taken effect, so it is followed by a
//! read, never by another write. A completed program is not run again (that would repeat it);
//! the caller resets it first if a repeat is meant.

use crate::instrument::{ProgramState, RunOutcome};

/// What the driver does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAction {
    ReadStatus,
    WriteRun,
    Done(RunOutcome),
    /// Stop: not starting (the state is given).
    Refuse(ProgramState),
    /// Stop: "run" was acknowledged but the state is not running.
    NotStarted(ProgramState),
    /// Stop: the state could not be read; whether an earlier run took effect is unknown.
    Unknown,
}

/// What the line reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartEvent {
    Status(ProgramState),
    ReadFailed,
    WriteAcked,
    /// The write was sent but its answer was lost or garbled: it may have taken effect.
    WriteUncertain,
    /// The device refused the write (an exception): it did not take effect.
    WriteRefused,
}

/// The machine. `max_writes` bounds how often "run" is sent when the device acknowledges but
/// does not start (each preceded by a read showing it not running).
#[derive(Debug, Clone)]
pub struct StartProgram {
    writes: u32,
    max_writes: u32,
    sent_unconfirmed: bool,
}

impl StartProgram {
    pub fn new(max_writes: u32) -> Self {
        Self {
            writes: 0,
            max_writes: max_writes.max(1),
            sent_unconfirmed: false,
        }
    }

    /// The first action: always a read.
    pub fn begin(&self) -> StartAction {
        StartAction::ReadStatus
    }

    /// How many "run" writes were sent.
    pub fn writes(&self) -> u32 {
        self.writes
    }

    pub fn on(&mut self, event: StartEvent) -> StartAction {
        use ProgramState::*;
        match event {
            StartEvent::Status(Running | Holdback) => {
                if self.writes > 0 {
                    StartAction::Done(RunOutcome::Started)
                } else {
                    StartAction::Done(RunOutcome::AlreadyRunning)
                }
            }
            // A tiny program can finish between our write and our read.
            StartEvent::Status(Complete) if self.sent_unconfirmed => {
                StartAction::Done(RunOutcome::Started)
            }
            StartEvent::Status(s @ (Reset | Held)) => {
                if self.writes >= self.max_writes {
                    StartAction::NotStarted(s)
                } else {
                    self.writes += 1;
                    self.sent_unconfirmed = true;
                    StartAction::WriteRun
                }
            }
            StartEvent::Status(s @ (Complete | Unknown(_))) => StartAction::Refuse(s),
            StartEvent::ReadFailed => StartAction::Unknown,
            StartEvent::WriteAcked | StartEvent::WriteUncertain => StartAction::ReadStatus,
            StartEvent::WriteRefused => {
                self.sent_unconfirmed = false;
                StartAction::ReadStatus
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProgramState::*;

    #[test]
    fn reads_before_writing_and_confirms_after() {
        let mut m = StartProgram::new(2);
        assert_eq!(m.begin(), StartAction::ReadStatus);
        assert_eq!(m.on(StartEvent::Status(Reset)), StartAction::WriteRun);
        assert_eq!(m.on(StartEvent::WriteAcked), StartAction::ReadStatus);
        assert_eq!(
            m.on(StartEvent::Status(Running)),
            StartAction::Done(RunOutcome::Started)
        );
        assert_eq!(m.writes(), 1);
    }

    #[test]
    fn a_running_program_is_not_started_again() {
        let mut m = StartProgram::new(2);
        assert_eq!(
            m.on(StartEvent::Status(Running)),
            StartAction::Done(RunOutcome::AlreadyRunning)
        );
        assert_eq!(m.writes(), 0);
    }

    #[test]
    fn a_lost_answer_is_followed_by_a_read_not_a_write() {
        let mut m = StartProgram::new(3);
        m.on(StartEvent::Status(Reset));
        assert_eq!(m.on(StartEvent::WriteUncertain), StartAction::ReadStatus);
        // The write took effect: done, one write.
        assert_eq!(
            m.on(StartEvent::Status(Running)),
            StartAction::Done(RunOutcome::Started)
        );
        assert_eq!(m.writes(), 1);
        // Or the line stays dead: outcome unknown, no second write.
        let mut m = StartProgram::new(3);
        m.on(StartEvent::Status(Reset));
        m.on(StartEvent::WriteUncertain);
        assert_eq!(m.on(StartEvent::ReadFailed), StartAction::Unknown);
        assert_eq!(m.writes(), 1);
    }

    #[test]
    fn completed_programs_are_not_repeated_and_writes_are_bounded() {
        let mut m = StartProgram::new(2);
        assert_eq!(
            m.on(StartEvent::Status(Complete)),
            StartAction::Refuse(Complete)
        );
        let mut m = StartProgram::new(2);
        m.on(StartEvent::Status(Reset));
        m.on(StartEvent::WriteAcked);
        assert_eq!(m.on(StartEvent::Status(Reset)), StartAction::WriteRun);
        m.on(StartEvent::WriteAcked);
        assert_eq!(
            m.on(StartEvent::Status(Reset)),
            StartAction::NotStarted(Reset)
        );
        assert_eq!(m.writes(), 2);
    }
}
