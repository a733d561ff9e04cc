//! The Modbus RTU master over any `AsyncRead + AsyncWrite` (a serial port, a pty, an in-memory
//! pipe): one request at a time, each with a timeout, bounded retries with exponential back-off,
//! and a dead-line detector.
//!
//! Before each request the transport waits for the line to fall silent for the RTU inter-frame
//! gap (3.5 characters) and discards what arrived meanwhile (late answers to earlier requests,
//! noise), so an answer is never matched to the wrong request.
//!
//! Retrying a write is safe only because writes carry absolute values (set point = 850 °C, never
//! "+10"); commands whose repetition would be a second physical action (start a program) are
//! guarded above this layer by reading the device's state first.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, timeout_at, Instant};

use super::frame::{decode_response, Decoded, Request, Response};
use super::{FrameError, ModbusError};

/// Timing and retry policy of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct RtuConfig {
    /// Longest wait for a complete answer to one request.
    pub timeout: Duration,
    /// Further attempts after the first (so `retries + 1` attempts in all).
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Longest pause between attempts.
    pub backoff_max: Duration,
    /// RTU inter-frame silence (t3.5).
    pub silence: Duration,
    /// Unanswered calls in a row after which the line counts as dead; a dead line gets one
    /// attempt per call (a probe) until it answers again.
    pub dead_after: u32,
}

impl RtuConfig {
    /// Defaults for a line at `baud`: t3.5 from the character time (11 bits a character), and
    /// 1.75 ms above 19200 baud, as the Modbus serial line specification fixes.
    pub fn for_baud(baud: u32) -> Self {
        let silence = if baud == 0 || baud > 19_200 {
            Duration::from_micros(1750)
        } else {
            Duration::from_micros((3.5 * 11.0 * 1e6 / f64::from(baud)).ceil() as u64)
        };
        Self {
            timeout: Duration::from_millis(500),
            retries: 2,
            backoff: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
            silence,
            dead_after: 1,
        }
    }

    fn backoff_for(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(self.backoff_max)
    }
}

/// Counters a status page or a test can read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineStats {
    pub requests: u64,
    pub attempts: u64,
    pub timeouts: u64,
    pub frame_errors: u64,
    pub exceptions: u64,
    pub discarded_bytes: u64,
}

/// A Modbus RTU master on one line, talking to one unit.
#[derive(Debug)]
pub struct RtuTransport<S> {
    io: S,
    unit: u8,
    config: RtuConfig,
    buf: Vec<u8>,
    silent_calls: u32,
    stats: LineStats,
}

enum Attempt {
    Answer(Response),
    Silent(ModbusError),
    Garbled(ModbusError),
}

impl<S: AsyncRead + AsyncWrite + Unpin> RtuTransport<S> {
    pub fn new(io: S, unit: u8, config: RtuConfig) -> Self {
        Self {
            io,
            unit,
            config,
            buf: Vec::with_capacity(256),
            silent_calls: 0,
            stats: LineStats::default(),
        }
    }

    pub fn unit(&self) -> u8 {
        self.unit
    }

    pub fn config(&self) -> &RtuConfig {
        &self.config
    }

    pub fn stats(&self) -> &LineStats {
        &self.stats
    }

    /// Whether the last calls went unanswered often enough to call the line dead.
    pub fn is_dead(&self) -> bool {
        self.silent_calls >= self.config.dead_after.max(1)
    }

    /// Hands back the byte stream.
    pub fn into_inner(self) -> S {
        self.io
    }

    /// Sends `request` and returns the device's answer. Exception answers are returned as
    /// [`ModbusError::Exception`] (after retrying the transient ones: busy, acknowledge).
    pub async fn call(&mut self, request: &Request) -> Result<Response, ModbusError> {
        let frame = request.encode(self.unit)?;
        self.stats.requests += 1;
        let attempts = if self.is_dead() {
            1
        } else {
            self.config.retries + 1
        };
        let mut all_silent = true;
        let mut last: Option<ModbusError> = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(self.config.backoff_for(attempt)).await;
            }
            self.stats.attempts += 1;
            match self.attempt(request, &frame).await {
                Attempt::Answer(Response::Exception { function, code }) => {
                    self.silent_calls = 0;
                    self.stats.exceptions += 1;
                    all_silent = false;
                    let err = ModbusError::Exception { function, code };
                    if !code.is_transient() {
                        return Err(err);
                    }
                    last = Some(err);
                }
                Attempt::Answer(response) => {
                    self.silent_calls = 0;
                    return Ok(response);
                }
                Attempt::Silent(err) => {
                    self.stats.timeouts += 1;
                    tracing::debug!(unit = self.unit, attempt, error = %err, "modbus: no answer");
                    last = Some(err);
                }
                Attempt::Garbled(err) => {
                    self.stats.frame_errors += 1;
                    all_silent = false;
                    tracing::debug!(unit = self.unit, attempt, error = %err, "modbus: bad answer");
                    last = Some(err);
                }
            }
        }
        let last = Box::new(last.unwrap_or(ModbusError::Timeout(self.config.timeout)));
        if all_silent {
            self.silent_calls = self.silent_calls.saturating_add(1);
            if self.is_dead() {
                tracing::warn!(unit = self.unit, attempts, "modbus: line dead");
            }
            Err(ModbusError::LineDead { attempts, last })
        } else {
            Err(ModbusError::RetriesExhausted { attempts, last })
        }
    }

    /// Reads holding registers.
    pub async fn read_holding(
        &mut self,
        address: u16,
        count: u16,
    ) -> Result<Vec<u16>, ModbusError> {
        match self.call(&Request::ReadHolding { address, count }).await? {
            Response::Registers(v) => Ok(v),
            _ => Err(ModbusError::Frame(FrameError::EchoMismatch)),
        }
    }

    /// Writes one register (function 06).
    pub async fn write_single(&mut self, address: u16, value: u16) -> Result<(), ModbusError> {
        self.call(&Request::WriteSingle { address, value })
            .await
            .map(|_| ())
    }

    /// Writes consecutive registers (function 16).
    pub async fn write_multiple(
        &mut self,
        address: u16,
        values: Vec<u16>,
    ) -> Result<(), ModbusError> {
        self.call(&Request::WriteMultiple { address, values })
            .await
            .map(|_| ())
    }

    async fn attempt(&mut self, request: &Request, frame: &[u8]) -> Attempt {
        if let Err(e) = self.await_silence().await {
            return Attempt::Silent(e);
        }
        if let Err(e) = self.io.write_all(frame).await {
            return Attempt::Silent(ModbusError::Io(e));
        }
        if let Err(e) = self.io.flush().await {
            return Attempt::Silent(ModbusError::Io(e));
        }
        let deadline = Instant::now() + self.config.timeout;
        self.buf.clear();
        let mut chunk = [0u8; 256];
        loop {
            match decode_response(self.unit, request, &self.buf) {
                Ok(Decoded::Complete { frame, .. }) => return Attempt::Answer(frame),
                Ok(Decoded::Incomplete { .. }) => {}
                Err(e) => return Attempt::Garbled(ModbusError::Frame(e)),
            }
            match timeout_at(deadline, self.io.read(&mut chunk)).await {
                Err(_) => {
                    return if self.buf.is_empty() {
                        Attempt::Silent(ModbusError::Timeout(self.config.timeout))
                    } else {
                        // A partial frame: the device started answering and stopped.
                        Attempt::Garbled(ModbusError::Timeout(self.config.timeout))
                    };
                }
                Ok(Ok(0)) => return Attempt::Silent(ModbusError::Closed),
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(e)) => return Attempt::Silent(ModbusError::Io(e)),
            }
        }
    }

    /// Waits until nothing has arrived for the inter-frame silence, discarding what does arrive;
    /// gives up waiting (and sends anyway) after one request timeout of continuous noise.
    async fn await_silence(&mut self) -> Result<(), ModbusError> {
        let give_up = Instant::now() + self.config.timeout;
        let mut chunk = [0u8; 256];
        while Instant::now() < give_up {
            match timeout(self.config.silence, self.io.read(&mut chunk)).await {
                Err(_) => return Ok(()),
                Ok(Ok(0)) => return Err(ModbusError::Closed),
                Ok(Ok(n)) => self.stats.discarded_bytes += n as u64,
                Ok(Err(e)) => return Err(ModbusError::Io(e)),
            }
        }
        Ok(())
    }
}
