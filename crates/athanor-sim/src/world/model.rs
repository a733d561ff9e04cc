//! The validated world: phases tied to library structures, gases, atmospheres, processes with
//! their kinetics, the film model, the goal and the search space. Built only by `build/`.

use std::collections::BTreeMap;

use athanor_xrd::{Lattice, Structure};

use super::formula::Formula;
use super::growth::Growth;

/// Index of a phase in [`World::phases`].
pub type PhaseId = usize;
/// Index of a gas in [`World::gases`].
pub type GasId = usize;

/// A materials world: pure data, cheap to share, deterministic to run.
#[derive(Debug, Clone)]
pub struct World {
    pub name: String,
    pub description: String,
    pub phases: Vec<Phase>,
    pub gases: Vec<Gas>,
    pub atmospheres: BTreeMap<String, Atmosphere>,
    pub precursors: Vec<PhaseId>,
    pub processes: Vec<Process>,
    pub time_step_s: f64,
    pub rate_scatter: f64,
    pub size_scatter: f64,
    pub film: Option<Film>,
    pub goal: Goal,
    pub search_space: SearchSpace,
}

/// A phase: the chemistry the world balances, and the structure a diffractometer sees.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: String,
    pub formula: Formula,
    /// Library id, e.g. "YBa2Cu3O7_47".
    pub library_id: String,
    /// The library structure (its own cell).
    pub structure: Structure,
    /// The cell this world gives the phase (library, override or Vegard).
    pub lattice: Lattice,
    /// Precursor crystallite size, and nucleus size when formed, nm.
    pub size_nm: f64,
    pub growth: Growth,
    /// A film solid solution's cell as a function of its metal fraction.
    pub film_vegard: Option<FilmVegard>,
    pub note: String,
}

/// Vegard's law over the film composition: `from` at `film_x[0]`, `to` at `film_x[1]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FilmVegard {
    pub from: Lattice,
    pub to: Lattice,
    pub film_x: [f64; 2],
}

/// A gas species.
#[derive(Debug, Clone)]
pub struct Gas {
    pub name: String,
    pub formula: Formula,
}

/// Partial pressure of each gas (atm), indexed by [`GasId`].
#[derive(Debug, Clone, PartialEq)]
pub struct Atmosphere {
    pub pressures: Vec<f64>,
}

/// A process the world runs on a powder: a reaction, decomposition, oxidation or evaporation.
#[derive(Debug, Clone)]
pub struct Process {
    pub name: String,
    /// The key that defined it (`reactions[3]`, `volatility[0]`).
    pub key: String,
    pub solids_in: Vec<(PhaseId, f64)>,
    pub gases_in: Vec<(GasId, f64)>,
    pub solids_out: Vec<(PhaseId, f64)>,
    pub gases_out: Vec<(GasId, f64)>,
    /// Kelvin.
    pub onset_k: f64,
    pub max_k: Option<f64>,
    pub prefactor_per_s: f64,
    /// Effective barrier (J/mol), after the BEP shift by the reaction energy.
    pub activation_j_mol: f64,
    pub energy_mev_atom: Option<f64>,
    /// The product keeps the reactant's crystallites (an oxygen uptake, a polymorph change).
    pub topotactic: bool,
}

/// The thin-film model.
#[derive(Debug, Clone)]
pub struct Film {
    /// The two metals' symbols; x is the atomic fraction of the second.
    pub metals: [athanor_xrd::Element; 2],
    /// Deposition rate per watt of each metal's source, in the order of `metals`.
    pub rate_per_w: [f64; 2],
    pub crystallisation: Crystallisation,
    pub regions: Vec<Region>,
}

/// JMAK crystallisation of the amorphous as-deposited film.
#[derive(Debug, Clone, Copy)]
pub struct Crystallisation {
    pub onset_k: f64,
    pub prefactor_per_s: f64,
    pub activation_j_mol: f64,
    pub avrami_n: f64,
}

/// A region of the film phase diagram.
#[derive(Debug, Clone)]
pub struct Region {
    pub x: [f64; 2],
    /// Peak anneal temperature range, °C.
    pub temperature_c: [f64; 2],
    /// Each phase with the range of its metal fraction x: one value for a compound (from its
    /// formula), a range for a solid solution (it takes the film's x, saturated at the ends).
    pub phases: Vec<(PhaseId, [f64; 2])>,
}

/// What a campaign in this world aims for.
#[derive(Debug, Clone)]
pub struct Goal {
    pub phase: PhaseId,
    pub min_weight_fraction: f64,
}

/// The parameters a planner chooses from.
#[derive(Debug, Clone, Default)]
pub struct SearchSpace {
    /// Precursor sets with amounts (mol per mol of the goal phase).
    pub precursor_sets: Vec<Vec<(PhaseId, f64)>>,
    pub temperatures_c: Vec<f64>,
    pub dwell_hours: Vec<f64>,
    pub atmospheres: Vec<String>,
    pub ramp_c_per_min: f64,
    pub cool_c_per_min: f64,
    /// Film worlds: allowed power range of each source (W), in the order of the film's metals.
    pub source_power_w: Vec<(String, [f64; 2])>,
}

impl World {
    /// The phase called `name`.
    pub fn phase_id(&self, name: &str) -> Option<PhaseId> {
        self.phases.iter().position(|p| p.name == name)
    }

    /// The gas called `name`.
    pub fn gas_id(&self, name: &str) -> Option<GasId> {
        self.gases.iter().position(|g| g.name == name)
    }

    /// A precursor set (e.g. of the search space) with phase names instead of ids.
    pub fn named(&self, set: &[(PhaseId, f64)]) -> Vec<(String, f64)> {
        set.iter()
            .filter_map(|(id, n)| Some((self.phases.get(*id)?.name.clone(), *n)))
            .collect()
    }

    /// The structure a diffractometer should simulate for `phase`, with the given cell.
    pub fn structure_with(&self, phase: PhaseId, lattice: Lattice) -> Option<Structure> {
        let mut s = self.phases.get(phase)?.structure.clone();
        s.lattice = lattice;
        Some(s)
    }
}
