//! The interface the campaign engine drives: `tell` each observation, `ask` for a batch of
//! proposals, read the hypotheses. A proposal carries its rationale and predicted outcome and
//! becomes a [`NewExperiment`] record as it is.

use athanor_core::{NewExperiment, NewHypothesis, Parameters};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::observation::Observation;

/// The outcome a planner expects from a proposal, with its uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// What is predicted (`target_fraction`, `P(success)`, a property name…).
    pub quantity: String,
    pub mean: f64,
    /// One standard deviation.
    pub sd: f64,
}

/// One proposed experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub parameters: Parameters,
    pub rationale: String,
    pub predicted: Option<Prediction>,
    /// Key of the planner hypothesis this experiment tests, if any (see [`HypothesisView`]).
    pub tests_hypothesis: Option<String>,
}

impl Proposal {
    /// The record the engine stores (the engine links `hypothesis_id` once the hypothesis is stored).
    pub fn to_new_experiment(&self) -> NewExperiment {
        NewExperiment {
            parameters: self.parameters.clone(),
            rationale: self.rationale.clone(),
            hypothesis_id: None,
            predicted: self
                .predicted
                .as_ref()
                .and_then(|p| serde_json::to_value(p).ok()),
        }
    }
}

/// A planner's hypothesis as the store and API hold it: a stable key, the record to create,
/// and the current belief after the evidence so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HypothesisView {
    pub key: String,
    pub record: NewHypothesis,
    pub belief: f64,
    /// Observations that moved the belief, in words.
    pub evidence: Vec<String>,
}

/// Ask/tell over observations. Implementations are deterministic for their seed.
pub trait Planner: std::fmt::Debug {
    fn name(&self) -> &str;
    /// Learns from one finished experiment.
    fn tell(&mut self, observation: Observation) -> Result<()>;
    /// Proposes up to `batch` new experiments.
    fn ask(&mut self, batch: usize) -> Result<Vec<Proposal>>;
    /// The planner's explicit hypotheses with their beliefs (none for a scalar planner).
    fn hypotheses(&self) -> Vec<HypothesisView> {
        Vec::new()
    }
}
