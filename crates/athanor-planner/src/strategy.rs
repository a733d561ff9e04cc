//! How a scalar planner picks among candidate points: the [`Strategy`] trait, shared by the
//! search-space mode (candidates sampled from the space) and the pool mode (candidates are the
//! untried rows of a finite pool), with the random and space-filling baselines.

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::sampling::farthest;

/// One chosen candidate, with what the strategy expects of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Index into the candidates.
    pub index: usize,
    /// Predicted objective (maximised) and its standard deviation, when the strategy has a model.
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub rationale: String,
}

/// A rule that picks `batch` distinct candidates given what has been observed. Observed values
/// are always to be maximised (a minimised objective is negated before it gets here).
pub trait Strategy: std::fmt::Debug + Send {
    /// Short stable name (`random`, `gp-ard-ei`, …).
    fn name(&self) -> &str;

    fn choose(
        &mut self,
        observed: &[Vec<f64>],
        values: &[f64],
        candidates: &[Vec<f64>],
        batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Choice>;
}

/// Uniformly random choice.
#[derive(Debug, Clone, Default)]
pub struct RandomStrategy;

impl Strategy for RandomStrategy {
    fn name(&self) -> &str {
        "random"
    }

    fn choose(
        &mut self,
        _: &[Vec<f64>],
        _: &[f64],
        candidates: &[Vec<f64>],
        batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Choice> {
        let mut idx: Vec<usize> = (0..candidates.len()).collect();
        idx.shuffle(rng);
        idx.into_iter()
            .take(batch)
            .map(|index| Choice {
                index,
                mean: None,
                sd: None,
                rationale: "uniformly random choice (baseline)".into(),
            })
            .collect()
    }
}

/// Greedy maximin: each pick is the candidate farthest from everything tried or already picked
/// (the first pick of an empty campaign is random).
#[derive(Debug, Clone, Default)]
pub struct SpaceFillingStrategy;

impl Strategy for SpaceFillingStrategy {
    fn name(&self) -> &str {
        "space-filling"
    }

    fn choose(
        &mut self,
        observed: &[Vec<f64>],
        _: &[f64],
        candidates: &[Vec<f64>],
        batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Choice> {
        let mut picked: Vec<usize> = Vec::new();
        while picked.len() < batch.min(candidates.len()) {
            let taken: Vec<&[f64]> = observed
                .iter()
                .map(Vec::as_slice)
                .chain(picked.iter().map(|&i| candidates[i].as_slice()))
                .collect();
            let next = if taken.is_empty() {
                let all: Vec<usize> = (0..candidates.len()).collect();
                all.choose(rng).copied()
            } else {
                farthest(candidates, &taken, |i| !picked.contains(&i))
            };
            let Some(i) = next else { break };
            picked.push(i);
        }
        picked
            .into_iter()
            .map(|index| Choice {
                index,
                mean: None,
                sd: None,
                rationale: "farthest from every point tried so far (space-filling maximin design)"
                    .into(),
            })
            .collect()
    }
}
