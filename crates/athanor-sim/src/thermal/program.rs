//! A ramp/dwell program as furnace controllers run it: each segment ramps the working set point
//! at its rate to its target (rate 0: a step), then holds for its dwell. The program starts from
//! the measured temperature ("servo to PV") and, once complete, holds the last target.

use serde::Deserialize;

/// One segment: ramp to `target_c` at `rate_c_per_min` (0: at once), then hold `dwell_min`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub target_c: f64,
    pub rate_c_per_min: f64,
    pub dwell_min: f64,
}

/// Where a program stands (the controller's program status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramStatus {
    Reset,
    Run,
    Hold,
    Complete,
}

/// A program and its progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Programmer {
    segments: Vec<Segment>,
    status: ProgramStatus,
    segment: usize,
    /// Seconds of dwell done in the current segment.
    dwelt_s: f64,
    working_setpoint_c: f64,
}

impl Programmer {
    /// A loaded, not yet running program.
    pub fn new(segments: Vec<Segment>) -> Self {
        Self {
            segments,
            status: ProgramStatus::Reset,
            segment: 0,
            dwelt_s: 0.0,
            working_setpoint_c: 0.0,
        }
    }

    pub fn status(&self) -> ProgramStatus {
        self.status
    }

    /// The segment running (0-based).
    pub fn segment(&self) -> usize {
        self.segment
    }

    pub fn working_setpoint_c(&self) -> f64 {
        self.working_setpoint_c
    }

    /// Starts from the measured temperature, or resumes a held program.
    pub fn run(&mut self, measured_c: f64) {
        match self.status {
            ProgramStatus::Hold => self.status = ProgramStatus::Run,
            ProgramStatus::Run => {}
            ProgramStatus::Reset | ProgramStatus::Complete => {
                self.segment = 0;
                self.dwelt_s = 0.0;
                self.working_setpoint_c = measured_c;
                self.status = if self.segments.is_empty() {
                    ProgramStatus::Complete
                } else {
                    ProgramStatus::Run
                };
            }
        }
    }

    /// Freezes the working set point and the dwell timer.
    pub fn hold(&mut self) {
        if self.status == ProgramStatus::Run {
            self.status = ProgramStatus::Hold;
        }
    }

    /// Stops the program.
    pub fn reset(&mut self) {
        self.status = ProgramStatus::Reset;
        self.segment = 0;
        self.dwelt_s = 0.0;
    }

    /// Advances the program `dt` seconds; a step may finish several segments.
    pub fn step(&mut self, mut dt: f64) {
        while self.status == ProgramStatus::Run && dt > 0.0 {
            let Some(seg) = self.segments.get(self.segment).copied() else {
                self.status = ProgramStatus::Complete;
                break;
            };
            let gap = seg.target_c - self.working_setpoint_c;
            if gap != 0.0 {
                if seg.rate_c_per_min <= 0.0 {
                    self.working_setpoint_c = seg.target_c;
                    continue;
                }
                let rate = seg.rate_c_per_min / 60.0;
                let need = gap.abs() / rate;
                if need > dt {
                    self.working_setpoint_c += gap.signum() * rate * dt;
                    return;
                }
                self.working_setpoint_c = seg.target_c;
                dt -= need;
            }
            let dwell_left = seg.dwell_min * 60.0 - self.dwelt_s;
            if dwell_left > dt {
                self.dwelt_s += dt;
                return;
            }
            dt -= dwell_left.max(0.0);
            self.segment += 1;
            self.dwelt_s = 0.0;
            if self.segment >= self.segments.len() {
                self.segment = self.segments.len() - 1;
                self.status = ProgramStatus::Complete;
            }
        }
    }

    /// Seconds the program takes from `start_c`, if every ramp is followed.
    pub fn duration_s(&self, start_c: f64) -> f64 {
        let mut at = start_c;
        self.segments
            .iter()
            .map(|s| {
                let ramp = if s.rate_c_per_min > 0.0 {
                    (s.target_c - at).abs() / s.rate_c_per_min * 60.0
                } else {
                    0.0
                };
                at = s.target_c;
                ramp + s.dwell_min * 60.0
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Programmer {
        Programmer::new(vec![
            Segment {
                target_c: 525.0,
                rate_c_per_min: 10.0,
                dwell_min: 30.0,
            },
            Segment {
                target_c: 25.0,
                rate_c_per_min: 5.0,
                dwell_min: 0.0,
            },
        ])
    }

    #[test]
    fn ramps_dwells_and_completes_on_time() {
        let mut p = program();
        p.run(25.0);
        assert_eq!(p.duration_s(25.0), 50.0 * 60.0 + 1800.0 + 100.0 * 60.0);
        p.step(25.0 * 60.0);
        assert!((p.working_setpoint_c() - 275.0).abs() < 1e-9);
        p.step(25.0 * 60.0 + 1799.0);
        assert_eq!(
            p.segment(),
            0,
            "still dwelling a second before the dwell ends"
        );
        assert!((p.working_setpoint_c() - 525.0).abs() < 1e-9);
        p.step(61.0);
        assert_eq!(p.segment(), 1);
        assert!((p.working_setpoint_c() - 520.0).abs() < 1e-9);
        p.step(1e6);
        assert_eq!(p.status(), ProgramStatus::Complete);
        assert_eq!(p.working_setpoint_c(), 25.0);
    }

    #[test]
    fn hold_freezes_and_run_resumes() {
        let mut p = program();
        p.run(25.0);
        p.step(600.0);
        p.hold();
        p.step(600.0);
        assert!((p.working_setpoint_c() - 125.0).abs() < 1e-9);
        p.run(999.0);
        p.step(600.0);
        assert!((p.working_setpoint_c() - 225.0).abs() < 1e-9);
    }

    #[test]
    fn a_program_starts_from_the_measured_temperature() {
        let mut p = program();
        p.run(300.0);
        p.step(60.0);
        assert!((p.working_setpoint_c() - 310.0).abs() < 1e-9);
    }
}
