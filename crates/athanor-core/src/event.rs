//! The append-only event log: every state change, with who caused it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::CampaignId;

/// The kind of record an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Campaign,
    Hypothesis,
    Experiment,
    Sample,
    Step,
    Command,
    Measurement,
    Analysis,
    Instrument,
    Token,
}
crate::states::snake_case_names!(EntityKind {
    Campaign => "campaign", Hypothesis => "hypothesis", Experiment => "experiment", Sample => "sample",
    Step => "step", Command => "command", Measurement => "measurement", Analysis => "analysis",
    Instrument => "instrument", Token => "token",
});

/// An event before it is stored: the store gives it a sequence number and a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub campaign_id: Option<CampaignId>,
    pub entity: EntityKind,
    pub entity_id: String,
    /// `campaign.created`, `campaign.paused`, `experiment.completed`, …
    pub kind: String,
    /// Who caused it: a token's name, `planner`, `engine`, `system`.
    pub actor: String,
    pub payload: serde_json::Value,
}

/// A stored event. `seq` increases strictly in commit order within one database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub campaign_id: Option<CampaignId>,
    pub entity: EntityKind,
    pub entity_id: String,
    pub kind: String,
    pub actor: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}
