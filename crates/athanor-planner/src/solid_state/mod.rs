//! The characterization-aware planner for solid-state synthesis: phases as compositions
//! ([`chemistry`]), pairwise reactions learned from intermediates ([`reactions`]), and the
//! planner that keeps hypotheses about temperatures and kinetic traps ([`planner`]).

pub mod chemistry;
pub mod planner;
pub mod reactions;

pub use planner::{SynthesisCandidate, SynthesisPlanner};
