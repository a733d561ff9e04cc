//! Athanor's instrument layer: what each instrument class can do, how instruments are configured,
//! and the drivers that speak their wire protocols.
//!
//! - [`instrument`]: the capability model (one trait per class: furnace, deposition tool,
//!   diffractometer, sample handler), status, telemetry and limits, and the loader for
//!   `config/instruments/*.toml`.
//! - [`modbus`]: a sans-io Modbus RTU codec (bytes in, typed frames out) and an async transport
//!   over any `AsyncRead + AsyncWrite` with timeouts, bounded retries and a dead-line detector.
//! - [`eurotherm`]: a furnace driver for Eurotherm 3200/2400-style controllers whose register map
//!   and scaling come from config.
//!
//! Invariant: no command reaches an instrument before it has passed the instrument's limits.

pub mod eurotherm;
pub mod instrument;
pub mod modbus;
pub mod mqtt;
