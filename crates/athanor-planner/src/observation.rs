//! What a planner learns from one experiment: its parameters and what the characterization
//! engine found (phases with weight fractions, and scalar properties), built from the store's
//! records so that the campaign engine can replay a campaign into a planner.

use std::collections::BTreeMap;

use athanor_core::{Analysis, Direction, Experiment, Goal, Parameters};
use serde::{Deserialize, Serialize};

/// One phase found in a sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseAmount {
    pub phase: String,
    pub weight_fraction: f64,
}

/// Parameters → outcome of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Observation {
    pub parameters: Parameters,
    /// Every phase the analysis reported, with its weight fraction.
    #[serde(default)]
    pub phases: Vec<PhaseAmount>,
    /// Scalar properties (a measured conductivity, a benchmark's objective).
    #[serde(default)]
    pub properties: BTreeMap<String, f64>,
}

impl Observation {
    /// The observation of a stored experiment from its analyses: phases are read from each
    /// analysis result's `phases` array (`formula`, else `name`, `id` or `phase`, with
    /// `weight_fraction`); numeric `properties` are read from a `properties` object.
    pub fn from_records(experiment: &Experiment, analyses: &[Analysis]) -> Self {
        let mut obs = Observation {
            parameters: experiment.parameters.clone(),
            ..Observation::default()
        };
        for a in analyses
            .iter()
            .filter(|a| a.experiment_id == Some(experiment.id))
        {
            if let Some(phases) = a.result.get("phases").and_then(|p| p.as_array()) {
                for p in phases {
                    let name = ["formula", "name", "id", "phase"]
                        .iter()
                        .find_map(|k| p.get(*k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()));
                    let fraction = p.get("weight_fraction").and_then(serde_json::Value::as_f64);
                    if let (Some(name), Some(fraction)) = (name, fraction) {
                        obs.phases.push(PhaseAmount {
                            phase: name.to_owned(),
                            weight_fraction: fraction,
                        });
                    }
                }
            }
            if let Some(props) = a.result.get("properties").and_then(|p| p.as_object()) {
                for (k, v) in props {
                    if let Some(x) = v.as_f64() {
                        obs.properties.insert(k.clone(), x);
                    }
                }
            }
        }
        obs
    }

    /// Weight fraction of `phase` (0 when absent).
    pub fn fraction_of(&self, phase: &str) -> f64 {
        self.phases
            .iter()
            .filter(|p| p.phase == phase)
            .map(|p| p.weight_fraction)
            .sum()
    }

    /// The scalar a scalar planner maximises for this goal: the target's weight fraction, or
    /// the property (negated when minimised). `None` when the property was not measured.
    pub fn scalar(&self, goal: &Goal) -> Option<f64> {
        match goal {
            Goal::PhasePure { target_phase, .. } => Some(self.fraction_of(target_phase)),
            Goal::Property {
                property,
                direction,
                ..
            } => self.properties.get(property).map(|v| match direction {
                Direction::Maximize => *v,
                Direction::Minimize => -*v,
            }),
        }
    }
}
