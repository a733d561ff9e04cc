//! Experiments (one planned synthesis + characterization of one sample) and their steps.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;
use crate::ids::{CampaignId, ExperimentId, HypothesisId, InstrumentId, SampleId, StepId};
use crate::space::{Parameter, SearchSpace};
use crate::states::{ExperimentState, StepState};

/// Parameter name → chosen value.
pub type Parameters = serde_json::Map<String, serde_json::Value>;

/// What a planner or an operator proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExperiment {
    /// One value for every parameter of the campaign's search space.
    #[schema(value_type = Object)]
    pub parameters: Parameters,
    /// Why this experiment, in words.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub rationale: String,
    /// The hypothesis this experiment tests, if any.
    #[serde(default)]
    pub hypothesis_id: Option<HypothesisId>,
    /// The outcome the proposer expects, with its uncertainty.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub predicted: Option<serde_json::Value>,
}

impl NewExperiment {
    /// Checks that every value lies inside the search space and nothing else is set.
    pub fn validate(&self, space: &SearchSpace) -> Result<(), ValidationError> {
        if self.rationale.chars().count() > 10_000 {
            return Err(ValidationError::new(
                "rationale",
                "must be at most 10000 characters",
            ));
        }
        for name in self.parameters.keys() {
            if space.get(name).is_none() {
                return Err(ValidationError::new(
                    format!("parameters.{name}"),
                    "is not a parameter of the campaign's search space",
                ));
            }
        }
        for p in &space.parameters {
            let field = format!("parameters.{}", p.name());
            let value = self
                .parameters
                .get(p.name())
                .ok_or_else(|| ValidationError::new(&field, "is missing"))?;
            check_value(p, value).map_err(|msg| ValidationError::new(&field, msg))?;
        }
        Ok(())
    }
}

fn check_value(p: &Parameter, v: &serde_json::Value) -> Result<(), String> {
    let in_range = |x: f64, lo: f64, hi: f64| {
        if (lo..=hi).contains(&x) {
            Ok(())
        } else {
            Err(format!("{x} lies outside [{lo}, {hi}]"))
        }
    };
    match p {
        Parameter::Continuous { low, high, .. }
        | Parameter::Temperature { low, high, .. }
        | Parameter::Time { low, high, .. } => {
            let x = v.as_f64().ok_or("must be a number")?;
            in_range(x, *low, *high)
        }
        Parameter::Integer { low, high, .. } => {
            let x = v.as_i64().ok_or("must be an integer")?;
            if (*low..=*high).contains(&x) {
                Ok(())
            } else {
                Err(format!("{x} lies outside [{low}, {high}]"))
            }
        }
        Parameter::Categorical { choices, .. } => {
            let s = v.as_str().ok_or("must be a string")?;
            if choices.iter().any(|c| c == s) {
                Ok(())
            } else {
                Err(format!("`{s}` is not one of {choices:?}"))
            }
        }
        Parameter::PrecursorSet {
            precursors, size, ..
        } => {
            let items = v.as_array().ok_or("must be an array of precursor names")?;
            if items.is_empty() || (*size > 0 && items.len() != *size) {
                return Err(format!(
                    "must name {} precursors",
                    if *size > 0 {
                        size.to_string()
                    } else {
                        "1 or more".into()
                    }
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for item in items {
                let s = item.as_str().ok_or("must be an array of precursor names")?;
                if !precursors.iter().any(|p| p == s) {
                    return Err(format!("`{s}` is not one of the campaign's precursors"));
                }
                if !seen.insert(s) {
                    return Err(format!("`{s}` is listed twice"));
                }
            }
            Ok(())
        }
    }
}

/// A stored experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Experiment {
    pub id: ExperimentId,
    pub campaign_id: CampaignId,
    pub hypothesis_id: Option<HypothesisId>,
    pub sample_id: Option<SampleId>,
    #[schema(value_type = Object)]
    pub parameters: Parameters,
    pub rationale: String,
    #[schema(value_type = Option<Object>)]
    pub predicted: Option<serde_json::Value>,
    pub state: ExperimentState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What kind of instrument action a step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Load,
    Heat,
    Deposit,
    Scan,
    Transfer,
    OperatorAction,
}
crate::states::snake_case_names!(StepKind {
    Load => "load", Heat => "heat", Deposit => "deposit", Scan => "scan", Transfer => "transfer",
    OperatorAction => "operator_action",
});

/// One instrument action of an experiment; a durable state machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Step {
    pub id: StepId,
    pub experiment_id: ExperimentId,
    /// Position within the experiment, from 0.
    pub seq: i32,
    pub kind: StepKind,
    pub instrument_id: Option<InstrumentId>,
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    pub state: StepState,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn space() -> SearchSpace {
        serde_json::from_value(json!({"parameters": [
            {"type": "temperature", "name": "T", "low": 600, "high": 950},
            {"type": "precursor_set", "name": "precursors", "precursors": ["Y2O3", "BaCO3", "CuO", "BaO2"], "size": 3},
            {"type": "integer", "name": "n", "low": 1, "high": 3}
        ]}))
        .unwrap()
    }

    fn proposal(params: serde_json::Value) -> NewExperiment {
        NewExperiment {
            parameters: params.as_object().unwrap().clone(),
            rationale: String::new(),
            hypothesis_id: None,
            predicted: None,
        }
    }

    #[test]
    fn values_inside_the_space_pass() {
        proposal(json!({"T": 900.0, "precursors": ["Y2O3", "BaCO3", "CuO"], "n": 2}))
            .validate(&space())
            .unwrap();
    }

    #[test]
    fn out_of_range_values_name_the_parameter() {
        let err = proposal(json!({"T": 1200.0, "precursors": ["Y2O3", "BaCO3", "CuO"], "n": 2}))
            .validate(&space())
            .unwrap_err();
        assert_eq!(err.field, "parameters.T");
        let err = proposal(json!({"T": 900.0, "precursors": ["Y2O3", "BaCO3", "Au"], "n": 2}))
            .validate(&space())
            .unwrap_err();
        assert_eq!(err.field, "parameters.precursors");
        let err = proposal(json!({"T": 900.0, "precursors": ["Y2O3", "BaCO3", "CuO"]}))
            .validate(&space())
            .unwrap_err();
        assert_eq!(err.field, "parameters.n");
        let err =
            proposal(json!({"T": 900.0, "precursors": ["Y2O3", "BaCO3", "CuO"], "n": 1, "x": 1}))
                .validate(&space())
                .unwrap_err();
        assert_eq!(err.field, "parameters.x");
    }
}
