//! A thin film's history: co-deposition sets its composition (each source deposits at a rate
//! proportional to its power), an anneal crystallises it (JMAK) into the phases of the phase
//! diagram's region at the film's composition and peak anneal temperature, split by the lever
//! rule, with crystallites grown over the anneal.

use super::build::region_holds;
use super::error::WorldError;
use super::kinetics::arrhenius;
use super::model::{Film, Region, World};
use super::outcome::{Outcome, PhaseOutcome};
use super::profile::TemperatureProfile;
use super::scatter::Scatter;
use super::vegard;

/// What really happened to a film sample.
#[derive(Debug, Clone, PartialEq)]
pub struct FilmHistory {
    pub deposit: Deposit,
    pub anneal: TemperatureProfile,
}

/// How the film's composition is known.
#[derive(Debug, Clone, PartialEq)]
pub enum Deposit {
    /// Power of each metal's source, W (a metal left out was off).
    SourcePowers(Vec<(String, f64)>),
    /// The atomic fraction x of the second metal, as measured.
    Composition(f64),
}

impl Film {
    /// The atomic fraction x of the second metal deposited with these source powers.
    pub fn composition(&self, powers: &[(String, f64)]) -> Result<f64, WorldError> {
        let mut rate = [0.0; 2];
        for (i, (metal, w)) in powers.iter().enumerate() {
            let key = format!("source_power_w[{i}]");
            let m = self
                .metals
                .iter()
                .position(|m| m.symbol() == metal)
                .ok_or_else(|| WorldError::history(&key, format!("no source for '{metal}'")))?;
            if !(w.is_finite() && *w >= 0.0) {
                return Err(WorldError::history(key, format!("{w} W is not a power")));
            }
            rate[m] += self.rate_per_w[m] * w;
        }
        let total = rate[0] + rate[1];
        if total <= 0.0 {
            return Err(WorldError::history("source_power_w", "no source deposits"));
        }
        Ok(rate[1] / total)
    }

    /// The crystallised fraction after an anneal: 1 − exp(−(∫k dt)^n) over the time above the
    /// crystallisation onset.
    pub fn crystallised_fraction(&self, anneal: &TemperatureProfile, time_step_s: f64) -> f64 {
        let c = &self.crystallisation;
        let integral: f64 = anneal
            .steps(time_step_s)
            .filter(|s| s.t_k >= c.onset_k)
            .map(|s| arrhenius(c.prefactor_per_s, c.activation_j_mol, s.t_k) * s.dt)
            .sum();
        -(-integral.powf(c.avrami_n)).exp_m1()
    }

    /// The region holding (x, peak temperature).
    pub fn region(&self, x: f64, peak_c: f64) -> Option<&Region> {
        self.regions.iter().find(|r| region_holds(r, x, peak_c))
    }
}

impl World {
    /// Runs a film history; `seed` draws the sample's scatter.
    pub fn run_film(&self, history: &FilmHistory, seed: u64) -> Result<Outcome, WorldError> {
        let film = self
            .film
            .as_ref()
            .ok_or_else(|| WorldError::history("film", "this world has no film model"))?;
        let x = match &history.deposit {
            Deposit::SourcePowers(powers) => film.composition(powers)?,
            Deposit::Composition(x) if (0.0..=1.0).contains(x) => *x,
            Deposit::Composition(x) => {
                return Err(WorldError::history(
                    "composition",
                    format!("{x} is not a fraction in [0, 1]"),
                ))
            }
        };
        let scatter = Scatter::draw(self, seed);
        let peak = history.anneal.peak_c();
        let onset = film.crystallisation.onset_k;
        let fraction = if peak + super::kinetics::ZERO_CELSIUS < onset {
            0.0
        } else {
            film.crystallised_fraction(&history.anneal, self.time_step_s)
        };
        let mut phases = Vec::new();
        let mut mass = 0.0;
        if fraction > 0.0 {
            let region = film.region(x, peak).ok_or_else(|| {
                WorldError::history(
                    "anneal",
                    format!("{peak} °C at x = {x:.3} lies outside the phase diagram"),
                )
            })?;
            for (id, metal_share, phase_x) in lever(region, x) {
                let p = &self.phases[id];
                let lattice = match &p.film_vegard {
                    Some(v) => {
                        let f = (phase_x - v.film_x[0]) / (v.film_x[1] - v.film_x[0]);
                        vegard::interpolate(&v.from, &v.to, f.clamp(0.0, 1.0)).unwrap_or(p.lattice)
                    }
                    None => p.lattice,
                };
                let metals =
                    p.formula.amount_of(film.metals[0]) + p.formula.amount_of(film.metals[1]);
                let formula_units = metal_share / metals;
                let m = formula_units * p.formula.molar_mass();
                mass += m;
                // d^n − d0^n is the integral of k(T) dt over the anneal above the onset.
                let grown: f64 = history
                    .anneal
                    .steps(self.time_step_s)
                    .filter(|s| s.t_k >= onset)
                    .map(|s| arrhenius(p.growth.prefactor, p.growth.activation_j_mol, s.t_k) * s.dt)
                    .sum();
                let size = (p.growth.power(p.size_nm) + grown).powf(1.0 / p.growth.exponent);
                phases.push(PhaseOutcome {
                    name: p.name.clone(),
                    library_id: p.library_id.clone(),
                    formula: p.formula.text().to_string(),
                    moles: formula_units * fraction,
                    mass_g: m * fraction,
                    weight_fraction: m,
                    lattice,
                    crystallite_nm: size * scatter.sizes[id],
                });
            }
        }
        for p in &mut phases {
            p.weight_fraction = if mass > 0.0 {
                p.weight_fraction / mass * fraction
            } else {
                0.0
            };
        }
        phases.retain(|p| p.moles > 0.0);
        phases.sort_by(|a, b| b.weight_fraction.total_cmp(&a.weight_fraction));
        Ok(Outcome {
            phases,
            amorphous_fraction: 1.0 - fraction,
            mass_g: mass,
            gases: Vec::new(),
        })
    }
}

/// Each phase of the region with its share of the film's metal atoms and its own metal
/// fraction: a solid solution takes the film's x within its range and saturates at the ends;
/// two phases split by the lever rule.
fn lever(region: &Region, x: f64) -> Vec<(usize, f64, f64)> {
    let at = |range: [f64; 2]| x.clamp(range[0], range[1]);
    match region.phases[..] {
        [(a, ra), (b, rb)] => {
            let (xa, xb) = (at(ra), at(rb));
            let fb = ((x - xa) / (xb - xa)).clamp(0.0, 1.0);
            vec![(a, 1.0 - fb, xa), (b, fb, xb)]
        }
        _ => region
            .phases
            .iter()
            .map(|(id, range)| (*id, 1.0, at(*range)))
            .take(1)
            .collect(),
    }
}
