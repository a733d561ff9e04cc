//! What a sample holds after its history: phases with weight fractions, cells and crystallite
//! sizes, and the gases it exchanged with the atmosphere (for the mass balance).

use athanor_xrd::{Element, Lattice};
use serde::Serialize;

use super::model::{Goal, World};

/// The true content of one sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Crystalline phases, largest weight fraction first.
    pub phases: Vec<PhaseOutcome>,
    /// Weight fraction that is not crystalline (an under-annealed film), 0 for a powder.
    pub amorphous_fraction: f64,
    /// Mass of the sample, g (relative for a film).
    pub mass_g: f64,
    /// Gas each way, mol.
    pub gases: Vec<GasExchange>,
}

/// One phase of a sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseOutcome {
    pub name: String,
    /// The library structure the diffractometer simulates.
    pub library_id: String,
    pub formula: String,
    pub moles: f64,
    pub mass_g: f64,
    pub weight_fraction: f64,
    pub lattice: Lattice,
    pub crystallite_nm: f64,
}

/// Gas taken from and given to the atmosphere.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GasExchange {
    pub name: String,
    pub released_mol: f64,
    pub consumed_mol: f64,
}

impl Outcome {
    /// The weight fraction of the phase called `name` (0 when absent).
    pub fn weight_fraction(&self, name: &str) -> f64 {
        self.phase(name).map_or(0.0, |p| p.weight_fraction)
    }

    /// The phase called `name`.
    pub fn phase(&self, name: &str) -> Option<&PhaseOutcome> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Phases above a detection limit (weight fraction), e.g. what a diffractometer could see.
    pub fn detectable(&self, min_weight_fraction: f64) -> impl Iterator<Item = &PhaseOutcome> {
        self.phases
            .iter()
            .filter(move |p| p.weight_fraction >= min_weight_fraction)
    }

    /// Moles of `element` in the solid phases.
    pub fn solid_moles_of(&self, world: &World, element: Element) -> f64 {
        self.phases
            .iter()
            .filter_map(|p| {
                let id = world.phase_id(&p.name)?;
                Some(p.moles * world.phases[id].formula.amount_of(element))
            })
            .sum()
    }

    /// Net moles of `element` that left as gas (released minus consumed).
    pub fn gas_moles_of(&self, world: &World, element: Element) -> f64 {
        self.gases
            .iter()
            .filter_map(|g| {
                let id = world.gas_id(&g.name)?;
                Some((g.released_mol - g.consumed_mol) * world.gases[id].formula.amount_of(element))
            })
            .sum()
    }

    /// Net mass that left as gas, g.
    pub fn gas_mass_out(&self, world: &World) -> f64 {
        self.gases
            .iter()
            .filter_map(|g| {
                let id = world.gas_id(&g.name)?;
                Some((g.released_mol - g.consumed_mol) * world.gases[id].formula.molar_mass())
            })
            .sum()
    }
}

impl Goal {
    /// Whether a sample meets the goal.
    pub fn is_met(&self, world: &World, outcome: &Outcome) -> bool {
        world
            .phases
            .get(self.phase)
            .is_some_and(|p| outcome.weight_fraction(&p.name) >= self.min_weight_fraction)
    }
}
