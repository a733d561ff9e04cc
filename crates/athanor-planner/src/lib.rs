//! Athanor's planners: they propose the next experiments of a campaign from what earlier ones
//! showed.
//!
//! - [`planner::Planner`] is the ask/tell interface the campaign engine drives over stored
//!   observations (experiment parameters + analysed phases); [`space::SpacePlanner`] runs any
//!   scalar [`strategy::Strategy`] over a typed [`athanor_core::SearchSpace`].
//! - [`pool::PoolPlanner`] runs the same strategies over a finite candidate pool.
//! - Strategies: random, space-filling, Gaussian-process Bayesian optimisation ([`bo`]).
//! - [`solid_state`] is the characterization-aware planner for solid-state synthesis: it learns
//!   pairwise reactions from the phases seen, keeps explicit hypotheses with beliefs, and ranks
//!   precursor sets by the driving force they keep toward the target; [`film`] is its
//!   counterpart for co-deposited films (composition by mass balance over the phases seen,
//!   the lever-rule window of the target, the anneals it forms at).
//! - [`bench`] holds the benchmark protocols (pool-based BO benchmarks, the YBCO replay) and
//!   [`data`] the only I/O: loading those datasets.
//!
//! Everything is deterministic for a seed (ChaCha8).

pub mod acquisition;
pub mod bench;
pub mod bo;
pub mod data;
pub mod error;
pub mod film;
pub mod gp;
pub mod hypothesis;
pub mod observation;
pub mod planner;
pub mod pool;
pub mod sampling;
pub mod solid_state;
pub mod space;
pub mod strategy;
pub mod warp;

pub use error::{PlannerError, Result};
