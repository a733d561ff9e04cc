//! A simulated world (athanor-sim) as the planners' benchmark sees it: its search space as a
//! pool of recipes with features, its goal, the reaction energies it knows toward the goal, and
//! a sample's phases for a recipe. Powder worlds only; a film world's recipes are source powers,
//! which the synthesis planners do not take.

use athanor_planner::bench::worlds::{Recipe, SynthesisWorld};
use athanor_sim::world::{Formula, PhaseId};
use athanor_sim::World;
use serde_json::json;

/// One recipe: indices into the search space.
#[derive(Debug, Clone, Copy)]
struct Point {
    set: usize,
    temperature_c: f64,
    dwell_hours: f64,
    atmosphere: usize,
}

/// A powder world ready for the benchmark.
#[derive(Debug)]
pub struct WorldPool {
    name: String,
    world: World,
    points: Vec<Point>,
    recipes: Vec<Recipe>,
}

fn scaled(v: f64, all: &[f64]) -> f64 {
    let (lo, hi) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(*x), h.max(*x))
        });
    if hi > lo {
        (v - lo) / (hi - lo)
    } else {
        0.5
    }
}

/// Whether two formulas hold the same non-oxygen elements in the same ratios.
fn same_cations(a: &Formula, b: &Formula) -> bool {
    let cations = |f: &Formula| -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = f
            .amounts()
            .iter()
            .filter(|(e, _)| e.symbol() != "O")
            .map(|(e, n)| (e.symbol().to_owned(), *n))
            .collect();
        v.sort_by(|x, y| x.0.cmp(&y.0));
        let total: f64 = v.iter().map(|x| x.1).sum();
        v.iter_mut().for_each(|x| x.1 /= total.max(1e-12));
        v
    };
    let (ca, cb) = (cations(a), cations(b));
    ca.len() == cb.len()
        && ca
            .iter()
            .zip(&cb)
            .all(|(x, y)| x.0 == y.0 && (x.1 - y.1).abs() < 1e-6)
}

impl WorldPool {
    /// The pool of a powder world's search space; None for a film world.
    pub fn new(name: &str, world: World) -> Option<Self> {
        let s = &world.search_space;
        if world.film.is_some() || s.precursor_sets.is_empty() {
            return None;
        }
        let atmospheres: Vec<String> = if s.atmospheres.is_empty() {
            world.atmospheres.keys().take(1).cloned().collect()
        } else {
            s.atmospheres.clone()
        };
        let mut points = Vec::new();
        for set in 0..s.precursor_sets.len() {
            for &t in &s.temperatures_c {
                for &d in &s.dwell_hours {
                    for a in 0..atmospheres.len() {
                        points.push(Point {
                            set,
                            temperature_c: t,
                            dwell_hours: d,
                            atmosphere: a,
                        });
                    }
                }
            }
        }
        // Sets with the same precursors in other amounts (a lithium excess, say) are told
        // apart by their amounts, a condition of the recipe.
        let names: Vec<Vec<(String, f64)>> = s
            .precursor_sets
            .iter()
            .map(|set| world.named(set))
            .collect();
        let ambiguous = |i: usize| {
            let phases = |j: usize| names[j].iter().map(|(n, _)| n).collect::<Vec<_>>();
            (0..names.len()).any(|j| j != i && phases(j) == phases(i))
        };
        let recipes = points
            .iter()
            .map(|p| {
                let mut features: Vec<f64> = (0..s.precursor_sets.len())
                    .map(|i| f64::from(u8::from(i == p.set)))
                    .collect();
                features.push(scaled(p.temperature_c, &s.temperatures_c));
                features.push(scaled(p.dwell_hours, &s.dwell_hours));
                features
                    .extend((0..atmospheres.len()).map(|a| f64::from(u8::from(a == p.atmosphere))));
                let mut conditions = vec![
                    ("atmosphere".into(), json!(atmospheres[p.atmosphere])),
                    ("dwell_hours".into(), json!(p.dwell_hours)),
                ];
                if ambiguous(p.set) {
                    let amounts: serde_json::Map<String, serde_json::Value> = names[p.set]
                        .iter()
                        .map(|(n, x)| (n.clone(), json!(x)))
                        .collect();
                    conditions.push(("amounts".into(), amounts.into()));
                }
                Recipe {
                    precursors: names[p.set].iter().map(|(n, _)| n.clone()).collect(),
                    temperature_c: p.temperature_c,
                    conditions,
                    features,
                }
            })
            .collect();
        let mut pool = Self {
            name: name.to_owned(),
            world,
            points,
            recipes,
        };
        // Points index this list: a world without named atmospheres runs in its first one.
        pool.world.search_space.atmospheres = atmospheres;
        Some(pool)
    }

    fn goal_phase(&self) -> PhaseId {
        self.world.goal.phase
    }
}

impl SynthesisWorld for WorldPool {
    fn name(&self) -> &str {
        &self.name
    }

    fn goal(&self) -> (String, f64) {
        let g = &self.world.goal;
        (
            self.world.phases[g.phase].name.clone(),
            g.min_weight_fraction,
        )
    }

    fn recipes(&self) -> &[Recipe] {
        &self.recipes
    }

    /// Energies of the world's reactions that make the goal's cation framework (the goal itself,
    /// or its oxygen-poorer form), by their solid reactants.
    fn energies(&self) -> Vec<(Vec<String>, f64)> {
        let goal = &self.world.phases[self.goal_phase()].formula;
        self.world
            .processes
            .iter()
            .filter_map(|p| {
                let e = p.energy_mev_atom?;
                let makes_goal = p
                    .solids_out
                    .iter()
                    .any(|(id, _)| same_cations(&self.world.phases[*id].formula, goal));
                let from_goal = p
                    .solids_in
                    .iter()
                    .any(|(id, _)| same_cations(&self.world.phases[*id].formula, goal));
                (makes_goal && !from_goal).then(|| {
                    let set = p
                        .solids_in
                        .iter()
                        .map(|(id, _)| self.world.phases[*id].name.clone())
                        .collect();
                    (set, e)
                })
            })
            .collect()
    }

    fn run(&self, index: usize, seed: u64) -> Vec<(String, f64)> {
        let p = self.points[index];
        let atmosphere = &self.world.search_space.atmospheres[p.atmosphere];
        let outcome = self
            .world
            .powder_history(p.set, p.temperature_c, p.dwell_hours, atmosphere)
            .and_then(|h| self.world.run_powder(&h, seed));
        match outcome {
            Ok(o) => o
                .phases
                .into_iter()
                .map(|ph| (ph.name, ph.weight_fraction))
                .collect(),
            // A history the world refuses makes nothing (it cannot happen for its own space).
            Err(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(name: &str) -> World {
        let path = format!("{}/config/worlds/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        World::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn every_recipe_of_a_shipped_powder_world_is_told_apart_and_a_film_world_is_not_a_pool() {
        for name in ["limnti", "ybco"] {
            let pool = WorldPool::new(name, world(name)).unwrap();
            let keys: Vec<String> = pool
                .recipes()
                .iter()
                .map(|r| format!("{:?} {} {:?}", r.precursors, r.temperature_c, r.conditions))
                .collect();
            let mut unique = keys.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(
                unique.len(),
                keys.len(),
                "{name}: recipes the planners cannot tell apart"
            );
            assert!(pool
                .recipes()
                .iter()
                .all(|r| r.features.iter().all(|x| (0.0..=1.0).contains(x))));
        }
        // LiMnTiO4 from the carbonate, the oxide and the hydroxide: energies for the goal.
        let limnti = WorldPool::new("limnti", world("limnti")).unwrap();
        assert!(limnti
            .energies()
            .iter()
            .any(|(set, e)| set.len() == 3 && *e < 0.0));
        assert!(WorldPool::new("znti-film", world("znti-film")).is_none());
    }
}
