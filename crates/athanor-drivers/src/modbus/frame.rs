//! Modbus RTU frames, sans-io: requests and responses to and from bytes.
//!
//! RTU has no length field and no delimiter other than line silence, so a response is cut out of
//! the byte stream by the length that the request it answers implies (8 bytes for a write echo,
//! 5 + 2·count for a register read, 5 for an exception). Decoding returns
//! [`Decoded::Incomplete`] until that many bytes are there; the transport handles silence.

use super::crc::{append_crc, crc16};
use super::FrameError;

/// Most registers one read may ask for (Modbus application protocol, 6.3/6.4).
pub const MAX_READ_REGISTERS: u16 = 125;
/// Most registers one write-multiple may carry (6.12).
pub const MAX_WRITE_REGISTERS: u16 = 123;

/// Function codes this codec speaks.
pub mod function {
    pub const READ_HOLDING: u8 = 0x03;
    pub const READ_INPUT: u8 = 0x04;
    pub const WRITE_SINGLE: u8 = 0x06;
    pub const WRITE_MULTIPLE: u8 = 0x10;
    /// Set on the function code of an exception response.
    pub const EXCEPTION_BIT: u8 = 0x80;
}

/// One request PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    ReadHolding { address: u16, count: u16 },
    ReadInput { address: u16, count: u16 },
    WriteSingle { address: u16, value: u16 },
    WriteMultiple { address: u16, values: Vec<u16> },
}

/// One response PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Answer to a read: the registers in order.
    Registers(Vec<u16>),
    /// Echo of a write-single.
    WroteSingle { address: u16, value: u16 },
    /// Echo of a write-multiple: start address and register count.
    WroteMultiple { address: u16, count: u16 },
    /// The device refused the request.
    Exception { function: u8, code: ExceptionCode },
}

/// Modbus exception codes (application protocol, section 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExceptionCode {
    IllegalFunction,
    IllegalDataAddress,
    IllegalDataValue,
    ServerDeviceFailure,
    Acknowledge,
    ServerDeviceBusy,
    MemoryParityError,
    GatewayPathUnavailable,
    GatewayTargetFailedToRespond,
    Other(u8),
}

impl ExceptionCode {
    pub fn from_byte(b: u8) -> Self {
        match b {
            1 => Self::IllegalFunction,
            2 => Self::IllegalDataAddress,
            3 => Self::IllegalDataValue,
            4 => Self::ServerDeviceFailure,
            5 => Self::Acknowledge,
            6 => Self::ServerDeviceBusy,
            8 => Self::MemoryParityError,
            0x0A => Self::GatewayPathUnavailable,
            0x0B => Self::GatewayTargetFailedToRespond,
            other => Self::Other(other),
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            Self::IllegalFunction => 1,
            Self::IllegalDataAddress => 2,
            Self::IllegalDataValue => 3,
            Self::ServerDeviceFailure => 4,
            Self::Acknowledge => 5,
            Self::ServerDeviceBusy => 6,
            Self::MemoryParityError => 8,
            Self::GatewayPathUnavailable => 0x0A,
            Self::GatewayTargetFailedToRespond => 0x0B,
            Self::Other(b) => b,
        }
    }

    /// Whether asking again later may succeed (the device said it is busy, not that it refuses).
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Acknowledge | Self::ServerDeviceBusy)
    }
}

impl std::fmt::Display for ExceptionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::IllegalFunction => "illegal function",
            Self::IllegalDataAddress => "illegal data address",
            Self::IllegalDataValue => "illegal data value",
            Self::ServerDeviceFailure => "server device failure",
            Self::Acknowledge => "acknowledge (busy with a long operation)",
            Self::ServerDeviceBusy => "server device busy",
            Self::MemoryParityError => "memory parity error",
            Self::GatewayPathUnavailable => "gateway path unavailable",
            Self::GatewayTargetFailedToRespond => "gateway target failed to respond",
            Self::Other(_) => "unknown exception",
        };
        write!(f, "{} ({name})", self.to_byte())
    }
}

/// The outcome of feeding bytes to a decoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole frame, and how many bytes of the input it took.
    Complete { frame: T, consumed: usize },
    /// Not enough bytes yet; at least `needed` bytes in total are required.
    Incomplete { needed: usize },
}

impl Request {
    pub fn function(&self) -> u8 {
        match self {
            Self::ReadHolding { .. } => function::READ_HOLDING,
            Self::ReadInput { .. } => function::READ_INPUT,
            Self::WriteSingle { .. } => function::WRITE_SINGLE,
            Self::WriteMultiple { .. } => function::WRITE_MULTIPLE,
        }
    }

    /// Whether the request changes the device (a write).
    pub fn is_write(&self) -> bool {
        matches!(self, Self::WriteSingle { .. } | Self::WriteMultiple { .. })
    }

    fn check(&self) -> Result<(), FrameError> {
        let fits = |address: u16, count: u16| u32::from(address) + u32::from(count) <= 0x1_0000;
        match self {
            Self::ReadHolding { address, count } | Self::ReadInput { address, count } => {
                if *count == 0 || *count > MAX_READ_REGISTERS || !fits(*address, *count) {
                    return Err(FrameError::InvalidRequest(
                        "read count must be 1..=125 within the address space",
                    ));
                }
            }
            Self::WriteSingle { .. } => {}
            Self::WriteMultiple { address, values } => {
                let n = u16::try_from(values.len()).unwrap_or(u16::MAX);
                if n == 0 || n > MAX_WRITE_REGISTERS || !fits(*address, n) {
                    return Err(FrameError::InvalidRequest(
                        "write count must be 1..=123 within the address space",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The RTU frame for this request to device `unit`, CRC included.
    pub fn encode(&self, unit: u8) -> Result<Vec<u8>, FrameError> {
        self.check()?;
        let mut f = vec![unit, self.function()];
        match self {
            Self::ReadHolding { address, count } | Self::ReadInput { address, count } => {
                f.extend_from_slice(&address.to_be_bytes());
                f.extend_from_slice(&count.to_be_bytes());
            }
            Self::WriteSingle { address, value } => {
                f.extend_from_slice(&address.to_be_bytes());
                f.extend_from_slice(&value.to_be_bytes());
            }
            Self::WriteMultiple { address, values } => {
                // check() bounds the length to 123, so these fit.
                let n = values.len() as u16;
                f.extend_from_slice(&address.to_be_bytes());
                f.extend_from_slice(&n.to_be_bytes());
                f.push((n * 2) as u8);
                for v in values {
                    f.extend_from_slice(&v.to_be_bytes());
                }
            }
        }
        append_crc(&mut f);
        Ok(f)
    }

    /// Length in bytes of a normal (non-exception) RTU response to this request.
    pub fn response_len(&self) -> usize {
        match self {
            Self::ReadHolding { count, .. } | Self::ReadInput { count, .. } => {
                5 + 2 * usize::from(*count)
            }
            Self::WriteSingle { .. } | Self::WriteMultiple { .. } => 8,
        }
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn check_crc(frame: &[u8]) -> Result<(), FrameError> {
    let n = frame.len() - 2;
    let expected = crc16(&frame[..n]);
    let found = u16::from_le_bytes([frame[n], frame[n + 1]]);
    if expected == found {
        Ok(())
    } else {
        Err(FrameError::Crc { expected, found })
    }
}

/// Cuts the response to `request` (sent to `unit`) out of the front of `buf`.
///
/// Errors mean the bytes cannot be the answer: wrong CRC, another unit, another function, or an
/// answer that contradicts the request (wrong byte count, a write echo that differs).
pub fn decode_response(
    unit: u8,
    request: &Request,
    buf: &[u8],
) -> Result<Decoded<Response>, FrameError> {
    // A request the protocol does not allow has no answer (and its expected length could wrap).
    request.check()?;
    if buf.len() < 2 {
        return Ok(Decoded::Incomplete {
            needed: 2.max(buf.len() + 1),
        });
    }
    let (u, f) = (buf[0], buf[1]);
    let want = request.function();
    let len = if f == want | function::EXCEPTION_BIT {
        5
    } else if f == want {
        request.response_len()
    } else {
        return Err(FrameError::UnexpectedFunction {
            expected: want,
            found: f,
        });
    };
    if f == want
        && matches!(
            request,
            Request::ReadHolding { .. } | Request::ReadInput { .. }
        )
        && buf.len() >= 3
    {
        let expected = (len - 5) as u8;
        if buf[2] != expected {
            return Err(FrameError::ByteCount {
                expected,
                found: buf[2],
            });
        }
    }
    if buf.len() < len {
        return Ok(Decoded::Incomplete { needed: len });
    }
    let frame = &buf[..len];
    check_crc(frame)?;
    if u != unit {
        return Err(FrameError::UnexpectedUnit {
            expected: unit,
            found: u,
        });
    }
    let response = if f & function::EXCEPTION_BIT != 0 {
        Response::Exception {
            function: want,
            code: ExceptionCode::from_byte(frame[2]),
        }
    } else {
        match request {
            Request::ReadHolding { .. } | Request::ReadInput { .. } => Response::Registers(
                frame[3..len - 2]
                    .chunks_exact(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect(),
            ),
            Request::WriteSingle { address, value } => {
                let (a, v) = (be16(frame, 2), be16(frame, 4));
                if (a, v) != (*address, *value) {
                    return Err(FrameError::EchoMismatch);
                }
                Response::WroteSingle {
                    address: a,
                    value: v,
                }
            }
            Request::WriteMultiple { address, values } => {
                let (a, n) = (be16(frame, 2), be16(frame, 4));
                if (a, usize::from(n)) != (*address, values.len()) {
                    return Err(FrameError::EchoMismatch);
                }
                Response::WroteMultiple {
                    address: a,
                    count: n,
                }
            }
        }
    };
    Ok(Decoded::Complete {
        frame: response,
        consumed: len,
    })
}

/// Cuts a request out of the front of `buf` (the device side; used by simulators and tests).
/// Returns the unit and the request.
pub fn decode_request(buf: &[u8]) -> Result<Decoded<(u8, Request)>, FrameError> {
    if buf.len() < 2 {
        return Ok(Decoded::Incomplete {
            needed: 2.max(buf.len() + 1),
        });
    }
    let f = buf[1];
    let len = match f {
        function::READ_HOLDING | function::READ_INPUT | function::WRITE_SINGLE => 8,
        function::WRITE_MULTIPLE => {
            if buf.len() < 7 {
                return Ok(Decoded::Incomplete { needed: 7 });
            }
            9 + usize::from(buf[6])
        }
        other => return Err(FrameError::UnsupportedFunction(other)),
    };
    if buf.len() < len {
        return Ok(Decoded::Incomplete { needed: len });
    }
    let frame = &buf[..len];
    check_crc(frame)?;
    let (address, word) = (be16(frame, 2), be16(frame, 4));
    let request = match f {
        function::READ_HOLDING => Request::ReadHolding {
            address,
            count: word,
        },
        function::READ_INPUT => Request::ReadInput {
            address,
            count: word,
        },
        function::WRITE_SINGLE => Request::WriteSingle {
            address,
            value: word,
        },
        _ => {
            if usize::from(frame[6]) != 2 * usize::from(word) {
                return Err(FrameError::ByteCount {
                    expected: (2 * u32::from(word)).min(255) as u8,
                    found: frame[6],
                });
            }
            let values = frame[7..len - 2]
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Request::WriteMultiple { address, values }
        }
    };
    request.check()?;
    Ok(Decoded::Complete {
        frame: (buf[0], request),
        consumed: len,
    })
}

/// The RTU frame of `response` from device `unit` to a request with function code `function`.
pub fn encode_response(unit: u8, function: u8, response: &Response) -> Result<Vec<u8>, FrameError> {
    let mut f = vec![unit];
    match response {
        Response::Registers(values) => {
            if values.is_empty() || values.len() > usize::from(MAX_READ_REGISTERS) {
                return Err(FrameError::InvalidRequest(
                    "a read answer carries 1..=125 registers",
                ));
            }
            f.push(function);
            f.push((values.len() * 2) as u8);
            for v in values {
                f.extend_from_slice(&v.to_be_bytes());
            }
        }
        Response::WroteSingle { address, value } => {
            f.push(function);
            f.extend_from_slice(&address.to_be_bytes());
            f.extend_from_slice(&value.to_be_bytes());
        }
        Response::WroteMultiple { address, count } => {
            f.push(function);
            f.extend_from_slice(&address.to_be_bytes());
            f.extend_from_slice(&count.to_be_bytes());
        }
        Response::Exception { code, .. } => {
            f.push(function | function::EXCEPTION_BIT);
            f.push(code.to_byte());
        }
    }
    append_crc(&mut f);
    Ok(f)
}
