//! The search over phase combinations: start from the background alone; at each step screen the
//! candidates against what the fit leaves unexplained, fit the best few as an added phase, keep
//! the one that fits best if it explains peaks the others did not; stop when the residual holds
//! no peak above the noise (or at the phase limit). Then drop phases the fit does not need and
//! refit the runners-up in each phase's place to give the alternatives.

use super::background::{self, AmorphousHump};
use super::candidate::{CandidateLibrary, Prepared};
use super::fit::{fit, uniform_step, FitControl, FitData, FitOutcome, FitState, PhaseState};
use super::model::Instrument;
use super::peaks::{find_peaks, Peak};
use super::screen::{screen, Hit};
use super::{IdentifyError, IdentifyOptions};
use crate::pattern::Pattern;

/// A phase is added only if it lowers Rwp by at least this share.
const MIN_RWP_GAIN: f64 = 0.1;
/// Peaks must stand this many σ above the noise.
const PEAK_SIGMA: f64 = 6.0;
/// A residual peak is unexplained when the fit accounts for less than this share of it.
const EXPLAINED_SHARE: f64 = 0.6;
/// Residual peaks lower than this share of the strongest observed peak are noise-level ripples.
const MIN_RELATIVE_HEIGHT: f64 = 0.01;

/// The pattern prepared for fitting.
#[derive(Debug, Clone)]
pub struct Prepared2 {
    pub data: FitData,
    pub variance: Vec<f64>,
    /// Observed peaks on the pattern minus the background estimate.
    pub observed: Vec<Peak>,
    pub humps: Vec<AmorphousHump>,
    /// Typical peak FWHM (degrees).
    pub fwhm: f64,
    pub max_height: f64,
    pub initial: Instrument,
    pub instrument_given: bool,
}

/// Background, noise, peaks and the starting instrument of a pattern.
pub fn prepare_pattern(
    pattern: &Pattern,
    library: &CandidateLibrary,
    options: &IdentifyOptions,
) -> Result<Prepared2, IdentifyError> {
    let settings = library.settings();
    let lines = settings.lines();
    let lambda = lines.first().map_or(settings.radiation.wavelength, |l| l.0);
    if let Some(pw) = pattern.meta().wavelength {
        let known = [settings.radiation.wavelength, lambda];
        if known.iter().all(|k| (k - pw).abs() > 0.005) {
            return Err(IdentifyError::WavelengthMismatch {
                pattern: pw,
                library: settings.radiation.wavelength,
            });
        }
    }
    let x = pattern.two_theta().to_vec();
    let y = pattern.intensity().to_vec();
    if x.len() < 50 {
        return Err(IdentifyError::TooFewPoints {
            points: x.len(),
            needed: 50,
        });
    }
    let (_, xmax) = pattern.range();
    if xmax > settings.two_theta_max - 3.0 {
        return Err(IdentifyError::OutOfRange {
            pattern: xmax,
            library: settings.two_theta_max,
        });
    }
    let variance: Vec<f64> = match pattern.sigma() {
        Some(s) => s
            .iter()
            .zip(&y)
            .map(|(s, y)| (s * s).max(y.abs().max(1.0) * 1e-6))
            .collect(),
        None => y.iter().map(|v| v.max(1.0)).collect(),
    };
    // A coarse background (wide clipping windows: no humps) and a fine one (narrow windows:
    // keeps broad humps); their difference is the amorphous content, fitted as its own term.
    let base = background::estimate(&x, &y, 3.0);
    let fine = background::estimate(&x, &y, 0.6);
    let (humps, hump_curve) = background::amorphous_humps(&x, &y, &base, &fine, 2.0);
    let signal: Vec<f64> = (0..y.len())
        .map(|i| y[i] - base[i] - hump_curve[i])
        .collect();
    let observed = find_peaks(&x, &signal, &variance, PEAK_SIGMA);
    if observed.is_empty() {
        return Err(IdentifyError::NoSignal);
    }
    let max_height = observed.iter().map(|p| p.intensity).fold(0.0, f64::max);
    let mut strongest: Vec<&Peak> = observed.iter().filter(|p| p.fwhm > 0.0).collect();
    strongest.sort_by(|a, b| b.intensity.total_cmp(&a.intensity));
    let mut widths: Vec<f64> = strongest.iter().take(12).map(|p| p.fwhm).collect();
    widths.sort_by(f64::total_cmp);
    let step = background::mean_step(&x);
    // The narrowest third of the strongest peaks stands for the instrument (broader ones are
    // overlaps or small crystallites).
    let fwhm = widths
        .get(widths.len() / 3)
        .copied()
        .unwrap_or(0.1)
        .max(2.0 * step);
    let (initial, instrument_given) = match &options.instrument {
        Some(p) => (
            Instrument {
                zero: p.zero_shift_deg,
                u: p.u,
                v: p.v,
                w: p.w,
            },
            true,
        ),
        None => (
            Instrument {
                zero: 0.0,
                u: 0.0,
                v: 0.0,
                w: (0.7 * fwhm).powi(2),
            },
            false,
        ),
    };
    let (lo, hi) = (x[0], x[x.len() - 1]);
    let scale = base.iter().sum::<f64>() / base.len() as f64;
    let mut bg_terms: Vec<Vec<f64>> = (0..options.background_terms)
        .map(|k| {
            x.iter()
                .map(|&t| {
                    let u = (2.0 * t - lo - hi) / (hi - lo).max(1e-12);
                    scale * chebyshev(k, u)
                })
                .collect()
        })
        .collect();
    if !humps.is_empty() {
        bg_terms.push(hump_curve);
    }
    let w = variance.iter().map(|v| 1.0 / v).collect();
    let step = uniform_step(&x);
    Ok(Prepared2 {
        data: FitData {
            step,
            x,
            y,
            w,
            base,
            bg_terms,
            lines,
        },
        variance,
        observed,
        humps,
        fwhm,
        max_height,
        initial,
        instrument_given,
    })
}

fn chebyshev(k: usize, u: f64) -> f64 {
    let (mut a, mut b) = (1.0, u);
    match k {
        0 => 1.0,
        1 => u,
        _ => {
            for _ in 2..=k {
                let c = 2.0 * u * b - a;
                a = b;
                b = c;
            }
            b
        }
    }
}

/// Peaks of the residual that the fit does not account for.
pub fn unexplained(prep: &Prepared2, calc: &[f64], background: &[f64]) -> Vec<Peak> {
    let x = &prep.data.x;
    let y = &prep.data.y;
    let resid: Vec<f64> = y.iter().zip(calc).map(|(a, b)| a - b).collect();
    let smooth_signal = background::smooth(
        &y.iter()
            .zip(background)
            .map(|(a, b)| a - b)
            .collect::<Vec<_>>(),
        2,
    );
    find_peaks(x, &resid, &prep.variance, PEAK_SIGMA)
        .into_iter()
        .filter(|p| {
            let i = x.partition_point(|&t| t < p.two_theta).min(x.len() - 1);
            p.intensity >= (1.0 - EXPLAINED_SHARE) * smooth_signal[i].max(0.0)
                && p.intensity >= MIN_RELATIVE_HEIGHT * prep.max_height
        })
        .collect()
}

/// A phase's starting state from a screening hit: the isotropic strain of the hit, then the
/// lattice refined against the observed peak positions (each strong stick paired with the
/// nearest observed peak; 1/d² is linear in the lattice parameters, so this is a linear least
/// squares), which finds anisotropic changes (c/a, …) the isotropic screen cannot.
pub fn phase_from_hit(prepared: &[Prepared], hit: &Hit, fwhm: f64) -> PhaseState {
    phase_from_hit_with_peaks(prepared, hit, fwhm, &[], &[])
}

/// [`phase_from_hit`] with the observed peaks and radiation lines for the position refinement.
pub fn phase_from_hit_with_peaks(
    prepared: &[Prepared],
    hit: &Hit,
    fwhm: f64,
    observed: &[Peak],
    lines: &[(f64, f64)],
) -> PhaseState {
    let lat = &prepared[hit.index].lattice;
    // g = g₀ / (1 + ε)², expressed along the (orthogonal) basis directions.
    let factor = 1.0 / ((1.0 + hit.strain) * (1.0 + hit.strain)) - 1.0;
    let mut p: Vec<f64> = lat
        .basis
        .iter()
        .map(|n| {
            let nn: f64 = n.iter().map(|v| v * v).sum();
            let ng: f64 = n.iter().zip(&lat.g0).map(|(a, b)| a * b).sum();
            factor * ng / nn.max(1e-300)
        })
        .collect();
    if !observed.is_empty() && !lines.is_empty() {
        for tol in [0.4f64, 0.2, 0.1] {
            if let Some(better) =
                match_positions(&prepared[hit.index], &p, observed, lines, tol.max(fwhm))
            {
                p = better;
            }
        }
    }
    let y = if hit.width_factor > 1.5 {
        1.8 * fwhm
    } else {
        0.3 * fwhm
    };
    PhaseState {
        index: hit.index,
        p,
        y,
        scale: 0.0,
    }
}

/// One round of lattice refinement against observed peak positions; `None` when too few sticks
/// find a partner.
fn match_positions(
    prep: &Prepared,
    p: &[f64],
    observed: &[Peak],
    lines: &[(f64, f64)],
    tol: f64,
) -> Option<Vec<f64>> {
    let k = prep.lattice.len();
    if k == 0 {
        return None;
    }
    // The intensity-weighted mean wavelength: unresolved doublets peak near it.
    let wsum: f64 = lines.iter().map(|l| l.1).sum();
    let lambda = lines.iter().map(|l| l.0 * l.1).sum::<f64>() / wsum.max(1e-300);
    let g = prep.lattice.g(p);
    let mut a = vec![0.0; k * k];
    let mut b = vec![0.0; k];
    let mut pairs = 0;
    let strongest = prep.sticks.iter().map(|s| s.intensity).fold(0.0, f64::max);
    for s in prep
        .sticks
        .iter()
        .filter(|s| s.intensity >= 0.05 * strongest)
    {
        let q: f64 = s.v.iter().zip(&g).map(|(x, y)| x * y).sum();
        let Some(tt) = super::model::two_theta_of(q, lambda) else {
            continue;
        };
        let Some(near) = observed.iter().min_by(|x, y| {
            (x.two_theta - tt)
                .abs()
                .total_cmp(&(y.two_theta - tt).abs())
        }) else {
            continue;
        };
        if (near.two_theta - tt).abs() > tol {
            continue;
        }
        let st = (near.two_theta.to_radians() / 2.0).sin();
        let q_obs = 4.0 * st * st / (lambda * lambda);
        // q_obs − q(p) = Σ δpⱼ (v·Nⱼ)
        let row: Vec<f64> = prep
            .lattice
            .basis
            .iter()
            .map(|n| s.v.iter().zip(n).map(|(x, y)| x * y).sum())
            .collect();
        let w = s.intensity.sqrt() / (q * q).max(1e-300);
        for i in 0..k {
            b[i] += w * row[i] * (q_obs - q);
            for j in 0..k {
                a[i * k + j] += w * row[i] * row[j];
            }
        }
        pairs += 1;
    }
    if pairs < k + 2 {
        return None;
    }
    for i in 0..k {
        a[i * k + i] *= 1.0 + 1e-9;
    }
    let delta = super::linalg::cholesky_solve(&a, &b, k)?;
    let out: Vec<f64> = p.iter().zip(&delta).map(|(x, d)| x + d).collect();
    // Refuse changes beyond the screen's strain range.
    out.iter().all(|v| v.abs() < 0.15).then_some(out)
}

/// One explanation: a fitted set of phases.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub outcome: FitOutcome,
    pub unexplained: Vec<Peak>,
}

impl Explanation {
    pub fn indices(&self) -> Vec<usize> {
        self.outcome.state.phases.iter().map(|p| p.index).collect()
    }

    /// Rwp weighed against how far the phases' cells had to move from their references:
    /// Rwp · (1 + Σ (ε_p / ε₀)²), ε_p the volumetric strain (V/V₀)^(1/3) − 1 of phase p and
    /// ε₀ = 3 %. Comparing explanations by it prefers, of two that fit alike, the one whose
    /// references match the cells; a reference squeezed by several percent to mimic another
    /// phase's pattern loses to that phase.
    pub fn penalized_rwp(&self, prepared: &[Prepared]) -> f64 {
        let mut penalty = 0.0;
        for ph in &self.outcome.state.phases {
            let c = &prepared[ph.index];
            let v0 = c.candidate.structure.lattice.volume();
            if let Some(l) = c.lattice.lattice(&ph.p) {
                let e = (l.volume() / v0).cbrt() - 1.0;
                penalty += (e / STRAIN_SCALE).powi(2);
            }
        }
        self.outcome.rwp * (1.0 + penalty)
    }
}

/// The strain scale of [`Explanation::penalized_rwp`].
const STRAIN_SCALE: f64 = 0.03;

/// Fits a state and finds what it leaves unexplained (no covariance: an exploratory fit).
pub fn explain(
    prep: &Prepared2,
    prepared: &[Prepared],
    state: FitState,
    iterations: usize,
) -> Explanation {
    explain_with(prep, prepared, state, iterations, false)
}

/// [`explain`] for a fit that may be reported: with the parameters' covariance.
pub fn explain_reported(
    prep: &Prepared2,
    prepared: &[Prepared],
    state: FitState,
    iterations: usize,
) -> Explanation {
    explain_with(prep, prepared, state, iterations, true)
}

fn explain_with(
    prep: &Prepared2,
    prepared: &[Prepared],
    state: FitState,
    iterations: usize,
    covariance: bool,
) -> Explanation {
    let control = FitControl {
        iterations,
        widths: !prep.instrument_given,
        lattice: true,
        covariance,
    };
    let outcome = fit(&prep.data, prepared, state, &control);
    let unexplained = unexplained(prep, &outcome.calc, &outcome.background);
    Explanation {
        outcome,
        unexplained,
    }
}

fn unexplained_height(peaks: &[Peak]) -> f64 {
    peaks.iter().map(|p| p.intensity).sum()
}

/// The search's result: the chosen explanation and, per chosen phase, the runners-up fitted in
/// its place at the step it was added.
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub best: Explanation,
    pub runners_up: Vec<(usize, Vec<Hit>)>,
}

/// Fits several states, on two threads when there are several (results in the same order).
pub fn explain_all(
    prep: &Prepared2,
    prepared: &[Prepared],
    states: Vec<FitState>,
    iterations: usize,
) -> Vec<Explanation> {
    if states.len() < 2 {
        return states
            .into_iter()
            .map(|s| explain(prep, prepared, s, iterations))
            .collect();
    }
    let half = states.len().div_ceil(2);
    let mut states = states;
    let second: Vec<FitState> = states.split_off(half);
    std::thread::scope(|scope| {
        let handle = scope.spawn(|| {
            second
                .into_iter()
                .map(|s| explain(prep, prepared, s, iterations))
                .collect::<Vec<_>>()
        });
        let mut first: Vec<Explanation> = states
            .into_iter()
            .map(|s| explain(prep, prepared, s, iterations))
            .collect();
        // A panicking fit leaves its trials out.
        if let Ok(rest) = handle.join() {
            first.extend(rest);
        }
        first
    })
}

/// Greedy search with a few trials per step.
pub fn search(
    prep: &Prepared2,
    library: &CandidateLibrary,
    allowed: &[usize],
    options: &IdentifyOptions,
) -> SearchResult {
    let prepared = library.prepared();
    let empty = FitState {
        inst: prep.initial,
        phases: Vec::new(),
        bg: vec![0.0; prep.data.bg_terms.len()],
    };
    let mut current = explain(prep, prepared, empty, 1);
    // Before any phase, every observed peak is unexplained.
    current.unexplained = prep.observed.clone();
    let mut runners_up: Vec<(usize, Vec<Hit>)> = Vec::new();
    while current.outcome.state.phases.len() < options.max_phases {
        if current.unexplained.is_empty() {
            break;
        }
        // What is left: positive residual, damped where the fit already has intensity (so a
        // slightly misfit strong peak does not look like a new phase).
        let target = damp_against_phases(prep, &current);
        let in_use = current.indices();
        let pool: Vec<usize> = allowed
            .iter()
            .copied()
            .filter(|i| !in_use.contains(i))
            .collect();
        if pool.is_empty() {
            break;
        }
        let hits = screen(
            prep.data.grid(),
            &target,
            &prep.data.w,
            &prep.data.lines,
            prepared,
            &pool,
            prep.fwhm,
        );
        let top: Vec<&Hit> = hits.iter().take(options.trials_per_step).collect();
        if top.is_empty() {
            break;
        }
        let states: Vec<FitState> = top
            .iter()
            .map(|hit| {
                let mut s = current.outcome.state.clone();
                s.phases.push(phase_from_hit_with_peaks(
                    prepared,
                    hit,
                    prep.fwhm,
                    &prep.observed,
                    &prep.data.lines,
                ));
                s
            })
            .collect();
        let mut trials = explain_all(prep, prepared, states, options.search_iterations);
        trials.sort_by(|a, b| {
            a.penalized_rwp(prepared)
                .total_cmp(&b.penalized_rwp(prepared))
        });
        let Some(best) = trials.first() else { break };
        let old_u = unexplained_height(&current.unexplained);
        let new_u = unexplained_height(&best.unexplained);
        // A new phase must lower Rwp markedly: small gains come as easily from absorbing the
        // misfit of phases already there.
        let better_fit = best.outcome.rwp < (1.0 - MIN_RWP_GAIN) * current.outcome.rwp;
        let explains = new_u <= 0.8 * old_u || best.unexplained.len() < current.unexplained.len();
        let added = best.outcome.state.phases.last().map(|p| p.index);
        let contributes = best
            .outcome
            .state
            .phases
            .last()
            .is_some_and(|p| p.scale > 0.0);
        if !(better_fit && explains && contributes) {
            break;
        }
        if let Some(added) = added {
            let others: Vec<Hit> = trials[1..]
                .iter()
                .filter_map(|t| t.outcome.state.phases.last().map(|p| p.index))
                .filter_map(|i| top.iter().find(|h| h.index == i).map(|h| **h))
                .collect();
            runners_up.push((added, others));
        }
        current = trials.swap_remove(0);
    }
    SearchResult {
        best: current,
        runners_up,
    }
}

/// Damps the residual where the current phases already put intensity.
fn damp_against_phases(prep: &Prepared2, current: &Explanation) -> Vec<f64> {
    prep.data
        .y
        .iter()
        .zip(&current.outcome.calc)
        .zip(&current.outcome.background)
        .map(|((y, c), b)| {
            let r = (y - c).max(0.0);
            let model = (c - b).max(0.0);
            r * r / (r + model + 1e-9)
        })
        .collect()
}
