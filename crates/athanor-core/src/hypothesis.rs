//! Hypotheses: falsifiable statements with a structured claim, a prior and a belief that evidence moves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;
use crate::ids::{CampaignId, HypothesisId};
use crate::states::HypothesisState;

/// The structured, testable content of a hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Claim {
    /// "`reactants` react to `products` between `min_temperature_c` and `max_temperature_c`".
    Reaction {
        reactants: Vec<String>,
        products: Vec<String>,
        #[serde(default)]
        min_temperature_c: Option<f64>,
        #[serde(default)]
        max_temperature_c: Option<f64>,
    },
    /// "In this region of parameter space, `phase` forms (or not)".
    PhaseRegion {
        phase: String,
        forms: bool,
        /// Parameter name → [low, high] bounds of the region.
        #[schema(value_type = Object)]
        region: std::collections::BTreeMap<String, [f64; 2]>,
    },
    /// A statement kept as text, for an operator's idea not yet put in structured form.
    Statement {},
}

/// Where a hypothesis came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Operator,
    Planner,
}

/// What an operator (or a planner) supplies to state a hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewHypothesis {
    /// The hypothesis in words, as an operator would read it.
    #[schema(min_length = 1, max_length = 2000)]
    pub statement: String,
    pub claim: Claim,
    /// Prior probability that the hypothesis holds (0–1, exclusive).
    #[schema(exclusive_minimum = 0.0, exclusive_maximum = 1.0)]
    pub prior: f64,
}

impl NewHypothesis {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.statement.trim().is_empty() || self.statement.chars().count() > 2000 {
            return Err(ValidationError::new(
                "statement",
                "must be 1–2000 characters",
            ));
        }
        if !(self.prior.is_finite() && self.prior > 0.0 && self.prior < 1.0) {
            return Err(ValidationError::new(
                "prior",
                "must lie strictly between 0 and 1",
            ));
        }
        match &self.claim {
            Claim::Reaction {
                reactants,
                products,
                min_temperature_c,
                max_temperature_c,
            } => {
                if reactants.is_empty() {
                    return Err(ValidationError::new(
                        "claim.reactants",
                        "must name at least one phase",
                    ));
                }
                if products.is_empty() {
                    return Err(ValidationError::new(
                        "claim.products",
                        "must name at least one phase",
                    ));
                }
                if let (Some(lo), Some(hi)) = (min_temperature_c, max_temperature_c) {
                    if lo > hi {
                        return Err(ValidationError::new(
                            "claim.max_temperature_c",
                            "must be at least min_temperature_c",
                        ));
                    }
                }
                Ok(())
            }
            Claim::PhaseRegion { phase, region, .. } => {
                if phase.trim().is_empty() {
                    return Err(ValidationError::new("claim.phase", "must name a phase"));
                }
                for (name, [lo, hi]) in region {
                    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                        return Err(ValidationError::new(
                            format!("claim.region.{name}"),
                            "must be [low, high] with low ≤ high",
                        ));
                    }
                }
                Ok(())
            }
            Claim::Statement {} => Ok(()),
        }
    }
}

/// A stored hypothesis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Hypothesis {
    pub id: HypothesisId,
    pub campaign_id: CampaignId,
    pub statement: String,
    pub claim: Claim,
    pub prior: f64,
    /// Current probability that the hypothesis holds, after the evidence so far.
    pub belief: f64,
    pub state: HypothesisState,
    pub origin: Origin,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prior_must_be_a_probability() {
        let h = NewHypothesis {
            statement: "x".into(),
            claim: Claim::Statement {},
            prior: 1.0,
        };
        assert_eq!(h.validate().unwrap_err().field, "prior");
    }

    #[test]
    fn reaction_claims_parse_from_json() {
        let h: NewHypothesis = serde_json::from_str(
            r#"{"statement":"BaCO3 + CuO forms BaCuO2 below 700 °C","prior":0.5,
                "claim":{"type":"reaction","reactants":["BaCO3","CuO"],"products":["BaCuO2"],"max_temperature_c":700}}"#,
        )
        .unwrap();
        h.validate().unwrap();
    }
}
