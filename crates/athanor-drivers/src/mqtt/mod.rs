//! MQTT transport for instrument controllers: the contract of `docs/mqtt.md` in code.
//!
//! - [`topics`], [`messages`], [`chunks`]: pure (sans-io) topic names, typed messages and their
//!   JSON codec with the schema-version check, and large results cut into chunks and joined again.
//! - [`tracker`]: the daemon's command tracker, a state machine that returns what to record and
//!   publish (re-sends, queries, alarms) and never repeats a physical action.
//! - [`ledger`]: the controller's side (exactly once per command id), for simulated controllers.
//! - [`config`]: `[mqtt]` configuration: an external broker by URL, or the embedded one.
//! - [`broker`]: the embedded broker (rumqttd), loopback-only unless credentials are configured.
//! - [`client`]: the thin rumqttc event loop that feeds the tracker and the telemetry ingest.
//! - [`ingest`]: telemetry batched into the store, one transaction per batch.

pub mod broker;
pub mod chunks;
pub mod client;
pub mod config;
pub mod ingest;
pub mod ledger;
pub mod messages;
pub mod topics;
pub mod tracker;

pub use broker::EmbeddedBroker;
pub use client::{DriverEvent, MqttDriver, MqttHandle};
pub use config::{BrokerChoice, MqttConfig, MqttSection};
pub use ingest::{IngestConfig, TelemetryIngest};
pub use tracker::{CommandFailure, CommandOutcome, OutboundCommand, Tracker, TrackerConfig};

use athanor_core::CommandId;

/// Everything that can go wrong in the MQTT layer.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
    #[error("topic `{topic}` is not part of the contract: {reason}")]
    Topic { topic: String, reason: String },
    #[error("payload is not JSON: {0}")]
    NotJson(String),
    #[error("payload has no integer `v` (schema version)")]
    MissingVersion,
    #[error("schema version {found} is not supported (this daemon implements version 1)")]
    UnsupportedVersion { found: String },
    #[error("malformed {kind} message: {reason}")]
    Malformed { kind: &'static str, reason: String },
    #[error("payload of {size} bytes exceeds the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("chunked result of command {command_id}: {reason}")]
    Chunk {
        command_id: CommandId,
        reason: String,
    },
    #[error("command {command_id} cannot be sent: {reason}")]
    InvalidCommand {
        command_id: CommandId,
        reason: String,
    },
    #[error("config key `mqtt.{key}`: {message}")]
    Config { key: String, message: String },
    #[error("embedded broker: {0}")]
    Broker(String),
    #[error("MQTT client: {0}")]
    Client(String),
    #[error("recording a command state change failed: {0}")]
    Journal(String),
    #[error("the MQTT driver has stopped")]
    Stopped,
    #[error(transparent)]
    Store(#[from] athanor_store::StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl MqttError {
    pub(crate) fn config(key: &str, message: impl Into<String>) -> Self {
        MqttError::Config {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}
