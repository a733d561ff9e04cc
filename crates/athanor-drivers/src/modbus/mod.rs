//! Modbus RTU: a sans-io codec ([`frame`], [`crc`]) and an async transport ([`transport`]) over
//! any byte stream, with per-request timeouts, bounded retries with back-off and a dead-line
//! detector.

pub mod crc;
pub mod frame;
pub mod serial;
pub mod transport;

use std::time::Duration;

pub use frame::{
    decode_request, decode_response, encode_response, Decoded, ExceptionCode, Request, Response,
};
pub use transport::{RtuConfig, RtuTransport};

/// Why bytes are not a valid frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("CRC mismatch: computed {expected:#06x}, frame carries {found:#06x}")]
    Crc { expected: u16, found: u16 },
    #[error("answer from unit {found}, expected unit {expected}")]
    UnexpectedUnit { expected: u8, found: u8 },
    #[error("answer with function {found:#04x}, expected {expected:#04x}")]
    UnexpectedFunction { expected: u8, found: u8 },
    #[error("byte count {found}, expected {expected}")]
    ByteCount { expected: u8, found: u8 },
    #[error("write echo differs from the request")]
    EchoMismatch,
    #[error("function {0:#04x} is not supported")]
    UnsupportedFunction(u8),
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
}

/// What a Modbus exchange can end in, after the transport's retries.
#[derive(Debug, thiserror::Error)]
pub enum ModbusError {
    /// Bytes that cannot be the answer (CRC error, garbage, another unit's answer).
    #[error("bad frame: {0}")]
    Frame(#[from] FrameError),
    /// Nothing complete arrived within the per-request timeout.
    #[error("no complete answer within {0:?}")]
    Timeout(Duration),
    /// The device answered with an exception: it understood and refused.
    #[error("device refused function {function:#04x}: exception {code}")]
    Exception { function: u8, code: ExceptionCode },
    /// Every attempt went unanswered: the line or the device is gone.
    #[error("serial line dead: {attempts} attempt(s) without an answer (last: {last})")]
    LineDead {
        attempts: u32,
        last: Box<ModbusError>,
    },
    /// Every attempt failed, some with answers that were not valid frames.
    #[error("no valid answer after {attempts} attempt(s) (last: {last})")]
    RetriesExhausted {
        attempts: u32,
        last: Box<ModbusError>,
    },
    /// The byte stream ended (the port was closed).
    #[error("the line was closed")]
    Closed,
    #[error("i/o error on the line: {0}")]
    Io(#[from] std::io::Error),
}

impl ModbusError {
    /// Whether the failure leaves open whether the device executed the request: no answer, or an
    /// answer that could not be read. A write that ends so may have taken effect.
    pub fn outcome_unknown(&self) -> bool {
        !matches!(self, Self::Exception { .. })
    }

    /// Whether this is (or ended in) a dead line.
    pub fn is_line_dead(&self) -> bool {
        matches!(self, Self::LineDead { .. })
    }
}
