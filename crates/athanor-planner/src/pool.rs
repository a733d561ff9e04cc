//! Pool mode: the planner chooses among the untried rows of a finite candidate pool (how the
//! recorded benchmarks are run, and how a lab with a fixed set of feasible recipes works).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{PlannerError, Result};
use crate::strategy::{Choice, Strategy};

/// A scalar planner over a pool of candidates given as feature vectors (scaled to [0, 1]).
#[derive(Debug)]
pub struct PoolPlanner {
    strategy: Box<dyn Strategy>,
    rng: ChaCha8Rng,
    tried: Vec<usize>,
    values: Vec<f64>,
}

impl PoolPlanner {
    pub fn new(strategy: Box<dyn Strategy>, seed: u64) -> Self {
        Self {
            strategy,
            rng: ChaCha8Rng::seed_from_u64(seed),
            tried: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        self.strategy.name()
    }

    /// Records the (maximised) value measured for pool row `index`.
    pub fn tell(&mut self, index: usize, value: f64) {
        self.tried.push(index);
        self.values.push(value);
    }

    /// Proposes up to `batch` untried rows of `pool`, as indices into it.
    pub fn ask(&mut self, pool: &[Vec<f64>], batch: usize) -> Result<Vec<Choice>> {
        let untried: Vec<usize> = (0..pool.len())
            .filter(|i| !self.tried.contains(i))
            .collect();
        if untried.is_empty() {
            return Err(PlannerError::PoolExhausted);
        }
        let candidates: Vec<Vec<f64>> = untried.iter().map(|&i| pool[i].clone()).collect();
        let observed: Vec<Vec<f64>> = self.tried.iter().map(|&i| pool[i].clone()).collect();
        let choices =
            self.strategy
                .choose(&observed, &self.values, &candidates, batch, &mut self.rng);
        Ok(choices
            .into_iter()
            .map(|c| Choice {
                index: untried[c.index],
                ..c
            })
            .collect())
    }
}
