//! Campaigns: a goal, a search space, a budget, a planner and safety limits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;
use crate::ids::CampaignId;
use crate::space::{validate_name, SearchSpace};
use crate::states::CampaignState;

/// What a campaign is trying to achieve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Goal {
    /// Make `target_phase` with a weight fraction of at least `min_weight_fraction` (0–1).
    PhasePure {
        #[schema(min_length = 1, max_length = 100)]
        target_phase: String,
        #[schema(minimum = 0.0, maximum = 1.0)]
        min_weight_fraction: f64,
    },
    /// Drive a measured property toward a target value.
    Property {
        property: String,
        direction: Direction,
        #[serde(default)]
        target: Option<f64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Maximize,
    Minimize,
}

impl Goal {
    fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Goal::PhasePure {
                target_phase,
                min_weight_fraction,
            } => {
                validate_name(target_phase)
                    .map_err(|e| ValidationError::new("target_phase", e.message))?;
                if !(0.0..=1.0).contains(min_weight_fraction) {
                    return Err(ValidationError::new(
                        "min_weight_fraction",
                        "must lie between 0 and 1",
                    ));
                }
                Ok(())
            }
            Goal::Property {
                property, target, ..
            } => {
                validate_name(property).map_err(|e| ValidationError::new("property", e.message))?;
                if target.is_some_and(|t| !t.is_finite()) {
                    return Err(ValidationError::new("target", "must be a finite number"));
                }
                Ok(())
            }
        }
    }
}

/// How much a campaign may spend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Experiments the campaign may run in all (1–100000).
    #[schema(minimum = 1, maximum = 100000)]
    pub max_experiments: u32,
}

/// Which planner proposes the experiments, with its seed and options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlannerSpec {
    /// Planner name (`random`, `sobol`, `gp-ei`, `research`, …).
    #[schema(min_length = 1, max_length = 100)]
    pub kind: String,
    #[serde(default)]
    pub seed: Option<u64>,
    /// Planner-specific options.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// Limits that no command of this campaign may exceed, on top of each instrument's own limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SafetyLimits {
    /// Highest furnace temperature in °C.
    #[schema(minimum = 0.0, maximum = 3000.0)]
    pub max_temperature_c: f64,
    /// Fastest heating or cooling ramp in °C per minute.
    #[schema(exclusive_minimum = 0.0, maximum = 1000.0)]
    pub max_ramp_c_per_min: f64,
    /// Longest dwell or run in minutes.
    #[serde(default)]
    pub max_duration_min: Option<f64>,
    /// Atmospheres that may be used (empty: any the instrument allows).
    #[serde(default)]
    pub allowed_atmospheres: Vec<String>,
}

impl SafetyLimits {
    fn validate(&self) -> Result<(), ValidationError> {
        if !(self.max_temperature_c.is_finite() && (0.0..=3000.0).contains(&self.max_temperature_c))
        {
            return Err(ValidationError::new(
                "max_temperature_c",
                "must lie between 0 and 3000 °C",
            ));
        }
        if !(self.max_ramp_c_per_min.is_finite()
            && self.max_ramp_c_per_min > 0.0
            && self.max_ramp_c_per_min <= 1000.0)
        {
            return Err(ValidationError::new(
                "max_ramp_c_per_min",
                "must lie in (0, 1000] °C/min",
            ));
        }
        if let Some(d) = self.max_duration_min {
            if !(d.is_finite() && d > 0.0) {
                return Err(ValidationError::new(
                    "max_duration_min",
                    "must be a positive number of minutes",
                ));
            }
        }
        Ok(())
    }
}

/// What an operator supplies to create a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaign {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub description: String,
    pub goal: Goal,
    pub search_space: SearchSpace,
    pub budget: Budget,
    pub planner: PlannerSpec,
    pub limits: SafetyLimits,
}

impl NewCampaign {
    /// Checks every field; the error names the first offending one by its JSON path.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(ValidationError::new("name", "must be 1–200 characters"));
        }
        if self.description.chars().count() > 10_000 {
            return Err(ValidationError::new(
                "description",
                "must be at most 10000 characters",
            ));
        }
        self.goal.validate().map_err(|e| e.under("goal"))?;
        self.search_space
            .validate()
            .map_err(|e| e.under("search_space"))?;
        if !(1..=100_000).contains(&self.budget.max_experiments) {
            return Err(ValidationError::new(
                "budget.max_experiments",
                "must lie between 1 and 100000",
            ));
        }
        validate_name(&self.planner.kind)
            .map_err(|e| ValidationError::new("planner.kind", e.message))?;
        self.limits.validate().map_err(|e| e.under("limits"))?;
        self.check_space_against_limits()
    }

    /// A search space that reaches beyond the campaign's own limits is a mistake, not a plan.
    fn check_space_against_limits(&self) -> Result<(), ValidationError> {
        for (i, p) in self.search_space.parameters.iter().enumerate() {
            if let crate::space::Parameter::Temperature { high, .. } = p {
                if *high > self.limits.max_temperature_c {
                    return Err(ValidationError::new(
                        format!("search_space.parameters[{i}].high"),
                        format!(
                            "exceeds limits.max_temperature_c ({} °C)",
                            self.limits.max_temperature_c
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Campaign {
    pub id: CampaignId,
    #[serde(flatten)]
    pub spec: NewCampaign,
    pub state: CampaignState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::space::Parameter;

    pub fn example() -> NewCampaign {
        NewCampaign {
            name: "YBCO from carbonates".into(),
            description: String::new(),
            goal: Goal::PhasePure {
                target_phase: "YBa2Cu3O7".into(),
                min_weight_fraction: 0.9,
            },
            search_space: SearchSpace {
                parameters: vec![Parameter::Temperature {
                    name: "T".into(),
                    low: 600.0,
                    high: 950.0,
                }],
            },
            budget: Budget {
                max_experiments: 40,
            },
            planner: PlannerSpec {
                kind: "random".into(),
                seed: Some(1),
                options: Default::default(),
            },
            limits: SafetyLimits {
                max_temperature_c: 1000.0,
                max_ramp_c_per_min: 10.0,
                max_duration_min: None,
                allowed_atmospheres: vec![],
            },
        }
    }

    #[test]
    fn example_is_valid() {
        example().validate().unwrap();
    }

    #[test]
    fn errors_name_nested_fields() {
        let mut c = example();
        c.limits.max_temperature_c = -5.0;
        assert_eq!(c.validate().unwrap_err().field, "limits.max_temperature_c");
        let mut c = example();
        c.goal = Goal::PhasePure {
            target_phase: "X".into(),
            min_weight_fraction: 1.5,
        };
        assert_eq!(c.validate().unwrap_err().field, "goal.min_weight_fraction");
        let mut c = example();
        c.budget.max_experiments = 0;
        assert_eq!(c.validate().unwrap_err().field, "budget.max_experiments");
    }

    #[test]
    fn search_space_cannot_exceed_the_campaign_limits() {
        let mut c = example();
        c.limits.max_temperature_c = 900.0;
        assert_eq!(
            c.validate().unwrap_err().field,
            "search_space.parameters[0].high"
        );
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let mut v = serde_json::to_value(example()).unwrap();
        v["colour"] = "blue".into();
        assert!(serde_json::from_value::<NewCampaign>(v).is_err());
    }
}
