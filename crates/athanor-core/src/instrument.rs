//! Instruments as the store knows them: id, class, transport and limits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;
use crate::ids::InstrumentId;
use crate::states::InstrumentState;

/// The capability class of an instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentClass {
    Furnace,
    DepositionTool,
    Diffractometer,
    SampleHandler,
}
crate::states::snake_case_names!(InstrumentClass {
    Furnace => "furnace", DepositionTool => "deposition_tool", Diffractometer => "diffractometer",
    SampleHandler => "sample_handler",
});

/// Hard limits of one instrument; no command may exceed them whatever the campaign allows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLimits {
    #[serde(default)]
    pub max_temperature_c: Option<f64>,
    #[serde(default)]
    pub max_ramp_c_per_min: Option<f64>,
    #[serde(default)]
    pub min_two_theta: Option<f64>,
    #[serde(default)]
    pub max_two_theta: Option<f64>,
}

impl InstrumentLimits {
    fn validate(&self) -> Result<(), ValidationError> {
        let positive = |name: &str, v: Option<f64>| match v {
            Some(x) if !(x.is_finite() && x > 0.0) => {
                Err(ValidationError::new(name, "must be a positive number"))
            }
            _ => Ok(()),
        };
        positive("max_temperature_c", self.max_temperature_c)?;
        positive("max_ramp_c_per_min", self.max_ramp_c_per_min)?;
        if let (Some(lo), Some(hi)) = (self.min_two_theta, self.max_two_theta) {
            if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi && hi < 180.0) {
                return Err(ValidationError::new(
                    "max_two_theta",
                    "2θ limits must satisfy 0 ≤ min < max < 180",
                ));
            }
        }
        Ok(())
    }
}

/// What an administrator supplies to register an instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstrument {
    pub id: InstrumentId,
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub class: InstrumentClass,
    /// How the daemon reaches it (`serial`, `mqtt`, `manual`) and the settings for that.
    #[schema(value_type = Object)]
    pub transport: serde_json::Value,
    #[serde(default)]
    pub limits: InstrumentLimits,
}

impl NewInstrument {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(ValidationError::new("name", "must be 1–200 characters"));
        }
        if !self.transport.is_object() {
            return Err(ValidationError::new(
                "transport",
                "must be an object such as {\"kind\": \"mqtt\"}",
            ));
        }
        self.limits.validate().map_err(|e| e.under("limits"))
    }
}

/// A stored instrument with its last known state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Instrument {
    pub id: InstrumentId,
    pub name: String,
    pub class: InstrumentClass,
    #[schema(value_type = Object)]
    pub transport: serde_json::Value,
    pub limits: InstrumentLimits,
    pub state: InstrumentState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
