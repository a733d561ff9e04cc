//! The daemon's command tracker: a state machine over every command in flight that takes events
//! (a submission, a decoded message, a tick of the clock, a reconnection) and returns the actions
//! to take (record a state change, publish a message, report an outcome or an alarm). No I/O and
//! no clock: the caller passes `now` in.
//!
//! Invariants:
//! - a command's state changes only through [`athanor_core::CommandState`]'s table, and each change
//!   is returned as [`Action::Record`] *before* any publish that follows from it;
//! - a command is only ever re-sent under its own id (the controller's ledger makes that harmless),
//!   never after its deadline, and never under a new id;
//! - every command ends — succeeded, failed, expired, or failed with [`CommandFailure::NoAnswer`]
//!   and an operator alarm — after a bounded number of re-sends and queries: nothing waits forever.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use athanor_core::{
    Command, CommandAction, CommandId, CommandState, InstrumentId, InstrumentState, StateMachine,
};

use super::chunks::Reassembly;
use super::messages::{
    encode, AckMsg, AckStatus, CmdMsg, CommandMsg, Inbound, ProgressMsg, QueryMsg, RejectCode,
    ResultMsg, ResultOutcome, StatusMsg,
};
use super::topics::{topic, TopicKind};
use super::MqttError;

/// Timers and bounds of the tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackerConfig {
    /// How long to wait for an ack before re-sending a command.
    pub ack_timeout: Duration,
    /// How often a command is re-sent (same id) before the daemon only queries.
    pub max_resends: u32,
    /// How long after the last sign of life (ack, progress) to wait for a result before querying.
    pub result_timeout: Duration,
    /// Time between queries.
    pub query_interval: Duration,
    /// Unanswered queries after which a command ends with `no_answer` and an alarm.
    pub max_queries: u32,
    /// How long a result may wait for its missing chunks before the daemon asks again.
    pub chunk_timeout: Duration,
    /// The deadline of a command that has none: issue time plus this.
    pub start_window: Duration,
    /// How far the controller's clock may be behind: a command is taken as never started only
    /// once its deadline is this much in the past.
    pub clock_skew: Duration,
    /// How long a finished command is remembered, to recognise duplicates of its messages.
    pub keep_finished: Duration,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            ack_timeout: Duration::from_secs(10),
            max_resends: 3,
            result_timeout: Duration::from_secs(60),
            query_interval: Duration::from_secs(10),
            max_queries: 6,
            chunk_timeout: Duration::from_secs(5),
            start_window: Duration::from_secs(300),
            clock_skew: Duration::from_secs(2),
            keep_finished: Duration::from_secs(3600),
        }
    }
}

impl TrackerConfig {
    /// The same timers on a clock that runs `speed` times faster than the wall clock (the
    /// simulated lab's): each lasts as long on the wall as it does at speed 1.
    pub fn scaled(self, speed: f64) -> Self {
        let s = |d: Duration| d.mul_f64(speed.max(1e-6));
        Self {
            ack_timeout: s(self.ack_timeout),
            result_timeout: s(self.result_timeout),
            query_interval: s(self.query_interval),
            chunk_timeout: s(self.chunk_timeout),
            start_window: s(self.start_window),
            clock_skew: s(self.clock_skew),
            keep_finished: s(self.keep_finished),
            ..self
        }
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// A command to send: what the engine recorded as `pending`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundCommand {
    pub id: CommandId,
    pub instrument: InstrumentId,
    pub action: String,
    pub params: Value,
    pub deadline: Option<DateTime<Utc>>,
}

impl From<&Command> for OutboundCommand {
    fn from(c: &Command) -> Self {
        Self {
            id: c.id,
            instrument: c.instrument_id.clone(),
            action: c.action.clone(),
            params: c.parameters.clone(),
            deadline: c.deadline,
        }
    }
}

/// Why a command did not succeed, typed so that the engine can tell "did not run" from "unknown".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandFailure {
    /// The controller refused it; it did not run and never will.
    #[error("rejected by the controller ({code:?}): {message}")]
    Rejected { code: RejectCode, message: String },
    /// It ran and failed on the instrument.
    #[error("failed on the instrument ({code}): {message}")]
    Failed {
        code: String,
        message: String,
        data: Option<Value>,
    },
    /// Its deadline passed before the controller started it; it did not run and never will.
    #[error("expired: the controller did not start it before its deadline")]
    Expired,
    /// The controller never answered; whether the action happened is unknown, so an operator
    /// must look before anything is repeated.
    #[error("no answer from the controller after {queries} queries; whether it ran is unknown")]
    NoAnswer { queries: u32 },
    /// The controller acknowledged the command and later had no record of it (its ledger was
    /// lost): whether the action completed is unknown.
    #[error("the controller acknowledged the command but no longer has a record of it")]
    Forgotten,
}

impl CommandFailure {
    /// True when the controller confirms that the physical action did not happen.
    pub fn did_not_run(&self) -> bool {
        matches!(
            self,
            CommandFailure::Rejected { .. } | CommandFailure::Expired
        )
    }
}

/// A command's end: its data, or why it has none.
pub type CommandOutcome = Result<Value, CommandFailure>;

/// A state change to record durably before anything else happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub command_id: CommandId,
    pub instrument: InstrumentId,
    pub action: CommandAction,
    pub to: CommandState,
    /// The first result (or the reason it ended), stored with the command.
    pub result: Option<Value>,
}

/// A message to publish: always QoS 1, never retained.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub topic: String,
    pub payload: Vec<u8>,
}

/// What an operator must see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// A command ended without any answer: whether it ran is unknown.
    NoAnswer,
    /// A controller with commands in flight went offline.
    ControllerOffline,
    /// A second, different result (or rejection) arrived for a finished command.
    ConflictingResult,
    /// An answer arrived after the daemon had given up on the command.
    LateAnswer,
    /// A controller forgot a command it had acknowledged.
    Forgotten,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub kind: AlarmKind,
    pub instrument: InstrumentId,
    pub command_id: Option<CommandId>,
    pub message: String,
}

/// What the tracker asks its caller to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Record(Record),
    Publish(Publish),
    Progress {
        instrument: InstrumentId,
        progress: ProgressMsg,
    },
    Finished {
        command_id: CommandId,
        instrument: InstrumentId,
        outcome: CommandOutcome,
    },
    Alarm(Alarm),
    /// A controller reported its state (the daemon updates the instrument's record).
    Status {
        instrument: InstrumentId,
        status: StatusMsg,
    },
}

/// Counts of messages the tracker dropped, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrackerStats {
    /// Messages about command ids the tracker does not know.
    pub unknown_command: u64,
    /// Duplicates of messages already handled.
    pub duplicates: u64,
    /// Messages about a command, from an instrument it was not sent to.
    pub wrong_instrument: u64,
}

#[derive(Debug)]
struct Entry {
    instrument: InstrumentId,
    action: String,
    params: Value,
    deadline: DateTime<Utc>,
    state: CommandState,
    attempts: u32,
    queries: u32,
    due: Option<DateTime<Utc>>,
    expected_done_at: Option<DateTime<Utc>>,
    pending_result: Option<ResultMsg>,
    chunks: Reassembly,
    stored: Option<Value>,
    gave_up: bool,
}

/// The tracker: every command in flight and those finished recently.
#[derive(Debug, Default)]
pub struct Tracker {
    config: TrackerConfig,
    entries: HashMap<CommandId, Entry>,
    status: HashMap<InstrumentId, InstrumentState>,
    stats: TrackerStats,
}

/// What is stored with a finished command, and compared to recognise a conflicting duplicate.
fn stored_result(m: &ResultMsg, data: &Option<Value>) -> Value {
    let mut v = json!({ "outcome": m.outcome });
    if let Some(d) = data {
        v["data"] = d.clone();
    }
    if let Some(e) = &m.error {
        v["error"] = json!(e);
    }
    v
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    /// The state of a command the tracker knows.
    pub fn state(&self, id: CommandId) -> Option<CommandState> {
        self.entries.get(&id).map(|e| e.state)
    }

    /// Commands not yet finished.
    pub fn in_flight(&self) -> usize {
        self.entries
            .values()
            .filter(|e| !e.state.is_terminal())
            .count()
    }

    /// When [`Tracker::on_tick`] next has something to do.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.entries.values().filter_map(|e| e.due).min()
    }

    /// Starts tracking a command recorded as `pending`: records `sent` and publishes it.
    pub fn submit(
        &mut self,
        cmd: OutboundCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<Action>, MqttError> {
        if self.entries.contains_key(&cmd.id) {
            return Err(MqttError::InvalidCommand {
                command_id: cmd.id,
                reason: "this command id is already tracked".into(),
            });
        }
        let probe = CmdMsg::Command(CommandMsg {
            command_id: cmd.id,
            action: cmd.action.clone(),
            params: cmd.params.clone(),
            deadline: now,
            issued_at: now,
            attempt: 1,
        });
        probe.validate().map_err(|e| MqttError::InvalidCommand {
            command_id: cmd.id,
            reason: e.to_string(),
        })?;
        let deadline = cmd
            .deadline
            .unwrap_or_else(|| now + delta(self.config.start_window));
        if deadline <= now {
            return Err(MqttError::InvalidCommand {
                command_id: cmd.id,
                reason: "its deadline has passed; it was not sent".into(),
            });
        }
        let mut entry = self.new_entry(&cmd, deadline, CommandState::Pending);
        let mut out = Vec::new();
        move_to(&mut entry, cmd.id, CommandAction::Send, None, &mut out);
        self.send_command(&mut entry, cmd.id, now, &mut out);
        self.entries.insert(cmd.id, entry);
        Ok(out)
    }

    /// Takes over a command the store holds unfinished after a restart: a `pending` one is sent,
    /// a `sent` one re-sent (or queried after its deadline), an `acknowledged` one queried.
    pub fn restore(&mut self, cmd: &Command, now: DateTime<Utc>) -> Vec<Action> {
        if cmd.state.is_terminal() || self.entries.contains_key(&cmd.id) {
            return Vec::new();
        }
        let out_cmd = OutboundCommand::from(cmd);
        if cmd.state == CommandState::Pending {
            return match self.submit(out_cmd, now) {
                Ok(actions) => actions,
                // Never sent, and now it must not be: record it as expired and report it.
                Err(_) => vec![
                    Action::Record(Record {
                        command_id: cmd.id,
                        instrument: cmd.instrument_id.clone(),
                        action: CommandAction::Expire,
                        to: CommandState::Expired,
                        result: Some(json!({ "outcome": "expired", "sent": false })),
                    }),
                    Action::Finished {
                        command_id: cmd.id,
                        instrument: cmd.instrument_id.clone(),
                        outcome: Err(CommandFailure::Expired),
                    },
                ],
            };
        }
        let deadline = cmd
            .deadline
            .unwrap_or_else(|| cmd.created_at + delta(self.config.start_window));
        let mut entry = self.new_entry(&out_cmd, deadline, cmd.state);
        entry.attempts = 1;
        let mut out = Vec::new();
        self.reconcile(&mut entry, cmd.id, now, &mut out);
        self.entries.insert(cmd.id, entry);
        out
    }

    /// The connection to the broker is (re-)established: re-send what was not acknowledged and
    /// ask for the results that have not arrived, since the broker may have lost messages.
    pub fn on_connected(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        let ids: Vec<CommandId> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.state.is_terminal())
            .map(|(id, _)| *id)
            .collect();
        self.reconcile_ids(&ids, now)
    }

    /// Fires the timers that are due.
    pub fn on_tick(&mut self, now: DateTime<Utc>) -> Vec<Action> {
        let due: Vec<CommandId> = self
            .entries
            .iter()
            .filter(|(_, e)| e.due.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::new();
        for id in due {
            let Some(mut e) = self.entries.remove(&id) else {
                continue;
            };
            let cfg = self.config;
            match e.state {
                s if s.is_terminal() => continue, // forgotten: dropped from the map
                CommandState::Pending => e.due = None,
                CommandState::Sent if now < e.deadline && e.attempts <= cfg.max_resends => {
                    self.send_command(&mut e, id, now, &mut out);
                }
                _ if e.queries >= cfg.max_queries => give_up(&mut e, id, now, &cfg, &mut out),
                _ => self.send_query(&mut e, id, now, &mut out),
            }
            self.entries.insert(id, e);
        }
        out
    }

    /// Handles one decoded message from the instrument whose topic it came on.
    pub fn on_message(
        &mut self,
        instrument: &InstrumentId,
        msg: Inbound,
        now: DateTime<Utc>,
    ) -> Vec<Action> {
        let mut out = Vec::new();
        let id = match msg.command_id() {
            Some(id) => id,
            None => {
                if let Inbound::Status(status) = msg {
                    self.on_status(instrument, status, now, &mut out);
                }
                // Telemetry goes to the ingest, not here.
                return out;
            }
        };
        let Some(mut e) = self.entries.remove(&id) else {
            self.stats.unknown_command += 1;
            return out;
        };
        if &e.instrument != instrument {
            self.stats.wrong_instrument += 1;
            self.entries.insert(id, e);
            return out;
        }
        match msg {
            Inbound::Ack(ack) => self.on_ack(&mut e, id, ack, now, &mut out),
            Inbound::Progress(p) => {
                if e.state.is_terminal() {
                    self.stats.duplicates += 1;
                } else {
                    if e.state == CommandState::Sent {
                        move_to(&mut e, id, CommandAction::Acknowledge, None, &mut out);
                    }
                    self.alive(&mut e, now, None);
                    out.push(Action::Progress {
                        instrument: e.instrument.clone(),
                        progress: p,
                    });
                }
            }
            Inbound::Result(r) => self.on_result(&mut e, id, r, now, &mut out),
            Inbound::Chunk(c) => {
                if e.state.is_terminal() {
                    self.stats.duplicates += 1;
                } else {
                    match e.chunks.add(c) {
                        Ok(()) => {
                            if let Some(r) = e.pending_result.take() {
                                self.on_result(&mut e, id, r, now, &mut out);
                            }
                        }
                        Err(_) => self.restart_transfer(&mut e, id, now, &mut out),
                    }
                }
            }
            Inbound::Telemetry(_) | Inbound::Status(_) => {}
        }
        self.entries.insert(id, e);
        out
    }

    fn new_entry(
        &self,
        cmd: &OutboundCommand,
        deadline: DateTime<Utc>,
        state: CommandState,
    ) -> Entry {
        Entry {
            instrument: cmd.instrument.clone(),
            action: cmd.action.clone(),
            params: cmd.params.clone(),
            deadline,
            state,
            attempts: 0,
            queries: 0,
            due: None,
            expected_done_at: None,
            pending_result: None,
            chunks: Reassembly::default(),
            stored: None,
            gave_up: false,
        }
    }

    fn reconcile_ids(&mut self, ids: &[CommandId], now: DateTime<Utc>) -> Vec<Action> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(mut e) = self.entries.remove(id) {
                self.reconcile(&mut e, *id, now, &mut out);
                self.entries.insert(*id, e);
            }
        }
        out
    }

    fn reconcile(
        &mut self,
        e: &mut Entry,
        id: CommandId,
        now: DateTime<Utc>,
        out: &mut Vec<Action>,
    ) {
        match e.state {
            CommandState::Sent if now < e.deadline => self.send_command(e, id, now, out),
            CommandState::Sent | CommandState::Acknowledged => self.send_query(e, id, now, out),
            _ => {}
        }
    }

    fn send_command(
        &mut self,
        e: &mut Entry,
        id: CommandId,
        now: DateTime<Utc>,
        out: &mut Vec<Action>,
    ) {
        e.attempts += 1;
        let msg = CmdMsg::Command(CommandMsg {
            command_id: id,
            action: e.action.clone(),
            params: e.params.clone(),
            deadline: e.deadline,
            issued_at: now,
            attempt: e.attempts,
        });
        out.push(Action::Publish(Publish {
            topic: topic(&e.instrument, TopicKind::Cmd),
            payload: encode(&msg),
        }));
        e.due = Some(now + delta(self.config.ack_timeout));
    }

    fn send_query(
        &mut self,
        e: &mut Entry,
        id: CommandId,
        now: DateTime<Utc>,
        out: &mut Vec<Action>,
    ) {
        e.queries += 1;
        let msg = CmdMsg::Query(QueryMsg {
            command_id: id,
            issued_at: Some(now),
        });
        out.push(Action::Publish(Publish {
            topic: topic(&e.instrument, TopicKind::Cmd),
            payload: encode(&msg),
        }));
        e.due = Some(now + delta(self.config.query_interval));
    }

    /// A sign of life: the wait for the result starts again.
    fn alive(&mut self, e: &mut Entry, now: DateTime<Utc>, expected: Option<DateTime<Utc>>) {
        e.queries = 0;
        if expected.is_some() {
            e.expected_done_at = expected;
        }
        let wait = now + delta(self.config.result_timeout);
        e.due = Some(match e.expected_done_at {
            Some(x) if x > wait => x,
            _ => wait,
        });
    }

    fn on_ack(
        &mut self,
        e: &mut Entry,
        id: CommandId,
        ack: AckMsg,
        now: DateTime<Utc>,
        out: &mut Vec<Action>,
    ) {
        if e.state.is_terminal() {
            let conflicting = ack.status == AckStatus::Rejected
                && e.stored
                    .as_ref()
                    .is_some_and(|s| s["outcome"] != "rejected");
            self.after_the_end(
                e,
                id,
                &format!("an ack ({:?})", ack.status),
                conflicting,
                out,
            );
            return;
        }
        match ack.status {
            AckStatus::Accepted | AckStatus::Running => {
                if e.state == CommandState::Sent {
                    move_to(e, id, CommandAction::Acknowledge, None, out);
                }
                self.alive(e, now, ack.expected_done_at);
            }
            AckStatus::Rejected => {
                let reason = ack.reason.unwrap_or(super::messages::RejectReason {
                    code: RejectCode::Other,
                    message: String::new(),
                });
                let stored = json!({ "outcome": "rejected", "reason": reason });
                if reason.code == RejectCode::DeadlinePassed {
                    finish(
                        e,
                        id,
                        CommandAction::Expire,
                        stored,
                        Err(CommandFailure::Expired),
                        now,
                        &self.config,
                        out,
                    );
                } else {
                    let failure = CommandFailure::Rejected {
                        code: reason.code,
                        message: reason.message,
                    };
                    finish(
                        e,
                        id,
                        CommandAction::Fail,
                        stored,
                        Err(failure),
                        now,
                        &self.config,
                        out,
                    );
                }
            }
            AckStatus::Unknown => match e.state {
                CommandState::Sent if now >= e.deadline + delta(self.config.clock_skew) => {
                    let stored = json!({ "outcome": "expired" });
                    finish(
                        e,
                        id,
                        CommandAction::Expire,
                        stored,
                        Err(CommandFailure::Expired),
                        now,
                        &self.config,
                        out,
                    );
                }
                // Lost on the way: send it again (same id), deadline permitting.
                CommandState::Sent if now < e.deadline => {
                    e.queries = 0;
                    self.send_command(e, id, now, out);
                }
                // Between the deadline and the skew margin: ask again shortly.
                CommandState::Sent => {}
                _ => {
                    let stored = json!({ "outcome": "forgotten" });
                    out.push(Action::Alarm(Alarm {
                        kind: AlarmKind::Forgotten,
                        instrument: e.instrument.clone(),
                        command_id: Some(id),
                        message: format!(
                            "controller {} acknowledged command {id} ({}) and now has no record of it; check the instrument",
                            e.instrument, e.action
                        ),
                    }));
                    finish(
                        e,
                        id,
                        CommandAction::Fail,
                        stored,
                        Err(CommandFailure::Forgotten),
                        now,
                        &self.config,
                        out,
                    );
                }
            },
        }
    }

    fn on_result(
        &mut self,
        e: &mut Entry,
        id: CommandId,
        r: ResultMsg,
        now: DateTime<Utc>,
        out: &mut Vec<Action>,
    ) {
        let data = if let Some(d) = &r.chunked {
            if e.state.is_terminal() {
                // The data is not needed to recognise a replay: compare outcome and error only.
                None
            } else {
                match e.chunks.finish(id, d) {
                    Ok(Some(data)) => Some(data),
                    Ok(None) => {
                        // Chunks still missing: wait a little, then ask again.
                        e.pending_result = Some(r);
                        e.due = Some(now + delta(self.config.chunk_timeout));
                        return;
                    }
                    Err(_) => {
                        self.restart_transfer(e, id, now, out);
                        return;
                    }
                }
            }
        } else {
            r.data.clone()
        };
        if e.state.is_terminal() {
            let same = e.stored.as_ref().is_some_and(|s| {
                s["outcome"] == json!(r.outcome)
                    && (r.chunked.is_some() || s.get("data") == data.as_ref())
                    && s.get("error") == r.error.as_ref().map(|x| json!(x)).as_ref()
            });
            if same {
                self.stats.duplicates += 1;
            } else {
                self.after_the_end(e, id, "a different result", true, out);
            }
            return;
        }
        let stored = stored_result(&r, &data);
        match r.outcome {
            ResultOutcome::Succeeded => {
                finish(
                    e,
                    id,
                    CommandAction::Succeed,
                    stored,
                    Ok(data.unwrap_or(Value::Null)),
                    now,
                    &self.config,
                    out,
                );
            }
            ResultOutcome::Failed => {
                let err = r.error.unwrap_or(super::messages::ResultError {
                    code: "unknown".into(),
                    message: String::new(),
                });
                let failure = CommandFailure::Failed {
                    code: err.code,
                    message: err.message,
                    data,
                };
                finish(
                    e,
                    id,
                    CommandAction::Fail,
                    stored,
                    Err(failure),
                    now,
                    &self.config,
                    out,
                );
            }
        }
    }

    /// The chunks do not fit together: forget them and ask for the whole result again.
    fn restart_transfer(
        &mut self,
        e: &mut Entry,
        id: CommandId,
        now: DateTime<Utc>,
        out: &mut Vec<Action>,
    ) {
        e.chunks.clear();
        e.pending_result = None;
        if e.queries >= self.config.max_queries {
            give_up(e, id, now, &self.config, out);
        } else {
            self.send_query(e, id, now, out);
        }
    }

    /// A message for a finished command: a duplicate, or news the operator must hear.
    fn after_the_end(
        &mut self,
        e: &mut Entry,
        id: CommandId,
        what: &str,
        conflicting: bool,
        out: &mut Vec<Action>,
    ) {
        if e.gave_up {
            out.push(Action::Alarm(Alarm {
                kind: AlarmKind::LateAnswer,
                instrument: e.instrument.clone(),
                command_id: Some(id),
                message: format!(
                    "{what} arrived for command {id} ({}) after the daemon gave up on it; check the instrument",
                    e.action
                ),
            }));
        } else if conflicting {
            out.push(Action::Alarm(Alarm {
                kind: AlarmKind::ConflictingResult,
                instrument: e.instrument.clone(),
                command_id: Some(id),
                message: format!(
                    "{what} arrived for finished command {id} ({}); the first outcome is kept",
                    e.action
                ),
            }));
        } else {
            self.stats.duplicates += 1;
        }
    }

    fn on_status(
        &mut self,
        instrument: &InstrumentId,
        status: StatusMsg,
        now: DateTime<Utc>,
        out: &mut Vec<Action>,
    ) {
        let before = self.status.insert(instrument.clone(), status.state);
        let mine: Vec<CommandId> = self
            .entries
            .iter()
            .filter(|(_, e)| &e.instrument == instrument && !e.state.is_terminal())
            .map(|(id, _)| *id)
            .collect();
        out.push(Action::Status {
            instrument: instrument.clone(),
            status: status.clone(),
        });
        if status.state == InstrumentState::Offline {
            if before != Some(InstrumentState::Offline) && !mine.is_empty() {
                out.push(Action::Alarm(Alarm {
                    kind: AlarmKind::ControllerOffline,
                    instrument: instrument.clone(),
                    command_id: mine.first().copied(),
                    message: format!(
                        "controller {instrument} went offline ({}) with {} command(s) in flight",
                        status.reason.as_deref().unwrap_or("no reason given"),
                        mine.len()
                    ),
                }));
            }
        } else if before == Some(InstrumentState::Offline) {
            out.extend(self.reconcile_ids(&mine, now));
        }
    }
}

/// Applies a move through the command table; an illegal move is a bug and is not applied.
fn move_to(
    e: &mut Entry,
    id: CommandId,
    action: CommandAction,
    result: Option<Value>,
    out: &mut Vec<Action>,
) -> bool {
    match e.state.apply(action) {
        Ok(to) => {
            e.state = to;
            out.push(Action::Record(Record {
                command_id: id,
                instrument: e.instrument.clone(),
                action,
                to,
                result,
            }));
            true
        }
        Err(err) => {
            tracing::error!(command = %id, error = %err, "command tracker attempted an illegal move");
            false
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    e: &mut Entry,
    id: CommandId,
    action: CommandAction,
    stored: Value,
    outcome: CommandOutcome,
    now: DateTime<Utc>,
    cfg: &TrackerConfig,
    out: &mut Vec<Action>,
) {
    if move_to(e, id, action, Some(stored.clone()), out) {
        e.stored = Some(stored);
        e.pending_result = None;
        e.chunks.clear();
        e.due = Some(now + delta(cfg.keep_finished));
        out.push(Action::Finished {
            command_id: id,
            instrument: e.instrument.clone(),
            outcome,
        });
    }
}

fn give_up(
    e: &mut Entry,
    id: CommandId,
    now: DateTime<Utc>,
    cfg: &TrackerConfig,
    out: &mut Vec<Action>,
) {
    let queries = e.queries;
    out.push(Action::Alarm(Alarm {
        kind: AlarmKind::NoAnswer,
        instrument: e.instrument.clone(),
        command_id: Some(id),
        message: format!(
            "controller {} did not answer {queries} queries about command {id} ({}); whether it ran is unknown — check the instrument before repeating it",
            e.instrument, e.action
        ),
    }));
    let stored = json!({ "outcome": "no_answer", "queries": queries });
    finish(
        e,
        id,
        CommandAction::Fail,
        stored,
        Err(CommandFailure::NoAnswer { queries }),
        now,
        cfg,
        out,
    );
    e.gave_up = true;
}
