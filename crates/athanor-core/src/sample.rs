//! Samples: physical objects with an id, a location and a processing history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;
use crate::ids::{CampaignId, ExperimentId, SampleId};
use crate::states::SampleState;

/// What an operator supplies to register a sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSample {
    /// The label written on the crucible or substrate.
    #[schema(min_length = 1, max_length = 200)]
    pub label: String,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    #[serde(default)]
    pub experiment_id: Option<ExperimentId>,
    /// A named position (`rack-A/3`, `furnace-1`).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub location: Option<String>,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub notes: String,
}

impl NewSample {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.label.trim().is_empty() || self.label.chars().count() > 200 {
            return Err(ValidationError::new("label", "must be 1–200 characters"));
        }
        if let Some(loc) = &self.location {
            if loc.trim().is_empty() || loc.chars().count() > 200 {
                return Err(ValidationError::new(
                    "location",
                    "must be 1–200 characters when given",
                ));
            }
        }
        if self.notes.chars().count() > 10_000 {
            return Err(ValidationError::new(
                "notes",
                "must be at most 10000 characters",
            ));
        }
        Ok(())
    }
}

/// A stored sample. Its full processing history is the event log filtered by its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Sample {
    pub id: SampleId,
    pub label: String,
    pub campaign_id: Option<CampaignId>,
    pub experiment_id: Option<ExperimentId>,
    pub location: Option<String>,
    pub notes: String,
    pub state: SampleState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
