//! Simulated-world benchmarks: every planner searches a world's recipe pool (precursor set ×
//! temperature × dwell × atmosphere for a powder world, source powers × anneal for a film
//! world) until a sample meets the world's goal. The world is behind [`SynthesisWorld`], which
//! the binary implements with `athanor-sim` (this crate stays pure). Scalar planners see the
//! goal phase's weight fraction only, after two random starts that count; the
//! characterization-aware planner (powder: [`SynthesisPlanner`], film: [`FilmPlanner`]) sees
//! every phase above the detection limit and may use what the world states of its chemistry
//! (reaction energies, the phases' compositions) as priors. Every experiment counts, the one
//! that meets the goal included.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::Value;

use std::collections::BTreeMap;

use athanor_core::Parameters;

use super::pool_protocol::initial_rows;
use super::stats::Spread;
use crate::error::Result;
use crate::film::{FilmCandidate, FilmPlanner, PhaseComposition};
use crate::observation::{Observation, PhaseAmount};
use crate::planner::Planner;
use crate::pool::PoolPlanner;
use crate::solid_state::{SynthesisCandidate, SynthesisPlanner};

/// Phases below this weight fraction are not reported (a diffraction detection limit).
pub const DETECTION_LIMIT: f64 = 0.01;

/// Planners of the world benchmarks: a few scalar baselines and the characterization-aware one.
pub const WORLD_PLANNERS: [&str; 4] = ["random", "gp-ard-ei", "athanor-gp", "athanor-research"];

/// One recipe of a world's pool. Two recipes of a pool differ in precursors, temperature or
/// conditions (the planners tell them apart by these alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub precursors: Vec<String>,
    pub temperature_c: f64,
    /// Atmosphere, dwell, … by name.
    pub conditions: Vec<(String, Value)>,
}

/// A world a benchmark can run experiments in.
pub trait SynthesisWorld {
    fn name(&self) -> &str;
    /// The goal phase and the weight fraction that meets the goal.
    fn goal(&self) -> (String, f64);
    /// Each recipe of the pool scaled to [0, 1] features, for scalar planners.
    fn features(&self) -> &[Vec<f64>];
    /// The phases (name, weight fraction) of recipe `index` made with sample seed `seed`.
    fn run(&self, index: usize, seed: u64) -> Vec<(String, f64)>;
    /// The characterization-aware planner over the recipes in `order` (indices into the pool),
    /// with the parameters it names each of them by, in that order.
    fn research_planner(&self, order: &[usize]) -> Result<(Box<dyn Planner>, Vec<Parameters>)>;
}

/// The characterization-aware planner of a powder world: `energies` are (precursor set,
/// reaction energy to the goal in meV/atom) the world states.
pub fn powder_research_planner(
    goal: &(String, f64),
    recipes: &[Recipe],
    energies: &[(Vec<String>, f64)],
    order: &[usize],
) -> (Box<dyn Planner>, Vec<Parameters>) {
    let candidates: Vec<SynthesisCandidate> = order
        .iter()
        .map(|&i| {
            let r = &recipes[i];
            SynthesisCandidate {
                precursors: r.precursors.clone(),
                temperature_c: r.temperature_c,
                conditions: r.conditions.iter().cloned().collect(),
            }
        })
        .collect();
    let names = candidates
        .iter()
        .map(SynthesisCandidate::parameters)
        .collect();
    let planner = SynthesisPlanner::new(&goal.0, goal.1, candidates, energies);
    (Box::new(planner), names)
}

/// The characterization-aware planner of a film world of `metals`, whose phases have the
/// compositions `phases`.
pub fn film_research_planner(
    goal: &(String, f64),
    metals: [String; 2],
    phases: BTreeMap<String, PhaseComposition>,
    recipes: &[FilmCandidate],
    order: &[usize],
) -> Result<(Box<dyn Planner>, Vec<Parameters>)> {
    let candidates: Vec<FilmCandidate> = order.iter().map(|&i| recipes[i].clone()).collect();
    let planner = FilmPlanner::new(metals, &goal.0, goal.1, phases, candidates.clone())?;
    let names = candidates.iter().map(|c| planner.parameters(c)).collect();
    Ok((Box::new(planner), names))
}

/// Per planner: experiments to the goal over seeds.
#[derive(Debug, Clone, Serialize)]
pub struct WorldSummary {
    pub planner: String,
    /// Experiments until the goal was met; a seed that never met it within the budget counts
    /// as budget + 1.
    pub experiments_to_goal: Spread,
    pub goal_reached_share: f64,
    pub per_seed: Vec<Option<usize>>,
}

/// What the JSON reports per planner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WorldResult {
    pub experiments_to_goal_median: f64,
    pub goal_reached_share: f64,
}

impl WorldSummary {
    pub fn result(&self) -> WorldResult {
        WorldResult {
            experiments_to_goal_median: self.experiments_to_goal.median,
            goal_reached_share: self.goal_reached_share,
        }
    }
}

fn sample_seed(seed: u64, experiment: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ experiment as u64
}

fn fraction_of(phases: &[(String, f64)], phase: &str) -> f64 {
    phases
        .iter()
        .filter(|(p, _)| p == phase)
        .map(|(_, f)| f)
        .sum()
}

/// Experiments a scalar strategy needs (None: not within `budget`).
fn scalar_run(
    world: &dyn SynthesisWorld,
    planner: &str,
    seed: u64,
    budget: usize,
) -> Option<usize> {
    let strategy = super::scalar_planner(planner)?;
    let (goal, min) = world.goal();
    let x = world.features();
    let mut pool = PoolPlanner::new(strategy, seed);
    let mut n = 0;
    let mut next: Vec<usize> = initial_rows(x.len(), seed);
    loop {
        let i = match next.pop() {
            Some(i) => i,
            None => pool.ask(x, 1).ok()?.into_iter().next()?.index,
        };
        n += 1;
        let f = fraction_of(&world.run(i, sample_seed(seed, n)), &goal);
        if f >= min {
            return Some(n);
        }
        if n >= budget {
            return None;
        }
        pool.tell(i, f);
    }
}

/// Experiments the characterization-aware planner needs (None: not within `budget`).
fn research_run(world: &dyn SynthesisWorld, seed: u64, budget: usize) -> Option<usize> {
    let (goal, min) = world.goal();
    // The seed orders the candidates, which decides ties only.
    let mut order: Vec<usize> = (0..world.features().len()).collect();
    rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut ChaCha8Rng::seed_from_u64(seed));
    let (mut planner, names) = world.research_planner(&order).ok()?;
    for n in 1..=budget {
        let p = planner.ask(1).ok()?.into_iter().next()?;
        let slot = names.iter().position(|c| *c == p.parameters)?;
        let phases = world.run(order[slot], sample_seed(seed, n));
        if fraction_of(&phases, &goal) >= min {
            return Some(n);
        }
        let observation = Observation {
            parameters: p.parameters,
            phases: phases
                .into_iter()
                .filter(|(_, f)| *f >= DETECTION_LIMIT)
                .map(|(phase, weight_fraction)| PhaseAmount {
                    phase,
                    weight_fraction,
                })
                .collect(),
            ..Observation::default()
        };
        planner.tell(observation).ok()?;
    }
    None
}

/// How many recipes of the pool meet the goal for sample seed 0: a world's difficulty (random
/// search needs about (pool + 1) / (this + 1) experiments).
pub fn recipes_meeting_goal(world: &dyn SynthesisWorld) -> usize {
    let (goal, min) = world.goal();
    (0..world.features().len())
        .filter(|&i| fraction_of(&world.run(i, 0), &goal) >= min)
        .count()
}

/// Runs `planner` on `world` over `seeds` seeds with at most `budget` experiments each.
pub fn run_world(
    world: &dyn SynthesisWorld,
    planner: &str,
    seeds: u64,
    budget: usize,
) -> WorldSummary {
    let per_seed: Vec<Option<usize>> = (0..seeds)
        .map(|seed| match planner {
            "athanor-research" => research_run(world, seed, budget),
            other => scalar_run(world, other, seed, budget),
        })
        .collect();
    let counts: Vec<f64> = per_seed
        .iter()
        .map(|r| r.map_or(budget as f64 + 1.0, |n| n as f64))
        .collect();
    WorldSummary {
        planner: planner.to_owned(),
        experiments_to_goal: Spread::of(&counts),
        goal_reached_share: per_seed.iter().filter(|r| r.is_some()).count() as f64
            / per_seed.len().max(1) as f64,
        per_seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A constructed world: sets A+B and C+D at 600/900 °C in air or O2; only C+D at 900 °C
    /// in O2 meets the goal; A+B always makes the trap AB; C+D in air makes CD only partly.
    struct Toy {
        recipes: Vec<Recipe>,
        features: Vec<Vec<f64>>,
    }

    impl Toy {
        fn new() -> Self {
            let (mut recipes, mut features) = (Vec::new(), Vec::new());
            for (s, set) in [vec!["A", "B"], vec!["C", "D"]].into_iter().enumerate() {
                for t in [600.0, 900.0] {
                    for (a, atm) in ["air", "O2"].into_iter().enumerate() {
                        recipes.push(Recipe {
                            precursors: set.iter().map(|p| (*p).to_owned()).collect(),
                            temperature_c: t,
                            conditions: vec![("atmosphere".into(), json!(atm))],
                        });
                        features.push(vec![s as f64, (t - 600.0) / 300.0, a as f64]);
                    }
                }
            }
            Self { recipes, features }
        }
    }

    impl SynthesisWorld for Toy {
        fn name(&self) -> &str {
            "toy"
        }
        fn goal(&self) -> (String, f64) {
            ("T".into(), 0.9)
        }
        fn features(&self) -> &[Vec<f64>] {
            &self.features
        }
        fn research_planner(&self, order: &[usize]) -> Result<(Box<dyn Planner>, Vec<Parameters>)> {
            Ok(powder_research_planner(
                &self.goal(),
                &self.recipes,
                &[],
                order,
            ))
        }
        fn run(&self, i: usize, _seed: u64) -> Vec<(String, f64)> {
            let r = &self.recipes[i];
            let o2 = r.conditions[0].1 == json!("O2");
            match (r.precursors[0].as_str(), r.temperature_c > 800.0, o2) {
                ("C", true, true) => vec![("T".into(), 0.95), ("C".into(), 0.05)],
                ("C", true, false) => vec![("T".into(), 0.5), ("X".into(), 0.5)],
                ("A", _, _) => vec![("AB".into(), 1.0)],
                _ => vec![("C".into(), 0.5), ("D".into(), 0.5)],
            }
        }
    }

    #[test]
    fn every_planner_reaches_the_goal_of_a_constructed_world_and_repeats_for_a_seed() {
        let toy = Toy::new();
        for planner in WORLD_PLANNERS {
            let a = run_world(&toy, planner, 4, 8);
            let b = run_world(&toy, planner, 4, 8);
            assert_eq!(
                a.per_seed, b.per_seed,
                "{planner}: deterministic for a seed"
            );
            assert_eq!(a.goal_reached_share, 1.0, "{planner}: {:?}", a.per_seed);
            assert!(a.per_seed.iter().all(|n| n.is_some_and(|n| n <= 8)));
        }
    }
}
