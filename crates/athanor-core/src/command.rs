//! Commands: single messages to an instrument, each with an id so that a replay is never executed twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{CommandId, InstrumentId, StepId};
use crate::states::CommandState;

/// A stored command and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Command {
    pub id: CommandId,
    pub step_id: Option<StepId>,
    pub instrument_id: InstrumentId,
    /// The instrument action (`run_program`, `scan`, `move`, …).
    pub action: String,
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    /// After this instant the command must not be executed.
    pub deadline: Option<DateTime<Utc>>,
    pub state: CommandState,
    /// The controller's first result for this id.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
