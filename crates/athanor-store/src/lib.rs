//! Athanor's persistence: SQLite (the embedded default) and PostgreSQL behind one API.
//!
//! Invariants:
//! - every state change goes through the record's state machine and is written in the same
//!   transaction as its event, so the event log and the records never disagree;
//! - the event log is append-only (the databases' triggers refuse updates and deletes);
//! - each public method is one transaction: it commits whole or changes nothing.

mod backend;
mod campaigns;
pub mod downsample;
mod error;
mod events;
mod experiments;
mod hypotheses;
mod instruments;
mod measurements;
pub use measurements::{NewAnalysis, NewMeasurement};
mod page;
mod query;
mod rows;
mod samples;
mod telemetry;
pub mod testing;
mod tokens;
mod transition;

pub use backend::{Backend, ConnectOptions, Store};
pub use error::{Result, StoreError};
pub use events::EventFilter;
pub use page::{Page, PageRequest};
pub use telemetry::{DownsampleStats, TelemetryRecord};
pub use tokens::{IssuedToken, TokenRecord};
