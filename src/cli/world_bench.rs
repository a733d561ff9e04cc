//! A simulated world (athanor-sim) as the planners' benchmark sees it: its search space as a
//! pool of recipes with features, its goal, what it states of its chemistry (the reaction
//! energies toward the goal of a powder world, the phases' compositions of a film world), and
//! a sample's phases for a recipe.

use std::collections::BTreeMap;

use athanor_core::Parameters;
use athanor_planner::bench::worlds::{
    film_research_planner, powder_research_planner, Recipe, SynthesisWorld,
};
use athanor_planner::film::{FilmCandidate, PhaseComposition};
use athanor_planner::planner::Planner;
use athanor_sim::world::{Deposit, Formula, PhaseId};
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
    features: Vec<Vec<f64>>,
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
        let features = points
            .iter()
            .map(|p| {
                let mut f: Vec<f64> = (0..s.precursor_sets.len())
                    .map(|i| f64::from(u8::from(i == p.set)))
                    .collect();
                f.push(scaled(p.temperature_c, &s.temperatures_c));
                f.push(scaled(p.dwell_hours, &s.dwell_hours));
                f.extend((0..atmospheres.len()).map(|a| f64::from(u8::from(a == p.atmosphere))));
                f
            })
            .collect();
        let recipes = points
            .iter()
            .map(|p| {
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
                }
            })
            .collect();
        let mut pool = Self {
            name: name.to_owned(),
            world,
            points,
            recipes,
            features,
        };
        // Points index this list: a world without named atmospheres runs in its first one.
        pool.world.search_space.atmospheres = atmospheres;
        Some(pool)
    }

    fn goal_phase(&self) -> PhaseId {
        self.world.goal.phase
    }

    /// Energies of the world's reactions that make the goal's cation framework (the goal itself,
    /// or its oxygen-poorer form), by their solid reactants.
    pub fn energies(&self) -> Vec<(Vec<String>, f64)> {
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
}

fn goal_of(world: &World) -> (String, f64) {
    let g = &world.goal;
    (world.phases[g.phase].name.clone(), g.min_weight_fraction)
}

fn phases_of(
    outcome: Result<athanor_sim::world::Outcome, athanor_sim::world::WorldError>,
) -> Vec<(String, f64)> {
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

impl SynthesisWorld for WorldPool {
    fn name(&self) -> &str {
        &self.name
    }

    fn goal(&self) -> (String, f64) {
        goal_of(&self.world)
    }

    fn features(&self) -> &[Vec<f64>] {
        &self.features
    }

    fn run(&self, index: usize, seed: u64) -> Vec<(String, f64)> {
        let p = self.points[index];
        let atmosphere = &self.world.search_space.atmospheres[p.atmosphere];
        phases_of(
            self.world
                .powder_history(p.set, p.temperature_c, p.dwell_hours, atmosphere)
                .and_then(|h| self.world.run_powder(&h, seed)),
        )
    }

    fn research_planner(
        &self,
        order: &[usize],
    ) -> athanor_planner::Result<(Box<dyn Planner>, Vec<Parameters>)> {
        Ok(powder_research_planner(
            &self.goal(),
            &self.recipes,
            &self.energies(),
            order,
        ))
    }
}

/// Steps of the source-power grid of a film world: one source at its highest power, the other
/// at one of this many levels from zero to its highest (a composition spread across the
/// whole range).
const POWER_LEVELS: usize = 17;

/// A film world ready for the benchmark.
#[derive(Debug)]
pub struct FilmPool {
    name: String,
    world: World,
    metals: [String; 2],
    recipes: Vec<FilmCandidate>,
    features: Vec<Vec<f64>>,
}

impl FilmPool {
    /// The pool of a film world's search space; None for a powder world or one without a
    /// power range for each of its two sources.
    pub fn new(name: &str, world: World) -> Option<Self> {
        let film = world.film.as_ref()?;
        let metals = film.metals.map(|m| m.symbol().to_owned());
        let s = &world.search_space;
        let range = |metal: &str| {
            s.source_power_w
                .iter()
                .find(|(m, _)| m == metal)
                .map(|(_, r)| *r)
        };
        let ranges = [range(&metals[0])?, range(&metals[1])?];
        let level =
            |r: [f64; 2], i: usize| r[0] + (r[1] - r[0]) * i as f64 / (POWER_LEVELS - 1) as f64;
        let mut powers: Vec<[f64; 2]> = Vec::new();
        for i in 0..POWER_LEVELS {
            powers.push([ranges[0][1], level(ranges[1], i)]);
            powers.push([level(ranges[0], i), ranges[1][1]]);
        }
        powers.retain(|p| p[0] + p[1] > 0.0);
        powers.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
        powers.dedup();
        let mut recipes = Vec::new();
        let mut features = Vec::new();
        for p in &powers {
            for &t in &s.temperatures_c {
                for &d in &s.dwell_hours {
                    recipes.push(FilmCandidate {
                        powers: *p,
                        temperature_c: t,
                        dwell_hours: d,
                    });
                    features.push(vec![
                        scaled(p[0], &ranges[0]),
                        scaled(p[1], &ranges[1]),
                        scaled(t, &s.temperatures_c),
                        scaled(d, &s.dwell_hours),
                    ]);
                }
            }
        }
        Some(Self {
            name: name.to_owned(),
            world,
            metals,
            recipes,
            features,
        })
    }

    /// Every phase holding either metal, with its metal fraction and metal atoms per gram.
    fn phase_compositions(&self) -> BTreeMap<String, PhaseComposition> {
        let Some(film) = &self.world.film else {
            return BTreeMap::new();
        };
        self.world
            .phases
            .iter()
            .filter_map(|p| {
                let [a, b] = film.metals.map(|m| p.formula.amount_of(m));
                (a + b > 0.0).then(|| {
                    (
                        p.name.clone(),
                        PhaseComposition {
                            x: b / (a + b),
                            metal_mol_per_g: (a + b) / p.formula.molar_mass(),
                        },
                    )
                })
            })
            .collect()
    }
}

impl SynthesisWorld for FilmPool {
    fn name(&self) -> &str {
        &self.name
    }

    fn goal(&self) -> (String, f64) {
        goal_of(&self.world)
    }

    fn features(&self) -> &[Vec<f64>] {
        &self.features
    }

    fn run(&self, index: usize, seed: u64) -> Vec<(String, f64)> {
        let r = &self.recipes[index];
        let powers = self.metals.iter().cloned().zip(r.powers).collect();
        phases_of(
            self.world
                .film_history(
                    Deposit::SourcePowers(powers),
                    r.temperature_c,
                    r.dwell_hours,
                )
                .and_then(|h| self.world.run_film(&h, seed)),
        )
    }

    fn research_planner(
        &self,
        order: &[usize],
    ) -> athanor_planner::Result<(Box<dyn Planner>, Vec<Parameters>)> {
        film_research_planner(
            &self.goal(),
            self.metals.clone(),
            self.phase_compositions(),
            &self.recipes,
            order,
        )
    }
}

/// A world of either kind.
pub fn pool_of(name: &str, world: World) -> Option<Box<dyn SynthesisWorld + Send + Sync>> {
    if world.film.is_some() {
        FilmPool::new(name, world).map(|p| Box::new(p) as Box<dyn SynthesisWorld + Send + Sync>)
    } else {
        WorldPool::new(name, world).map(|p| Box::new(p) as Box<dyn SynthesisWorld + Send + Sync>)
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
                .recipes
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
                .features()
                .iter()
                .all(|f| f.iter().all(|x| (0.0..=1.0).contains(x))));
        }
        // LiMnTiO4 from the carbonate, the oxide and the hydroxide: energies for the goal.
        let limnti = WorldPool::new("limnti", world("limnti")).unwrap();
        assert!(limnti
            .energies()
            .iter()
            .any(|(set, e)| set.len() == 3 && *e < 0.0));
        assert!(WorldPool::new("znti-film", world("znti-film")).is_none());
        // The film world: a composition spread with one source at full power, the goal
        // (ZnTiO3, x = 1/2) among its phases, every feature scaled.
        let film = FilmPool::new("znti-film", world("znti-film")).unwrap();
        assert_eq!(film.recipes.len(), (2 * POWER_LEVELS - 1) * 7 * 2);
        assert!(film
            .features()
            .iter()
            .flatten()
            .all(|x| (0.0..=1.0).contains(x)));
        let phases = film.phase_compositions();
        assert_eq!(phases["ZnTiO3"].x, 0.5);
        assert_eq!(phases["rutile"].x, 1.0);
        assert!(FilmPool::new("limnti", world("limnti")).is_none());
    }
}
