//! The YBCO replay: planners may only choose (precursor set, temperature) rows that ARROWS ran;
//! the recorded analysis of a row is its outcome. A row is a success when the target is the only
//! product. Counted: experiments to the first success and to all of them. Scalar planners see
//! the target's weight fraction only, after two random starts; the characterization-aware
//! planner sees every phase and fraction, uses the reaction energies as priors, and has no
//! random starts. Every experiment counts.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::pool_protocol::initial_rows;
use super::stats::Spread;
use crate::data::SynthesisDataset;
use crate::observation::{Observation, PhaseAmount};
use crate::planner::Planner;
use crate::pool::PoolPlanner;
use crate::solid_state::chemistry::phase_key;
use crate::solid_state::{SynthesisCandidate, SynthesisPlanner};
use crate::strategy::Strategy;

/// Share of the target at which a row counts as phase-pure.
pub const PURE: f64 = 0.999;

/// Planners of the replay besides the scalar ones.
pub const REPLAY_PLANNERS: [&str; 3] = ["arrows-order", "rule-900c", "athanor-research"];

/// One seed's counts (None when never reached).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReplayRun {
    pub first_success: usize,
    pub all_success: usize,
}

/// One planner over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct ReplaySummary {
    pub planner: String,
    pub first_success: Spread,
    pub all_success: Spread,
    pub per_seed: Vec<ReplayRun>,
}

fn target_fraction(d: &SynthesisDataset, row: usize) -> f64 {
    let key = phase_key(&d.target);
    d.runs[row]
        .products
        .iter()
        .filter(|(p, _)| phase_key(p) == key)
        .map(|(_, f)| f)
        .sum()
}

/// Rows that are successes.
pub fn successes(d: &SynthesisDataset) -> Vec<bool> {
    (0..d.runs.len())
        .map(|i| target_fraction(d, i) >= PURE)
        .collect()
}

/// Counts of a run order.
pub fn count(order: &[usize], success: &[bool]) -> ReplayRun {
    let total = success.iter().filter(|s| **s).count();
    let mut found = 0;
    let mut first = order.len();
    let mut all = order.len();
    for (n, &i) in order.iter().enumerate() {
        if success[i] {
            found += 1;
            if found == 1 {
                first = n + 1;
            }
            if found == total {
                all = n + 1;
                break;
            }
        }
    }
    ReplayRun {
        first_success: first,
        all_success: all,
    }
}

/// Features of a row for scalar planners: one-hot precursors (by composition) and scaled temperature.
pub fn features(d: &SynthesisDataset) -> Vec<Vec<f64>> {
    let mut keys: Vec<String> = d
        .runs
        .iter()
        .flat_map(|r| r.precursors.iter().map(|p| phase_key(p)))
        .collect();
    keys.sort();
    keys.dedup();
    let (lo, hi) = d
        .runs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), r| {
            (l.min(r.temperature_c), h.max(r.temperature_c))
        });
    d.runs
        .iter()
        .map(|r| {
            let set: Vec<String> = r.precursors.iter().map(|p| phase_key(p)).collect();
            let mut f: Vec<f64> = keys
                .iter()
                .map(|k| f64::from(u8::from(set.contains(k))))
                .collect();
            f.push(if hi > lo {
                (r.temperature_c - lo) / (hi - lo)
            } else {
                0.5
            });
            f
        })
        .collect()
}

/// The order a scalar strategy runs the rows in (two random starts, then its choices).
pub fn scalar_order(d: &SynthesisDataset, strategy: Box<dyn Strategy>, seed: u64) -> Vec<usize> {
    let x = features(d);
    let success = successes(d);
    let total = success.iter().filter(|s| **s).count();
    let mut planner = PoolPlanner::new(strategy, seed);
    let mut order = Vec::new();
    let tell = |i: usize, planner: &mut PoolPlanner, order: &mut Vec<usize>| {
        planner.tell(i, target_fraction(d, i));
        order.push(i);
    };
    for i in initial_rows(d.runs.len(), seed) {
        tell(i, &mut planner, &mut order);
    }
    while order.iter().filter(|&&i| success[i]).count() < total {
        let Some(c) = planner.ask(&x, 1).ok().and_then(|c| c.into_iter().next()) else {
            break;
        };
        tell(c.index, &mut planner, &mut order);
    }
    order
}

/// ARROWS's own order (the order column).
pub fn arrows_order(d: &SynthesisDataset) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..d.runs.len()).collect();
    idx.sort_by_key(|&i| d.runs[i].order);
    idx
}

/// Only the hottest rows, in random order, then the rest in random order.
pub fn rule_order(d: &SynthesisDataset, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let top = d
        .runs
        .iter()
        .map(|r| r.temperature_c)
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut hot, mut rest): (Vec<usize>, Vec<usize>) =
        (0..d.runs.len()).partition(|&i| d.runs[i].temperature_c >= top);
    hot.shuffle(&mut rng);
    rest.shuffle(&mut rng);
    hot.extend(rest);
    hot
}

/// The characterization-aware planner's order. The seed shuffles the candidate list, which
/// only decides ties.
pub fn research_order(d: &SynthesisDataset, seed: u64) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..d.runs.len()).collect();
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let candidates: Vec<SynthesisCandidate> = rows
        .iter()
        .map(|&i| SynthesisCandidate::new(d.runs[i].precursors.clone(), d.runs[i].temperature_c))
        .collect();
    let mut planner = SynthesisPlanner::new(&d.target, PURE, candidates.clone(), &d.energies);
    let success = successes(d);
    let total = success.iter().filter(|s| **s).count();
    let mut order: Vec<usize> = Vec::new();
    while order.iter().filter(|&&i| success[i]).count() < total {
        let Some(p) = planner.ask(1).ok().and_then(|p| p.into_iter().next()) else {
            break;
        };
        let Some(slot) = candidates
            .iter()
            .position(|c| c.parameters() == p.parameters)
        else {
            break;
        };
        let row = rows[slot];
        let observation = Observation {
            parameters: p.parameters,
            phases: d.runs[row]
                .products
                .iter()
                .map(|(phase, f)| PhaseAmount {
                    phase: phase.clone(),
                    weight_fraction: *f,
                })
                .collect(),
            ..Observation::default()
        };
        if planner.tell(observation).is_err() {
            break;
        }
        order.push(row);
    }
    order
}

/// Runs one planner (a replay planner or a registered scalar one) over `seeds` seeds.
pub fn replay(d: &SynthesisDataset, planner: &str, seeds: u64) -> Option<ReplaySummary> {
    let success = successes(d);
    let per_seed: Vec<ReplayRun> = (0..seeds)
        .map(|seed| {
            let order = match planner {
                "arrows-order" => Some(arrows_order(d)),
                "rule-900c" => Some(rule_order(d, seed)),
                "athanor-research" => Some(research_order(d, seed)),
                other => super::scalar_planner(other).map(|s| scalar_order(d, s, seed)),
            }?;
            Some(count(&order, &success))
        })
        .collect::<Option<_>>()?;
    let pick = |f: fn(&ReplayRun) -> usize| {
        Spread::of(&per_seed.iter().map(|r| f(r) as f64).collect::<Vec<_>>())
    };
    Some(ReplaySummary {
        planner: planner.to_owned(),
        first_success: pick(|r| r.first_success),
        all_success: pick(|r| r.all_success),
        per_seed,
    })
}
