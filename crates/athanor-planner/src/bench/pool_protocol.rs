//! The pool-based protocol of Liang et al. (2021): search without replacement over a pool's
//! unique inputs, two random starts that count as experiments, "top" = the best 5 % of the pool
//! (rounded up), Top%(i) = share of the top set found after i experiments, per-seed
//! AF80 = ⌈0.8·N⌉ / experiments to find 80 % of the top set, EF50 = Top%(50) / (50/N).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::pool::PoolPlanner;
use crate::strategy::Strategy;

/// Share of the pool that makes up the top set.
pub const TOP_SHARE: f64 = 0.05;
/// Share of the top set that counts as reaching the goal for AF.
pub const GOAL_SHARE: f64 = 0.8;
/// Experiments at which EF is read.
pub const EF_AT: usize = 50;
/// Random starting experiments (they count).
pub const INITIAL: usize = 2;

/// Which pool rows are in the top set: the ⌈5 %·N⌉ largest values (ties to the lower index).
pub fn top_set(values: &[f64]) -> Vec<bool> {
    let m = (TOP_SHARE * values.len() as f64).ceil() as usize;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut top = vec![false; values.len()];
    for &i in order.iter().take(m) {
        top[i] = true;
    }
    top
}

/// One seed's run: the number of top rows found after each experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolRun {
    pub found: Vec<usize>,
    /// The rows tried, in order.
    pub order: Vec<usize>,
}

impl PoolRun {
    /// Experiments needed to find `count` top rows.
    pub fn experiments_to(&self, count: usize) -> Option<usize> {
        self.found.iter().position(|&f| f >= count).map(|i| i + 1)
    }
}

/// Per-seed metrics of one run on a pool of `n` rows with `m` top rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunMetrics {
    pub af_80: f64,
    pub ef_50: f64,
    pub experiments_to_80: usize,
}

/// Rows needed for the goal: ⌈0.8·m⌉.
pub fn goal_count(m: usize) -> usize {
    (GOAL_SHARE * m as f64 - 1e-9).ceil() as usize
}

pub fn metrics(run: &PoolRun, n: usize, m: usize) -> RunMetrics {
    let needed = goal_count(m);
    let to_80 = run.experiments_to(needed).unwrap_or(n);
    let random_to_80 = (GOAL_SHARE * n as f64).ceil();
    let found_50 = run.found.get(EF_AT.min(n) - 1).copied().unwrap_or(m) as f64;
    let top_50 = found_50 / m as f64;
    let random_50 = EF_AT.min(n) as f64 / n as f64;
    RunMetrics {
        af_80: random_to_80 / to_80 as f64,
        ef_50: top_50 / random_50,
        experiments_to_80: to_80,
    }
}

/// The two starting rows of a seed: the same for every planner, so that they compare on equal terms.
pub fn initial_rows(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA7A0);
    let mut rows: Vec<usize> = (0..n).collect();
    rows.shuffle(&mut rng);
    rows.truncate(INITIAL.min(n));
    rows
}

/// Runs `strategy` on the pool until 80 % of the top set is found and at least 50 experiments
/// (or the pool) are done.
pub fn run_pool(
    features: &[Vec<f64>],
    values: &[f64],
    strategy: Box<dyn Strategy>,
    seed: u64,
) -> PoolRun {
    let n = values.len();
    let top = top_set(values);
    let m = top.iter().filter(|t| **t).count();
    let needed = goal_count(m);
    let mut planner = PoolPlanner::new(strategy, seed);
    let mut run = PoolRun {
        found: Vec::new(),
        order: Vec::new(),
    };
    let mut found = 0;
    let mut record = |i: usize, planner: &mut PoolPlanner, run: &mut PoolRun| {
        planner.tell(i, values[i]);
        found += usize::from(top[i]);
        run.found.push(found);
        run.order.push(i);
    };
    for i in initial_rows(n, seed) {
        record(i, &mut planner, &mut run);
    }
    while run.order.len() < n
        && (run.found.last().copied().unwrap_or(0) < needed || run.order.len() < EF_AT)
    {
        let Ok(choices) = planner.ask(features, 1) else {
            break;
        };
        let Some(c) = choices.first() else { break };
        record(c.index, &mut planner, &mut run);
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::RandomStrategy;

    #[test]
    fn top_set_is_the_best_five_percent_rounded_up() {
        let v: Vec<f64> = (0..41).map(f64::from).collect();
        let top = top_set(&v);
        assert_eq!(top.iter().filter(|t| **t).count(), 3);
        assert!(top[40] && top[39] && top[38] && !top[37]);
    }

    #[test]
    fn metrics_follow_the_definitions() {
        // N = 100, m = 5, goal 4 rows; found at experiments 10, 20, 30, 40.
        let mut found = vec![0; 100];
        for (i, f) in found.iter_mut().enumerate() {
            *f = [10, 20, 30, 40, 90].iter().filter(|&&e| i + 1 >= e).count();
        }
        let run = PoolRun {
            found,
            order: (0..100).collect(),
        };
        let m = metrics(&run, 100, 5);
        assert_eq!(m.experiments_to_80, 40);
        assert!((m.af_80 - 80.0 / 40.0).abs() < 1e-12);
        assert!((m.ef_50 - (4.0 / 5.0) / 0.5).abs() < 1e-12);
    }

    #[test]
    fn random_runs_need_about_eighty_percent_of_the_pool() {
        let n = 200;
        let values: Vec<f64> = (0..n).map(|i| ((i * 37) % n) as f64).collect();
        let features: Vec<Vec<f64>> = (0..n).map(|i| vec![i as f64 / n as f64]).collect();
        let afs: Vec<f64> = (0..40)
            .map(|seed| {
                let run = run_pool(&features, &values, Box::new(RandomStrategy), seed);
                metrics(&run, n, 10).af_80
            })
            .collect();
        let median = super::super::stats::quantile(&afs, 0.5);
        assert!(
            (0.8..1.3).contains(&median),
            "median AF80 of random {median}"
        );
    }
}
