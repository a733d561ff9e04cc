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
    /// Every phase as (name, weight fraction).
    pub fn phase_pairs(&self) -> Vec<(String, f64)> {
        self.phases
            .iter()
            .map(|p| (p.phase.clone(), p.weight_fraction))
            .collect()
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXP: &str = "01936b7e-0000-7000-8000-000000000001";
    const OTHER: &str = "01936b7e-0000-7000-8000-000000000002";

    fn experiment() -> Experiment {
        serde_json::from_value(json!({
            "id": EXP, "campaign_id": "01936b7e-0000-7000-8000-0000000000aa",
            "hypothesis_id": null, "sample_id": null,
            "parameters": {"precursors": ["BaO2", "CuO", "Y2O3"], "temperature_c": 900.0},
            "rationale": "", "predicted": null, "state": "completed",
            "created_at": "2026-11-25T00:00:00Z", "updated_at": "2026-11-25T00:00:00Z"
        }))
        .unwrap()
    }

    fn analysis(experiment: &str, result: serde_json::Value) -> Analysis {
        serde_json::from_value(json!({
            "id": "01936b7e-0000-7000-8000-0000000000bb",
            "measurement_id": "01936b7e-0000-7000-8000-0000000000cc",
            "experiment_id": experiment, "kind": "phase_identification",
            "result": result, "confidence": 0.9, "created_at": "2026-11-25T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn reads_phases_and_properties_of_its_own_experiment_only() {
        let analyses = [
            analysis(
                EXP,
                json!({"phases": [
                    {"id": "ybco", "formula": "Ba2YCu3O7", "weight_fraction": 0.8},
                    {"name": "BaCO3", "weight_fraction": 0.2}
                ], "properties": {"tc_k": 91.0}}),
            ),
            analysis(
                OTHER,
                json!({"phases": [{"formula": "CuO", "weight_fraction": 1.0}]}),
            ),
        ];
        let obs = Observation::from_records(&experiment(), &analyses);
        assert_eq!(obs.parameters["temperature_c"], json!(900.0));
        assert_eq!(obs.phases.len(), 2);
        assert_eq!(obs.fraction_of("Ba2YCu3O7"), 0.8);
        assert_eq!(obs.fraction_of("CuO"), 0.0);
        let pure = Goal::PhasePure {
            target_phase: "Ba2YCu3O7".into(),
            min_weight_fraction: 0.9,
        };
        assert_eq!(obs.scalar(&pure), Some(0.8));
        let tc = Goal::Property {
            property: "tc_k".into(),
            direction: Direction::Minimize,
            target: None,
        };
        assert_eq!(obs.scalar(&tc), Some(-91.0));
    }
}
