//! A powder sample's history run through the world's kinetics: precursor amounts, the
//! temperature profile the furnace delivered and the atmosphere in, phases out.
//!
//! Each step (no longer than the world's `time_step_s`) every process whose temperature window
//! holds advances by ξ = n_lim (1 − e^(−k dt)), with n_lim the limiting solid reactant and
//! k = scatter · Π p_gas · A e^(−Ea/RT). Where processes together ask more of a phase than there
//! is, all of them are scaled down, so no amount goes negative and every element is conserved.

use super::error::WorldError;
use super::growth::Growth;
use super::kinetics::arrhenius;
use super::model::{Atmosphere, PhaseId, World};
use super::outcome::{GasExchange, Outcome, PhaseOutcome};
use super::profile::TemperatureProfile;
use super::scatter::Scatter;

/// What really happened to a powder sample.
#[derive(Debug, Clone, PartialEq)]
pub struct PowderHistory {
    /// Precursor phase names and their amounts, mol.
    pub precursors: Vec<(String, f64)>,
    pub profile: TemperatureProfile,
    /// An atmosphere of the world, by name.
    pub atmosphere: String,
}

/// Amounts and sizes while a history runs.
struct State {
    moles: Vec<f64>,
    size_nm: Vec<f64>,
    released: Vec<f64>,
    consumed: Vec<f64>,
}

impl World {
    /// Runs a powder history; `seed` draws the sample's scatter.
    pub fn run_powder(&self, history: &PowderHistory, seed: u64) -> Result<Outcome, WorldError> {
        let atmosphere = self.atmospheres.get(&history.atmosphere).ok_or_else(|| {
            WorldError::history(
                "atmosphere",
                format!("no atmosphere '{}' in this world", history.atmosphere),
            )
        })?;
        let mut state = State {
            moles: vec![0.0; self.phases.len()],
            size_nm: self.phases.iter().map(|p| p.size_nm).collect(),
            released: vec![0.0; self.gases.len()],
            consumed: vec![0.0; self.gases.len()],
        };
        for (i, (name, n)) in history.precursors.iter().enumerate() {
            let key = format!("precursors[{i}]");
            let id = self
                .phase_id(name)
                .filter(|id| self.precursors.contains(id))
                .ok_or_else(|| WorldError::history(&key, format!("'{name}' is not a precursor")))?;
            if !(n.is_finite() && *n > 0.0) {
                return Err(WorldError::history(
                    key,
                    format!("{n} mol is not an amount"),
                ));
            }
            state.moles[id] += n;
        }
        let scatter = Scatter::draw(self, seed);
        let gas_factor = self.gas_factors(atmosphere);
        let mut extents = vec![0.0; self.processes.len()];
        for step in history.profile.steps(self.time_step_s) {
            self.extents(
                &state,
                step.t_k,
                step.dt,
                &scatter.rates,
                &gas_factor,
                &mut extents,
            );
            self.apply(&mut state, &extents, step.t_k, step.dt);
        }
        Ok(self.outcome(&state, &scatter))
    }

    /// Π p_gas over each process's gas reactants.
    fn gas_factors(&self, atmosphere: &Atmosphere) -> Vec<f64> {
        self.processes
            .iter()
            .map(|p| {
                p.gases_in
                    .iter()
                    .map(|(g, _)| atmosphere.pressures.get(*g).copied().unwrap_or(0.0))
                    .product()
            })
            .collect()
    }

    /// How far each process gets in one step, scaled so that no phase is overdrawn.
    fn extents(
        &self,
        state: &State,
        t_k: f64,
        dt: f64,
        scatter: &[f64],
        gas_factor: &[f64],
        out: &mut [f64],
    ) {
        let mut demand = vec![0.0; self.phases.len()];
        for (r, p) in self.processes.iter().enumerate() {
            out[r] = 0.0;
            let active = t_k >= p.onset_k && p.max_k.is_none_or(|m| t_k <= m);
            if !active || gas_factor[r] <= 0.0 {
                continue;
            }
            let limit = p
                .solids_in
                .iter()
                .map(|(i, nu)| state.moles[*i] / nu)
                .fold(f64::INFINITY, f64::min);
            if limit <= 0.0 {
                continue;
            }
            let k =
                scatter[r] * gas_factor[r] * arrhenius(p.prefactor_per_s, p.activation_j_mol, t_k);
            out[r] = -limit * (-k * dt).exp_m1();
            for (i, nu) in &p.solids_in {
                demand[*i] += out[r] * nu;
            }
        }
        let share: Vec<f64> = demand
            .iter()
            .zip(&state.moles)
            .map(|(d, n)| if *d > *n { n / d } else { 1.0 })
            .collect();
        for (r, p) in self.processes.iter().enumerate() {
            let s = p
                .solids_in
                .iter()
                .map(|(i, _)| share[*i])
                .fold(1.0, f64::min);
            out[r] *= s;
        }
    }

    /// Consumes reactants, grows what is left, then adds the products as fresh nuclei.
    fn apply(&self, state: &mut State, extents: &[f64], t_k: f64, dt: f64) {
        let mut added = vec![0.0; self.phases.len()];
        let mut added_power = vec![0.0; self.phases.len()];
        for (p, xi) in self.processes.iter().zip(extents) {
            if *xi <= 0.0 {
                continue;
            }
            // A topotactic product keeps the crystallites of its (first) solid reactant.
            let inherited = p
                .topotactic
                .then(|| p.solids_in.first().map(|(i, _)| state.size_nm[*i]))
                .flatten();
            for (i, mu) in &p.solids_out {
                let phase = &self.phases[*i];
                added[*i] += xi * mu;
                added_power[*i] += xi * mu * phase.growth.power(inherited.unwrap_or(phase.size_nm));
            }
            for (i, nu) in &p.solids_in {
                state.moles[*i] = (state.moles[*i] - xi * nu).max(0.0);
            }
            for (g, nu) in &p.gases_in {
                state.consumed[*g] += xi * nu;
            }
            for (g, nu) in &p.gases_out {
                state.released[*g] += xi * nu;
            }
        }
        for (id, phase) in self.phases.iter().enumerate() {
            let growth: Growth = phase.growth;
            if state.moles[id] > 0.0 {
                state.size_nm[id] = growth.grow(state.size_nm[id], t_k, dt);
            }
            if added[id] > 0.0 {
                state.size_nm[id] = growth.mix(
                    state.moles[id],
                    state.size_nm[id],
                    added[id],
                    added_power[id],
                );
                state.moles[id] += added[id];
            }
        }
    }

    fn outcome(&self, state: &State, scatter: &Scatter) -> Outcome {
        let phases: Vec<(PhaseId, f64, f64)> = state
            .moles
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0.0)
            .map(|(id, n)| (id, *n, n * self.phases[id].formula.molar_mass()))
            .collect();
        let total: f64 = phases.iter().map(|p| p.2).sum();
        let mut out: Vec<PhaseOutcome> = phases
            .into_iter()
            .map(|(id, moles, mass)| {
                let p = &self.phases[id];
                PhaseOutcome {
                    name: p.name.clone(),
                    library_id: p.library_id.clone(),
                    formula: p.formula.text().to_string(),
                    moles,
                    mass_g: mass,
                    weight_fraction: if total > 0.0 { mass / total } else { 0.0 },
                    lattice: p.lattice,
                    crystallite_nm: state.size_nm[id] * scatter.sizes[id],
                }
            })
            .collect();
        out.sort_by(|a, b| b.weight_fraction.total_cmp(&a.weight_fraction));
        Outcome {
            phases: out,
            amorphous_fraction: 0.0,
            mass_g: total,
            gases: self
                .gases
                .iter()
                .enumerate()
                .map(|(g, gas)| GasExchange {
                    name: gas.name.clone(),
                    released_mol: state.released[g],
                    consumed_mol: state.consumed[g],
                })
                .collect(),
        }
    }
}
