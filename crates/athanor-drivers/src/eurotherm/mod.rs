//! A furnace driver for Eurotherm 3200/2400-style controllers over Modbus RTU.
//!
//! - [`map`]: the register map and value scaling, data from the model file;
//! - [`start`]: the pure state machine that starts a program without ever sending "run" twice;
//! - [`driver`]: [`EurothermFurnace`], the [`Furnace`](crate::instrument::Furnace)
//!   implementation over an [`RtuTransport`](crate::modbus::RtuTransport).

pub mod driver;
pub mod map;
pub mod start;

pub use driver::EurothermFurnace;
pub use map::RegisterMap;

use crate::instrument::{LimitViolation, ProgramState};
use crate::modbus::ModbusError;

/// What a furnace command can end in.
#[derive(Debug, thiserror::Error)]
pub enum EurothermError {
    /// Refused before anything was sent: a value passes a limit.
    #[error("refused: {0}")]
    Limit(#[from] LimitViolation),
    /// The register map in the config is unusable.
    #[error("register map: {0}")]
    Map(String),
    /// The value cannot be written in the register's encoding (refused before sending).
    #[error("{what} = {value} cannot be written: {reason}")]
    Unrepresentable {
        what: &'static str,
        value: f64,
        reason: String,
    },
    /// The line failed (timeout, CRC errors, exception, dead line) after the retries.
    #[error("modbus: {0}")]
    Modbus(#[from] ModbusError),
    /// A program is active; it must be reset before another is loaded.
    #[error("a program is {0:?}; reset it before loading another")]
    ProgramActive(ProgramState),
    #[error("the program has {given} segments; this controller holds {capacity}")]
    TooManySegments { given: usize, capacity: usize },
    #[error("this furnace has no atmosphere control")]
    NoAtmosphere,
    /// "Run" is not sent in this state (the program completed: running it again would repeat
    /// it; reset first).
    #[error("not starting the program: it is {0:?}")]
    RunRefused(ProgramState),
    /// A run command may or may not have taken effect and the state could not be read; the next
    /// attempt reads the state before sending anything.
    #[error("run command outcome unknown (state unreadable): {0}")]
    RunOutcomeUnknown(ModbusError),
    /// The device acknowledged "run" but does not report running.
    #[error("the controller acknowledged run but reports {0:?}")]
    NotStarted(ProgramState),
    /// The device answered with a value its map cannot decode.
    #[error("undecodable answer for {0}")]
    Undecodable(&'static str),
}

impl EurothermError {
    /// Whether the controller is unreachable (the operator sees an alarm).
    pub fn is_line_dead(&self) -> bool {
        match self {
            Self::Modbus(e) | Self::RunOutcomeUnknown(e) => e.is_line_dead(),
            _ => false,
        }
    }
}
