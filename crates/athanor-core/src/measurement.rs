//! Measurements (raw instrument data) and analyses (what the characterization engine concluded).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{AnalysisId, ExperimentId, InstrumentId, MeasurementId, SampleId};

/// Raw data from an instrument: a diffraction pattern, a temperature trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Measurement {
    pub id: MeasurementId,
    pub experiment_id: Option<ExperimentId>,
    pub sample_id: Option<SampleId>,
    pub instrument_id: Option<InstrumentId>,
    /// `xrd_pattern`, `temperature_trace`, …
    pub kind: String,
    /// Acquisition settings and provenance.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// The data itself (for a pattern: `two_theta`, `intensity` arrays).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// What the engine concluded from one measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Analysis {
    pub id: AnalysisId,
    pub measurement_id: MeasurementId,
    pub experiment_id: Option<ExperimentId>,
    /// `phase_identification`, `refinement`, …
    pub kind: String,
    /// Phases, weight fractions, lattice parameters, fit quality, unexplained signal.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    /// Overall confidence between 0 and 1.
    pub confidence: Option<f64>,
    pub created_at: DateTime<Utc>,
}
