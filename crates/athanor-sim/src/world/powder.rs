//! A powder sample's history run through the world's kinetics: precursor amounts, the
//! temperature profile the furnace delivered and the atmosphere in, phases out.
//!
//! Each step (no longer than the world's `time_step_s`) every process whose temperature window
//! holds advances by ξ = n_lim (1 − e^(−k dt)), with n_lim the limiting solid reactant and
//! k = scatter · Π p_gas · A e^(−Ea/RT). Where processes together ask more of a phase than there
//! is, all of them are scaled down, so no amount goes negative and every element is conserved.
//!
//! Speed: a process's conversion over a step, 1 − e^(−k dt), and a phase's growth are computed
//! only for processes whose reactants are present and phases that are, and only again when the
//! temperature or the step changes (not during a dwell), crystallite sizes are carried as d^n (growth adds k·dt, mixing averages linearly),
//! and the per-step buffers are allocated once.

use super::error::WorldError;
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

/// Amounts and sizes while a history runs, with the step's scratch buffers.
struct State {
    moles: Vec<f64>,
    /// Crystallite size to the phase's growth exponent, d^n (nm^n).
    size_power: Vec<f64>,
    released: Vec<f64>,
    consumed: Vec<f64>,
    /// Conversion 1 − e^(−k dt) of each process's limiting reactant over one step (0 outside
    /// its window), valid when its stamp is `stamp`.
    conversion: Vec<(f64, u64)>,
    /// Growth of d^n of each phase over one step, valid when its stamp is `stamp`.
    growth: Vec<(f64, u64)>,
    /// The step (T, dt) the stamp stands for.
    step: (f64, f64),
    stamp: u64,
    extent: Vec<f64>,
    demand: Vec<f64>,
    added: Vec<f64>,
    added_power: Vec<f64>,
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
        let (np, nr) = (self.phases.len(), self.processes.len());
        let mut state = State {
            moles: vec![0.0; np],
            size_power: self
                .phases
                .iter()
                .map(|p| p.growth.power(p.size_nm))
                .collect(),
            released: vec![0.0; self.gases.len()],
            consumed: vec![0.0; self.gases.len()],
            conversion: vec![(0.0, 0); nr],
            growth: vec![(0.0, 0); np],
            step: (f64::NAN, f64::NAN),
            stamp: 0,
            extent: vec![0.0; nr],
            demand: vec![0.0; np],
            added: vec![0.0; np],
            added_power: vec![0.0; np],
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
        for step in history.profile.steps(self.time_step_s) {
            if (step.t_k, step.dt) != state.step {
                state.step = (step.t_k, step.dt);
                state.stamp += 1;
            }
            self.extents(&mut state, &scatter.rates, &gas_factor);
            self.apply(&mut state);
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

    /// Process `r`'s conversion over the current step.
    fn conversion(&self, state: &mut State, r: usize, scatter: &[f64], gas_factor: &[f64]) -> f64 {
        let (cached, stamp) = state.conversion[r];
        if stamp == state.stamp {
            return cached;
        }
        let p = &self.processes[r];
        let (t_k, dt) = state.step;
        let active = t_k >= p.onset_k && p.max_k.is_none_or(|m| t_k <= m);
        let value = if active && gas_factor[r] > 0.0 {
            let k =
                scatter[r] * gas_factor[r] * arrhenius(p.prefactor_per_s, p.activation_j_mol, t_k);
            -(-k * dt).exp_m1()
        } else {
            0.0
        };
        state.conversion[r] = (value, state.stamp);
        value
    }

    /// Phase `i`'s growth of d^n over the current step.
    fn growth(&self, state: &mut State, i: usize) -> f64 {
        let (cached, stamp) = state.growth[i];
        if stamp == state.stamp {
            return cached;
        }
        let g = &self.phases[i].growth;
        let (t_k, dt) = state.step;
        let value = arrhenius(g.prefactor, g.activation_j_mol, t_k) * dt;
        state.growth[i] = (value, state.stamp);
        value
    }

    /// How far each process gets in one step, scaled so that no phase is overdrawn.
    fn extents(&self, state: &mut State, scatter: &[f64], gas_factor: &[f64]) {
        state.demand.iter_mut().for_each(|d| *d = 0.0);
        for (r, p) in self.processes.iter().enumerate() {
            state.extent[r] = 0.0;
            let limit = p
                .solids_in
                .iter()
                .map(|(i, nu)| state.moles[*i] / nu)
                .fold(f64::INFINITY, f64::min);
            if limit <= 0.0 {
                continue;
            }
            let conversion = self.conversion(state, r, scatter, gas_factor);
            if conversion <= 0.0 {
                continue;
            }
            let xi = limit * conversion;
            state.extent[r] = xi;
            for (i, nu) in &p.solids_in {
                state.demand[*i] += xi * nu;
            }
        }
        for (r, p) in self.processes.iter().enumerate() {
            if state.extent[r] <= 0.0 {
                continue;
            }
            let share = p
                .solids_in
                .iter()
                .map(|(i, _)| {
                    let (d, n) = (state.demand[*i], state.moles[*i]);
                    if d > n {
                        n / d
                    } else {
                        1.0
                    }
                })
                .fold(1.0, f64::min);
            state.extent[r] *= share;
        }
    }

    /// Consumes reactants, grows what is left, then adds the products as fresh nuclei.
    fn apply(&self, state: &mut State) {
        state.added.iter_mut().for_each(|a| *a = 0.0);
        state.added_power.iter_mut().for_each(|a| *a = 0.0);
        for (p, &xi) in self.processes.iter().zip(&state.extent) {
            if xi <= 0.0 {
                continue;
            }
            // A topotactic product keeps the crystallites of its (first) solid reactant.
            let inherited = p
                .topotactic
                .then(|| p.solids_in.first())
                .flatten()
                .map(|(i, _)| {
                    let g = &self.phases[*i].growth;
                    state.size_power[*i].powf(1.0 / g.exponent)
                });
            for (i, mu) in &p.solids_out {
                let phase = &self.phases[*i];
                state.added[*i] += xi * mu;
                state.added_power[*i] +=
                    xi * mu * phase.growth.power(inherited.unwrap_or(phase.size_nm));
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
        for id in 0..self.phases.len() {
            let n = state.moles[id];
            if n > 0.0 {
                state.size_power[id] += self.growth(state, id);
            }
            let added = state.added[id];
            if added > 0.0 {
                state.size_power[id] =
                    (n * state.size_power[id] + state.added_power[id]) / (n + added);
                state.moles[id] = n + added;
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
                let size = state.size_power[id].powf(1.0 / p.growth.exponent);
                PhaseOutcome {
                    name: p.name.clone(),
                    library_id: p.library_id.clone(),
                    formula: p.formula.text().to_string(),
                    moles,
                    mass_g: mass,
                    weight_fraction: if total > 0.0 { mass / total } else { 0.0 },
                    lattice: p.lattice,
                    crystallite_nm: size * scatter.sizes[id],
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
