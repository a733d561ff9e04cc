//! The log of every physical action the simulated instruments executed: a furnace program
//! started, a parameter written, a sample prepared, moved, deposited or scanned. Tests read it
//! to prove that no action ran twice; `athanor sim` appends it to a JSON-lines file.

use serde::Serialize;
use serde_json::{json, Value};

use crate::furnace_controller::Executed;

/// One executed action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedAction {
    /// Lab seconds since the lab started.
    pub at_s: f64,
    pub instrument: String,
    /// The MQTT command it executed (none for a serial write).
    pub command_id: Option<String>,
    pub action: String,
    pub detail: Value,
}

impl LoggedAction {
    /// A furnace controller's action from a serial write.
    pub fn serial(instrument: &str, at_s: f64, e: &Executed) -> Self {
        let (action, detail) = match e {
            Executed::Wrote { address, value } => {
                ("write", json!({"address": address, "value": value}))
            }
            Executed::Run(segments) => (
                "run_program",
                json!({"segments": segments.iter().map(|s| json!({
                    "target_c": s.target_c, "rate_c_per_min": s.rate_c_per_min, "dwell_min": s.dwell_min
                })).collect::<Vec<_>>()}),
            ),
            Executed::Resume => ("resume", Value::Null),
            Executed::Hold => ("hold", Value::Null),
            Executed::Reset => ("reset", Value::Null),
        };
        Self {
            at_s,
            instrument: instrument.to_owned(),
            command_id: None,
            action: action.to_owned(),
            detail,
        }
    }
}

/// Every action, in the order executed.
#[derive(Debug, Clone, Default)]
pub struct ActionLog {
    entries: Vec<LoggedAction>,
}

impl ActionLog {
    pub fn push(&mut self, a: LoggedAction) {
        self.entries.push(a);
    }

    pub fn entries(&self) -> &[LoggedAction] {
        &self.entries
    }

    /// Entries from index `n` on (what a file sink has not written yet).
    pub fn since(&self, n: usize) -> &[LoggedAction] {
        self.entries.get(n..).unwrap_or(&[])
    }

    /// How many times the command `id` was executed (at most 1 if nothing ran twice).
    pub fn executions_of(&self, id: &str) -> usize {
        self.entries
            .iter()
            .filter(|a| a.command_id.as_deref() == Some(id))
            .count()
    }

    /// Command ids that were executed more than once (empty when the contract held).
    pub fn repeated_commands(&self) -> Vec<String> {
        let mut ids: Vec<&str> = self
            .entries
            .iter()
            .filter_map(|a| a.command_id.as_deref())
            .collect();
        ids.sort_unstable();
        let mut out: Vec<String> = ids
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0].to_owned())
            .collect();
        out.dedup();
        out
    }
}
