//! Simulated-world benchmarks: a placeholder that refuses honestly until the simulated lab
//! exists. The file is checked to exist so that a typo is reported as such.

use std::path::Path;

use crate::error::{PlannerError, Result};

/// What a world benchmark would report per planner (kept for the JSON shape).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct WorldResult {
    pub experiments_to_goal_median: f64,
    pub goal_reached_share: f64,
}

/// Runs every planner on a world file: always [`PlannerError::SimulatedLabMissing`] for now
/// (or a read error when the file cannot be read).
pub fn run_world(path: &Path) -> Result<Vec<(String, WorldResult)>> {
    std::fs::metadata(path).map_err(|source| PlannerError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Err(PlannerError::SimulatedLabMissing {
        path: path.to_path_buf(),
    })
}
