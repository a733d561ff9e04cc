//! The BO benchmarks over seeds: every planner on every pool, per-seed metrics, medians and
//! spreads, and the median Top% curve for the plots.

use serde::Serialize;

use super::pool_protocol::{metrics, run_pool, top_set, RunMetrics};
use super::stats::{quantile, Spread};
use crate::data::ScalarDataset;
use crate::strategy::Strategy;

/// One planner on one pool over all seeds.
#[derive(Debug, Clone, Serialize)]
pub struct PoolSummary {
    pub dataset: String,
    pub planner: String,
    pub pool_size: usize,
    pub top_size: usize,
    pub af_80: Spread,
    pub ef_50: Spread,
    pub experiments_to_80: Spread,
    /// Median share of the top set found after i + 1 experiments (a finished run keeps its
    /// last value: runs stop once 80 % is found and 50 experiments are done).
    pub top_curve: Vec<f64>,
    pub per_seed: Vec<RunMetrics>,
}

/// Runs `planner` (made fresh for each seed) on `dataset` for `seeds` seeds (0..seeds).
pub fn benchmark_pool(
    dataset: &ScalarDataset,
    planner: &str,
    make: &dyn Fn() -> Box<dyn Strategy>,
    seeds: u64,
) -> PoolSummary {
    let features = dataset.features();
    let values = dataset.maximised();
    let n = values.len();
    let m = top_set(&values).iter().filter(|t| **t).count();
    let runs: Vec<_> = (0..seeds)
        .map(|s| run_pool(&features, &values, make(), s))
        .collect();
    let per_seed: Vec<RunMetrics> = runs.iter().map(|r| metrics(r, n, m)).collect();
    let longest = runs.iter().map(|r| r.found.len()).max().unwrap_or(0);
    let top_curve = (0..longest)
        .map(|i| {
            let shares: Vec<f64> = runs
                .iter()
                .map(|r| r.found.get(i).or(r.found.last()).copied().unwrap_or(0) as f64 / m as f64)
                .collect();
            quantile(&shares, 0.5)
        })
        .collect();
    let pick = |f: fn(&RunMetrics) -> f64| Spread::of(&per_seed.iter().map(f).collect::<Vec<_>>());
    PoolSummary {
        dataset: dataset.name.clone(),
        planner: planner.to_owned(),
        pool_size: n,
        top_size: m,
        af_80: pick(|r| r.af_80),
        ef_50: pick(|r| r.ef_50),
        experiments_to_80: pick(|r| r.experiments_to_80 as f64),
        top_curve,
        per_seed,
    }
}
