//! A characterization-aware planner for co-deposited films of two metals, annealed. It reads
//! every phase of every analysis: the phases' own metal fractions and weight fractions give the
//! film's composition by mass balance, which teaches it how the source powers set the
//! composition (x = r·P₂ / (P₁ + r·P₂), a posterior over the rate ratio r); the lever rule with
//! the chemical system's phases gives the composition window in which the target can be
//! phase-pure; and what crystallised at each anneal gives the temperatures at which the target
//! forms. It proposes the recipe most likely to give the phase-pure target:
//! P(composition in the window) × P(the target forms at this anneal) × P(the film crystallises).

use std::collections::BTreeMap;

use athanor_core::{Claim, Parameters};
use serde_json::Value;

use crate::error::{PlannerError, Result};
use crate::hypothesis::Belief;
use crate::observation::Observation;
use crate::planner::{HypothesisView, Planner, Prediction, Proposal};
use crate::solid_state::planner::TEMPERATURE;

/// Parameter name of the anneal's dwell.
pub const DWELL: &str = "dwell_hours";

/// Parameter name of a metal's source power.
pub fn power_parameter(metal: &str) -> String {
    format!("power_{metal}_w")
}

/// A phase of the chemical system as the mass balance needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseComposition {
    /// Atomic fraction of the second metal among the phase's metals.
    pub x: f64,
    /// Metal atoms (mol) per gram of the phase.
    pub metal_mol_per_g: f64,
}

/// One recipe the planner may choose.
#[derive(Debug, Clone, PartialEq)]
pub struct FilmCandidate {
    /// Source power of the first and the second metal, W.
    pub powers: [f64; 2],
    pub temperature_c: f64,
    pub dwell_hours: f64,
}

/// Standard deviation of a composition measured by mass balance (solid solutions and the
/// amorphous remainder blur it).
const COMPOSITION_SD: f64 = 0.04;
/// A film whose crystalline phases make up less than this weight fraction tells nothing of
/// its composition and counts as not crystallised.
const CRYSTALLISED: f64 = 0.5;
/// P(a film crystallises) at an anneal nothing is known about, and at one no hotter and no
/// longer than an anneal that left a film amorphous.
const CRYSTALLISES_PRIOR: f64 = 0.7;
const CRYSTALLISES_AFTER_AMORPHOUS: f64 = 0.05;
const TEMPERATURE_PRIOR: f64 = 0.5;
const LR_PURE: f64 = 20.0;
const LR_IMPURE_AT_COMPOSITION: f64 = 0.5;
const LR_ABSENT_AT_COMPOSITION: f64 = 0.1;
const LR_ABSENT_WHERE_EXPECTED: f64 = 0.3;
const LR_PRESENT: f64 = 2.0;

/// The planner.
#[derive(Debug, Clone)]
pub struct FilmPlanner {
    metals: [String; 2],
    target: String,
    min_fraction: f64,
    phases: BTreeMap<String, PhaseComposition>,
    candidates: Vec<FilmCandidate>,
    tried: Vec<bool>,
    /// Grid of the rate ratio r (log-spaced) and its log posterior.
    ratios: Vec<f64>,
    log_weights: Vec<f64>,
    temperatures: Vec<f64>,
    /// "The target forms phase-pure at t °C from a film of its composition".
    forms_at: Vec<Belief>,
    /// Anneals (°C, h) after which a film stayed (mostly) amorphous, and after which one
    /// crystallised.
    amorphous: Vec<(f64, f64)>,
    crystalline: Vec<(f64, f64)>,
}

impl FilmPlanner {
    /// `phases`: every phase of the chemical system the analyses may report (the target
    /// among them), by name.
    pub fn new(
        metals: [String; 2],
        target: &str,
        min_fraction: f64,
        phases: BTreeMap<String, PhaseComposition>,
        candidates: Vec<FilmCandidate>,
    ) -> Result<Self> {
        if !phases.contains_key(target) {
            return Err(PlannerError::Observation(format!(
                "the target {target} is not among the phases whose composition is known"
            )));
        }
        let mut temperatures: Vec<f64> = candidates.iter().map(|c| c.temperature_c).collect();
        temperatures.sort_by(f64::total_cmp);
        temperatures.dedup();
        let forms_at = temperatures
            .iter()
            .map(|t| {
                let region = BTreeMap::from([(TEMPERATURE.to_owned(), [*t, *t])]);
                Belief::new(
                    format!("forms_at:{t}"),
                    format!("{target} forms phase-pure at {t} °C from a film of its composition"),
                    Claim::PhaseRegion {
                        phase: target.to_owned(),
                        forms: true,
                        region,
                    },
                    TEMPERATURE_PRIOR,
                )
            })
            .collect();
        // r from 1/20 to 20, uniform in log r.
        let ratios: Vec<f64> = (0..=120)
            .map(|i| (20f64.ln() * (i as f64 / 60.0 - 1.0)).exp())
            .collect();
        Ok(Self {
            metals,
            target: target.to_owned(),
            min_fraction,
            phases,
            tried: vec![false; candidates.len()],
            candidates,
            log_weights: vec![0.0; ratios.len()],
            ratios,
            temperatures,
            forms_at,
            amorphous: Vec::new(),
            crystalline: Vec::new(),
        })
    }

    fn target_x(&self) -> f64 {
        self.phases[&self.target].x
    }

    /// The composition window in which the lever rule with the neighbouring phases of the
    /// system leaves at least `min_fraction` of the metal in the target.
    pub fn window(&self) -> [f64; 2] {
        let xt = self.target_x();
        let others = || self.phases.iter().filter(|(n, _)| **n != self.target);
        let below = others()
            .map(|(_, p)| p.x)
            .filter(|x| *x < xt)
            .fold(0.0f64, f64::max);
        let above = others()
            .map(|(_, p)| p.x)
            .filter(|x| *x > xt)
            .fold(1.0f64, f64::min);
        let slack = 1.0 - self.min_fraction;
        [xt - slack * (xt - below), xt + slack * (above - xt)]
    }

    /// The composition a recipe deposits if the rate ratio is `r`.
    fn composition(powers: [f64; 2], r: f64) -> f64 {
        let total = powers[0] + r * powers[1];
        if total > 0.0 {
            r * powers[1] / total
        } else {
            f64::NAN
        }
    }

    fn posterior(&self) -> Vec<f64> {
        let top = self
            .log_weights
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = self.log_weights.iter().map(|l| (l - top).exp()).collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    }

    /// P(the recipe's film lies in the target's composition window).
    pub fn composition_probability(&self, powers: [f64; 2]) -> f64 {
        let [lo, hi] = self.window();
        self.ratios
            .iter()
            .zip(self.posterior())
            .filter(|(r, _)| (lo..=hi).contains(&Self::composition(powers, **r)))
            .map(|(_, w)| w)
            .sum()
    }

    fn crystallises(&self, c: &FilmCandidate) -> f64 {
        let covered = |list: &[(f64, f64)], hotter: bool| {
            list.iter().any(|(t, d)| {
                if hotter {
                    c.temperature_c >= *t && c.dwell_hours >= *d
                } else {
                    c.temperature_c <= *t && c.dwell_hours <= *d
                }
            })
        };
        if covered(&self.crystalline, true) {
            1.0
        } else if covered(&self.amorphous, false) {
            CRYSTALLISES_AFTER_AMORPHOUS
        } else {
            CRYSTALLISES_PRIOR
        }
    }

    fn level(&self, t: f64) -> Option<usize> {
        self.temperatures.iter().position(|x| (x - t).abs() < 1e-6)
    }

    /// P(phase-pure target) for a candidate, with its three factors.
    pub fn success_probability(&self, c: &FilmCandidate) -> (f64, [f64; 3]) {
        let comp = self.composition_probability(c.powers);
        let temp = self
            .level(c.temperature_c)
            .map_or(0.0, |l| self.forms_at[l].belief());
        let cryst = self.crystallises(c);
        (comp * temp * cryst, [comp, temp, cryst])
    }

    /// The film's composition by mass balance over the phases of known composition.
    fn measured_composition(&self, phases: &[(String, f64)]) -> Option<f64> {
        let (mut metal, mut second) = (0.0, 0.0);
        for (name, w) in phases {
            if let Some(p) = self.phases.get(name) {
                metal += w * p.metal_mol_per_g;
                second += w * p.metal_mol_per_g * p.x;
            }
        }
        (metal > 0.0).then(|| second / metal)
    }

    /// Learns from one film.
    pub fn observe(&mut self, c: &FilmCandidate, phases: &[(String, f64)]) {
        if let Some(i) = self.candidates.iter().position(|x| x == c) {
            self.tried[i] = true;
        }
        let crystalline: f64 = phases.iter().map(|(_, w)| w).sum();
        if crystalline < CRYSTALLISED {
            self.amorphous.push((c.temperature_c, c.dwell_hours));
            return;
        }
        self.crystalline.push((c.temperature_c, c.dwell_hours));
        let Some(x) = self.measured_composition(phases) else {
            return;
        };
        for (r, lw) in self.ratios.iter().zip(&mut self.log_weights) {
            let predicted = Self::composition(c.powers, *r);
            if predicted.is_finite() {
                *lw -= 0.5 * ((x - predicted) / COMPOSITION_SD).powi(2);
            }
        }
        let Some(level) = self.level(c.temperature_c) else {
            return;
        };
        let target: f64 = phases
            .iter()
            .filter(|(n, _)| *n == self.target)
            .map(|(_, w)| w)
            .sum();
        let [lo, hi] = self.window();
        let t = c.temperature_c;
        let (ratio, note) = if target >= self.min_fraction {
            (LR_PURE, format!("phase-pure target at {t} °C"))
        } else if (lo..=hi).contains(&x) && target > 0.0 {
            (
                LR_IMPURE_AT_COMPOSITION,
                format!("target only {target:.2} at its composition (x = {x:.3}) at {t} °C"),
            )
        } else if (lo..=hi).contains(&x) {
            (
                LR_ABSENT_AT_COMPOSITION,
                format!("no target at its composition (x = {x:.3}) at {t} °C"),
            )
        } else if target > 0.0 {
            (LR_PRESENT, format!("target formed at {t} °C (x = {x:.3})"))
        } else if self.expected_beside(x) {
            (
                LR_ABSENT_WHERE_EXPECTED,
                format!("no target at x = {x:.3}, where the lever rule puts some, at {t} °C"),
            )
        } else {
            return;
        };
        self.forms_at[level].update(ratio, note);
    }

    /// Whether a film of composition `x` holds some target by the lever rule: x lies between
    /// the target and its nearest neighbour phase on that side.
    fn expected_beside(&self, x: f64) -> bool {
        let xt = self.target_x();
        let neighbour = self
            .phases
            .iter()
            .filter(|(n, _)| **n != self.target)
            .map(|(_, p)| p.x)
            .filter(|p| (p - xt) * (x - xt) > 0.0)
            .min_by(|a, b| (a - xt).abs().total_cmp(&(b - xt).abs()));
        neighbour.is_some_and(|n| (x - xt).abs() < (n - xt).abs())
    }

    /// The parameters a proposal of `c` carries.
    pub fn parameters(&self, c: &FilmCandidate) -> Parameters {
        let mut p = Parameters::new();
        for (metal, w) in self.metals.iter().zip(c.powers) {
            p.insert(power_parameter(metal), Value::from(w));
        }
        p.insert(TEMPERATURE.into(), Value::from(c.temperature_c));
        p.insert(DWELL.into(), Value::from(c.dwell_hours));
        p
    }

    fn candidate_of(&self, parameters: &Parameters) -> Result<FilmCandidate> {
        let number = |name: &str| {
            parameters
                .get(name)
                .and_then(Value::as_f64)
                .ok_or_else(|| PlannerError::Observation(format!("`{name}` must be a number")))
        };
        Ok(FilmCandidate {
            powers: [
                number(&power_parameter(&self.metals[0]))?,
                number(&power_parameter(&self.metals[1]))?,
            ],
            temperature_c: number(TEMPERATURE)?,
            dwell_hours: number(DWELL)?,
        })
    }

    /// The rate ratio's posterior median and 5th–95th percentiles.
    fn ratio_summary(&self) -> [f64; 3] {
        let post = self.posterior();
        let quantile = |q: f64| {
            let mut acc = 0.0;
            for (r, w) in self.ratios.iter().zip(&post) {
                acc += w;
                if acc >= q {
                    return *r;
                }
            }
            self.ratios[self.ratios.len() - 1]
        };
        [quantile(0.5), quantile(0.05), quantile(0.95)]
    }
}

impl Planner for FilmPlanner {
    fn name(&self) -> &str {
        "athanor-research"
    }

    fn tell(&mut self, observation: Observation) -> Result<()> {
        let c = self.candidate_of(&observation.parameters)?;
        self.observe(&c, &observation.phase_pairs());
        Ok(())
    }

    fn ask(&mut self, batch: usize) -> Result<Vec<Proposal>> {
        let mut ranked: Vec<(usize, f64, [f64; 3])> = (0..self.candidates.len())
            .filter(|i| !self.tried[*i])
            .map(|i| {
                let (p, f) = self.success_probability(&self.candidates[i]);
                (i, p, f)
            })
            .collect();
        if ranked.is_empty() {
            return Err(PlannerError::PoolExhausted);
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let [r, r_lo, r_hi] = self.ratio_summary();
        let [lo, hi] = self.window();
        Ok(ranked
            .into_iter()
            .take(batch)
            .map(|(i, p, [comp, temp, cryst])| {
                let c = &self.candidates[i];
                Proposal {
                    parameters: self.parameters(c),
                    rationale: format!(
                        "{} {} W + {} {} W, {} °C for {} h: P(phase-pure {}) = {p:.3} = P(x in [{lo:.3}, {hi:.3}]) {comp:.2} (rate ratio {r:.2}, 90 % in [{r_lo:.2}, {r_hi:.2}], so x ≈ {:.3}) × P(forms at this anneal) {temp:.2} × P(crystallises) {cryst:.2}",
                        self.metals[0],
                        c.powers[0],
                        self.metals[1],
                        c.powers[1],
                        c.temperature_c,
                        c.dwell_hours,
                        self.target,
                        Self::composition(c.powers, r),
                    ),
                    predicted: Some(Prediction {
                        quantity: format!("P(phase-pure {})", self.target),
                        mean: p,
                        sd: (p * (1.0 - p)).sqrt(),
                    }),
                    tests_hypothesis: self
                        .level(c.temperature_c)
                        .map(|l| self.forms_at[l].key.clone()),
                }
            })
            .collect())
    }

    fn hypotheses(&self) -> Vec<HypothesisView> {
        let [r, lo, hi] = self.ratio_summary();
        let deposition = Belief::new(
            "deposition:rate_ratio",
            format!(
                "the {m2} fraction deposited is x = r·P({m2}) / (P({m1}) + r·P({m2})) with r between {lo:.2} and {hi:.2} (median {r:.2})",
                m1 = self.metals[0],
                m2 = self.metals[1],
            ),
            Claim::Statement {},
            0.9,
        );
        self.forms_at
            .iter()
            .map(Belief::view)
            .chain(std::iter::once(deposition.view()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ZnO (x 0), Zn2TiO4 (1/3), ZnTiO3 (1/2), TiO2 (1), with their metal atoms per gram.
    fn phases() -> BTreeMap<String, PhaseComposition> {
        [
            ("ZnO", 0.0, 1.0 / 81.38),
            ("Zn2TiO4", 1.0 / 3.0, 3.0 / 242.6),
            ("ZnTiO3", 0.5, 2.0 / 161.2),
            ("rutile", 1.0, 1.0 / 79.87),
        ]
        .into_iter()
        .map(|(n, x, m)| {
            (
                n.to_owned(),
                PhaseComposition {
                    x,
                    metal_mol_per_g: m,
                },
            )
        })
        .collect()
    }

    fn planner() -> FilmPlanner {
        let mut candidates = Vec::new();
        for zn in [50.0, 75.0, 100.0] {
            for ti in [50.0, 75.0, 100.0, 125.0] {
                for t in [400.0, 700.0] {
                    candidates.push(FilmCandidate {
                        powers: [zn, ti],
                        temperature_c: t,
                        dwell_hours: 4.0,
                    });
                }
            }
        }
        FilmPlanner::new(
            ["Zn".into(), "Ti".into()],
            "ZnTiO3",
            0.9,
            phases(),
            candidates,
        )
        .unwrap()
    }

    #[test]
    fn the_lever_rule_window_lies_around_the_target_and_is_narrow_toward_the_near_neighbour() {
        let [lo, hi] = planner().window();
        assert!((lo - (0.5 - 0.1 / 6.0)).abs() < 1e-9, "{lo}");
        assert!((hi - 0.55).abs() < 1e-9, "{hi}");
    }

    #[test]
    fn a_film_s_phases_teach_the_deposition_and_the_next_film_aims_at_the_target() {
        let mut p = planner();
        // True rate ratio 0.6: equal powers give x = 0.375, i.e. Zn2TiO4 + ZnTiO3 by the lever
        // rule (a quarter of the metal in ZnTiO3).
        let first = FilmCandidate {
            powers: [100.0, 100.0],
            temperature_c: 700.0,
            dwell_hours: 4.0,
        };
        let before = p.composition_probability([75.0, 125.0]);
        p.observe(&first, &[("Zn2TiO4".into(), 0.74), ("ZnTiO3".into(), 0.26)]);
        let [r, lo, hi] = p.ratio_summary();
        assert!(
            (0.5..0.75).contains(&r) && lo < 0.6 && hi > 0.6,
            "{r} [{lo}, {hi}]"
        );
        // 75 W Zn + 125 W Ti deposits x = 0.5 at r = 0.6: now the likeliest composition.
        assert!(p.composition_probability([75.0, 125.0]) > before);
        // The next film is the one likeliest in the window, at the anneal that crystallised,
        // and at the median ratio it deposits a composition inside the window.
        let next = p.ask(1).unwrap().remove(0);
        let c = p.candidate_of(&next.parameters).unwrap();
        let best = p
            .candidates
            .iter()
            .map(|x| p.composition_probability(x.powers))
            .fold(0.0, f64::max);
        assert_eq!(p.composition_probability(c.powers), best);
        assert!(best > 0.4 && c.temperature_c == 700.0, "{best} {c:?}");
        let [lo, hi] = p.window();
        assert!((lo..=hi).contains(&FilmPlanner::composition(c.powers, r)));
        assert!(next.rationale.contains("rate ratio"), "{}", next.rationale);
        // The target formed at 700 °C, so that anneal is believed likelier.
        assert!(p.forms_at[p.level(700.0).unwrap()].belief() > TEMPERATURE_PRIOR);
    }

    #[test]
    fn an_amorphous_film_rules_out_colder_and_shorter_anneals_and_teaches_no_composition() {
        let mut p = planner();
        let cold = FilmCandidate {
            powers: [100.0, 100.0],
            temperature_c: 400.0,
            dwell_hours: 4.0,
        };
        let prior = p.posterior();
        p.observe(&cold, &[("Zn2TiO4".into(), 0.05)]);
        assert_eq!(p.posterior(), prior);
        assert_eq!(p.crystallises(&cold), CRYSTALLISES_AFTER_AMORPHOUS);
        let hot = FilmCandidate {
            temperature_c: 700.0,
            ..cold
        };
        assert_eq!(p.crystallises(&hot), CRYSTALLISES_PRIOR);
    }

    #[test]
    fn proposals_read_back_and_hypotheses_are_store_records() {
        let mut p = planner();
        let ask = p.ask(3).unwrap();
        assert_eq!(ask.len(), 3);
        for a in &ask {
            let c = p.candidate_of(&a.parameters).unwrap();
            assert!(p.candidates.contains(&c));
        }
        p.tell(Observation {
            parameters: ask[0].parameters.clone(),
            phases: vec![crate::observation::PhaseAmount {
                phase: "ZnTiO3".into(),
                weight_fraction: 0.95,
            }],
            ..Observation::default()
        })
        .unwrap();
        for h in p.hypotheses() {
            h.record.validate().unwrap();
        }
        assert!(p.tell(Observation::default()).is_err());
    }
}
