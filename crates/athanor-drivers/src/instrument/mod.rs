//! The instrument model: configuration files, limits, and one capability trait per class.
//!
//! - [`config`]: `config/instruments/*.toml` parsed into [`InstrumentConfig`] (pure parsing from
//!   strings; [`config::load_dir`] reads a directory for the daemon).
//! - [`limits`]: the instrument's hard limits and the checks every command passes before a byte
//!   is written.
//! - [`capability`]: what a furnace, a deposition tool, a diffractometer and a sample handler can
//!   be asked to do, with status and telemetry types.
//! - [`manual`]: a sample handler that is a person, whose transfers are confirmed through the API.

pub mod capability;
pub mod config;
pub mod limits;
pub mod manual;

pub use capability::*;
pub use config::{ConfigError, InstrumentConfig, InstrumentSet, Parity, SerialSettings, Transport};
pub use limits::{LimitViolation, Limits};
