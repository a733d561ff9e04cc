//! From a world file to a validated [`World`]: every name resolved, every reaction balanced,
//! every library id found, every number in range; each refusal names its key. One submodule
//! per part of the file: phases, reactions, the film, the search space.

mod film;
mod phases;
mod reactions;
mod search;

use film::film;
pub(crate) use film::region_holds;
use phases::phase;
use reactions::{reaction, volatility};
use search::search_space;

use std::collections::BTreeMap;

use super::error::WorldError;
use super::formula::Formula;
use super::growth::Growth;
use super::kinetics::ZERO_CELSIUS;
use super::model::{Atmosphere, Gas, Goal, Phase, PhaseId, World};
use super::spec::{GrowthSpec, WorldSpec};

/// Built-in growth law when neither the phase nor the world gives one.
const DEFAULT_GROWTH: Growth = Growth {
    exponent: 3.0,
    prefactor: 1.0e9,
    activation_j_mol: 250e3,
};

/// Reads and validates a world file.
pub fn from_toml(text: &str) -> Result<World, WorldError> {
    let deserializer = toml::Deserializer::new(text);
    let spec: WorldSpec = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        WorldError::Parse {
            key: if key == "." { "(file)".into() } else { key },
            message: e.into_inner().message().trim().to_string(),
        }
    })?;
    build(spec)
}

/// Validates a parsed world file.
pub fn build(spec: WorldSpec) -> Result<World, WorldError> {
    if spec.name.trim().is_empty() {
        return Err(WorldError::invalid("name", "must not be empty"));
    }
    let world_growth = growth(&spec.growth, DEFAULT_GROWTH, "growth")?;
    let gases = gases(&spec.gases)?;
    let phases = spec
        .phases
        .iter()
        .map(|(name, p)| phase(name, p, world_growth, &gases))
        .collect::<Result<Vec<_>, _>>()?;
    let names = Names {
        phases: &phases,
        gases: &gases,
    };
    let atmospheres = atmospheres(&spec.atmospheres, &gases)?;
    let precursors = spec
        .precursors
        .iter()
        .enumerate()
        .map(|(i, p)| names.phase(p, &format!("precursors[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let k = &spec.kinetics;
    positive(k.time_step_s, "kinetics.time_step_s")?;
    non_negative(k.bep_alpha, "kinetics.bep_alpha")?;
    non_negative(k.min_activation_kj_mol, "kinetics.min_activation_kj_mol")?;
    let mut processes = Vec::new();
    for (i, r) in spec.reactions.iter().enumerate() {
        processes.push(reaction(r, &format!("reactions[{i}]"), &names, k)?);
    }
    for (i, v) in spec.volatility.iter().enumerate() {
        processes.push(volatility(v, &format!("volatility[{i}]"), &names)?);
    }
    non_negative(spec.noise.rate_scatter, "noise.rate_scatter")?;
    non_negative(spec.noise.size_scatter, "noise.size_scatter")?;
    let film = spec.film.as_ref().map(|f| film(f, &names)).transpose()?;
    let goal_phase = names.phase(&spec.goal.phase, "goal.phase")?;
    let g = spec.goal.min_weight_fraction;
    if !(g > 0.0 && g <= 1.0) {
        return Err(WorldError::invalid(
            "goal.min_weight_fraction",
            format!("{g} is not in (0, 1]"),
        ));
    }
    let goal = Goal {
        phase: goal_phase,
        min_weight_fraction: g,
    };
    let search_space = search_space(
        &spec.search_space,
        &names,
        &precursors,
        &atmospheres,
        film.as_ref(),
        goal_phase,
    )?;
    Ok(World {
        name: spec.name,
        description: spec.description,
        phases,
        gases,
        atmospheres,
        precursors,
        processes,
        time_step_s: k.time_step_s,
        rate_scatter: spec.noise.rate_scatter,
        size_scatter: spec.noise.size_scatter,
        film,
        goal,
        search_space,
    })
}

/// Name lookups with errors that name the key.
struct Names<'a> {
    phases: &'a [Phase],
    gases: &'a [Gas],
}

/// A species of a reaction: a solid phase or a gas.
enum Species {
    Solid(PhaseId),
    Gas(usize),
}

impl Names<'_> {
    fn phase(&self, name: &str, key: &str) -> Result<PhaseId, WorldError> {
        self.phases
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| WorldError::invalid(key, format!("no phase '{name}' in `phases`")))
    }

    fn species(&self, name: &str, key: &str) -> Result<Species, WorldError> {
        if let Some(i) = self.phases.iter().position(|p| p.name == name) {
            return Ok(Species::Solid(i));
        }
        if let Some(i) = self.gases.iter().position(|g| g.name == name) {
            return Ok(Species::Gas(i));
        }
        Err(WorldError::invalid(
            key,
            format!("'{name}' is neither a phase nor a gas of this world"),
        ))
    }

    fn formula(&self, s: &Species) -> &Formula {
        match *s {
            Species::Solid(i) => &self.phases[i].formula,
            Species::Gas(i) => &self.gases[i].formula,
        }
    }
}

/// `v` if it is finite and `ok`, else an error at `key` saying what it must be.
fn require(v: f64, ok: bool, key: &str, must: &str) -> Result<f64, WorldError> {
    if v.is_finite() && ok {
        Ok(v)
    } else {
        Err(WorldError::invalid(key, format!("{v} {must}")))
    }
}

fn positive(v: f64, key: &str) -> Result<f64, WorldError> {
    require(v, v > 0.0, key, "must be a positive number")
}

fn non_negative(v: f64, key: &str) -> Result<f64, WorldError> {
    require(v, v >= 0.0, key, "must not be negative")
}

/// A temperature in °C, returned in kelvin.
fn celsius(v: f64, key: &str) -> Result<f64, WorldError> {
    require(v, v > -ZERO_CELSIUS, key, "°C is not a temperature").map(|c| c + ZERO_CELSIUS)
}

fn formula(text: &str, key: &str) -> Result<Formula, WorldError> {
    Formula::parse(text).map_err(|e| WorldError::invalid(key, format!("'{text}': {e}")))
}

fn growth(spec: &GrowthSpec, base: Growth, key: &str) -> Result<Growth, WorldError> {
    let g = Growth {
        exponent: spec.exponent.unwrap_or(base.exponent),
        prefactor: spec.prefactor_nm_n_per_s.unwrap_or(base.prefactor),
        activation_j_mol: spec
            .activation_kj_mol
            .map_or(base.activation_j_mol, |q| q * 1e3),
    };
    if !(g.exponent.is_finite() && g.exponent >= 1.0) {
        return Err(WorldError::invalid(
            format!("{key}.exponent"),
            format!("{} must be at least 1", g.exponent),
        ));
    }
    non_negative(g.prefactor, &format!("{key}.prefactor_nm_n_per_s"))?;
    non_negative(g.activation_j_mol, &format!("{key}.activation_kj_mol"))?;
    Ok(g)
}

fn gases(spec: &BTreeMap<String, String>) -> Result<Vec<Gas>, WorldError> {
    spec.iter()
        .map(|(name, f)| {
            Ok(Gas {
                name: name.clone(),
                formula: formula(f, &format!("gases.{name}"))?,
            })
        })
        .collect()
}

fn atmospheres(
    spec: &BTreeMap<String, BTreeMap<String, f64>>,
    gases: &[Gas],
) -> Result<BTreeMap<String, Atmosphere>, WorldError> {
    let mut out = BTreeMap::new();
    for (name, pressures) in spec {
        let mut p = vec![0.0; gases.len()];
        for (gas, value) in pressures {
            let key = format!("atmospheres.{name}.{gas}");
            let i = gases
                .iter()
                .position(|g| &g.name == gas)
                .ok_or_else(|| WorldError::invalid(&key, format!("no gas '{gas}' in `gases`")))?;
            p[i] = non_negative(*value, &key)?;
        }
        out.insert(name.clone(), Atmosphere { pressures: p });
    }
    Ok(out)
}
