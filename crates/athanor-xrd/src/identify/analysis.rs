//! From the search's explanation to the reported analysis: final refinement, pruning of phases
//! the fit does not need, alternatives, weight fractions, lattice uncertainties, sizes,
//! confidences and the curves for a plot.

use super::candidate::{CandidateLibrary, Prepared};
use super::confidence::{confidence, Evidence};
use super::fit::{calculate, FitState};
use super::model::two_theta_of;
use super::quant::weight_fractions;
use super::report::{Alternative, Analysis, Curves, InstrumentReport, LatticeReport, PhaseReport};
use super::search::{
    explain, explain_all, explain_reported, phase_from_hit_with_peaks, Explanation, Prepared2,
    SearchResult,
};
use super::IdentifyOptions;

/// Scherrer constant used for crystallite sizes.
const SCHERRER_K: f64 = 0.9;
/// A phase whose removal raises Rwp by less than this share is dropped.
const PRUNE_SHARE: f64 = 0.01;

/// Finishes an identification.
pub fn finish(
    prep: &Prepared2,
    library: &CandidateLibrary,
    result: SearchResult,
    options: &IdentifyOptions,
) -> Analysis {
    let prepared = library.prepared();
    let mut best = explain_reported(
        prep,
        prepared,
        result.best.outcome.state.clone(),
        options.final_iterations,
    );
    // Prune: drop the least needed phase while the fit does not need it.
    let mut without = rwp_without_each(prep, prepared, &best, options);
    loop {
        if best.outcome.state.phases.len() < 2 {
            break;
        }
        let rwp = best.outcome.rwp;
        let weakest = without
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.as_ref().map(|e| (i, e)))
            .filter(|(_, e)| {
                e.outcome.rwp < rwp * (1.0 + PRUNE_SHARE)
                    && e.unexplained.len() <= best.unexplained.len()
            })
            .min_by(|a, b| a.1.outcome.rwp.total_cmp(&b.1.outcome.rwp))
            .map(|(i, _)| i);
        let Some(i) = weakest else { break };
        let mut state = best.outcome.state.clone();
        state.phases.remove(i);
        best = explain_reported(prep, prepared, state, options.final_iterations);
        without = rwp_without_each(prep, prepared, &best, options);
    }
    // Alternatives: each phase replaced by the runners-up of the step that added it, refined
    // as fully as the reported fit; one that fits better takes the phase's place.
    let mut alternatives: Vec<(Alternative, usize)> = Vec::new();
    let mut any_swap = false;
    if options.alternatives > 0 {
        let mut pos = 0;
        while pos < best.outcome.state.phases.len() {
            let index = best.outcome.state.phases[pos].index;
            let hits: Vec<_> = result
                .runners_up
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, h)| h.iter().take(2).copied().collect())
                .unwrap_or_default();
            let mut swapped = false;
            for hit in hits {
                if best.indices().contains(&hit.index) {
                    continue;
                }
                let mut state = best.outcome.state.clone();
                state.phases[pos] = phase_from_hit_with_peaks(
                    prepared,
                    &hit,
                    prep.fwhm,
                    &prep.observed,
                    &prep.data.lines,
                );
                // A short fit first; a full one only when it comes close.
                let mut e = explain(prep, prepared, state, options.search_iterations + 4);
                if e.penalized_rwp(prepared) < 1.1 * best.penalized_rwp(prepared) {
                    e = explain_reported(
                        prep,
                        prepared,
                        e.outcome.state.clone(),
                        options.final_iterations,
                    );
                }
                if e.penalized_rwp(prepared) < best.penalized_rwp(prepared) && !swapped {
                    let old_rwp = best.outcome.rwp;
                    let old = std::mem::replace(&mut best, e);
                    alternatives.retain(|(_, p)| *p != pos);
                    let _ = old_rwp;
                    alternatives.push((alternative(prepared, &old, &best), pos));
                    swapped = true;
                    any_swap = true;
                } else {
                    alternatives.push((alternative(prepared, &e, &best), pos));
                }
            }
            pos += 1;
        }
        // Scores against the explanation finally reported.
        for (a, _) in alternatives.iter_mut() {
            a.score = (best.penalized_rwp(prepared) / a.penalized_rwp.max(1e-300)).min(1.0);
        }
        // The fits without each phase only change when a phase was swapped.
        if any_swap {
            without = rwp_without_each(prep, prepared, &best, options);
        }
    }
    let rwp_alt: Vec<Option<f64>> = (0..best.outcome.state.phases.len())
        .map(|pos| {
            alternatives
                .iter()
                .filter(|(_, p)| *p == pos)
                // The alternative's Rwp on the reported fit's penalised scale.
                .map(|(a, _)| best.outcome.rwp * a.penalized_rwp / best.penalized_rwp(prepared))
                .reduce(f64::min)
        })
        .collect();
    let mut alternatives: Vec<Alternative> = alternatives.into_iter().map(|(a, _)| a).collect();
    alternatives.sort_by(|a, b| a.penalized_rwp.total_cmp(&b.penalized_rwp));
    alternatives.truncate(options.alternatives);
    let rwp_without: Vec<Option<f64>> = without
        .iter()
        .map(|w| w.as_ref().map(|e| e.outcome.rwp))
        .collect();
    report(prep, library, &best, &rwp_without, &rwp_alt, alternatives)
}

/// Finishes a refinement of a given set of phases (no pruning, no alternatives).
pub fn finish_refinement(
    prep: &Prepared2,
    library: &CandidateLibrary,
    result: SearchResult,
    options: &IdentifyOptions,
) -> Analysis {
    let prepared = library.prepared();
    let best = result.best;
    let without = rwp_without_each(prep, prepared, &best, options);
    let rwp_without: Vec<Option<f64>> = without
        .iter()
        .map(|w| w.as_ref().map(|e| e.outcome.rwp))
        .collect();
    let none = vec![None; best.outcome.state.phases.len()];
    report(prep, library, &best, &rwp_without, &none, Vec::new())
}

/// For each phase, the fit without it (with a single phase: the background alone).
fn rwp_without_each(
    prep: &Prepared2,
    prepared: &[Prepared],
    best: &Explanation,
    options: &IdentifyOptions,
) -> Vec<Option<Explanation>> {
    let states: Vec<FitState> = (0..best.outcome.state.phases.len())
        .map(|i| {
            let mut state = best.outcome.state.clone();
            state.phases.remove(i);
            state
        })
        .collect();
    explain_all(prep, prepared, states, options.search_iterations)
        .into_iter()
        .map(Some)
        .collect()
}

fn alternative(prepared: &[Prepared], e: &Explanation, best: &Explanation) -> Alternative {
    let penalized = e.penalized_rwp(prepared);
    let best_pen = best.penalized_rwp(prepared);
    let phases: Vec<&Prepared> = e
        .outcome
        .state
        .phases
        .iter()
        .map(|p| &prepared[p.index])
        .collect();
    Alternative {
        phases: phases.iter().map(|p| p.candidate.id.clone()).collect(),
        formulas: phases.iter().map(|p| p.candidate.formula.clone()).collect(),
        rwp: e.outcome.rwp,
        penalized_rwp: penalized,
        score: (best_pen / penalized.max(1e-300)).min(1.0),
    }
}

fn lattice_report(l: &crate::lattice::Lattice) -> LatticeReport {
    LatticeReport {
        a: l.a,
        b: l.b,
        c: l.c,
        alpha: l.alpha,
        beta: l.beta,
        gamma: l.gamma,
    }
}

fn as_array(l: &LatticeReport) -> [f64; 6] {
    [l.a, l.b, l.c, l.alpha, l.beta, l.gamma]
}

fn report(
    prep: &Prepared2,
    library: &CandidateLibrary,
    best: &Explanation,
    rwp_without: &[Option<f64>],
    rwp_alt: &[Option<f64>],
    alternatives: Vec<Alternative>,
) -> Analysis {
    let prepared = library.prepared();
    let out = &best.outcome;
    let state: &FitState = &out.state;
    let lay = &out.layout;
    let m = lay.total;
    let lambda = prep.data.lines.first().map_or(1.0, |l| l.0);
    // Weight fractions from S·ZMV.
    let np = state.phases.len();
    let mut k = Vec::with_capacity(np);
    let mut lattices = Vec::with_capacity(np);
    for ph in &state.phases {
        let prep_c = &prepared[ph.index];
        let lat = prep_c
            .lattice
            .lattice(&ph.p)
            .unwrap_or(prep_c.candidate.structure.lattice);
        k.push(100.0 / prep_c.raw_max.max(1e-300) * prep_c.cell_mass * lat.volume());
        lattices.push(lat);
    }
    let scales: Vec<f64> = state.phases.iter().map(|p| p.scale).collect();
    let scale_cov: Vec<f64> = if out.cov.len() == m * m {
        let mut c = vec![0.0; np * np];
        for (a, &oa) in lay.phase_offset.iter().enumerate() {
            for (b, &ob) in lay.phase_offset.iter().enumerate() {
                c[a * np + b] = out.cov[oa * m + ob];
            }
        }
        c
    } else {
        Vec::new()
    };
    let (wf, wf_sigma) = weight_fractions(&scales, &k, &scale_cov);
    let observed_height: f64 = prep.observed.iter().map(|p| p.intensity).sum();
    let unexplained_share = if observed_height > 0.0 {
        best.unexplained.iter().map(|p| p.intensity).sum::<f64>() / observed_height
    } else {
        0.0
    };
    let amorphous_share: f64 = prep.humps.iter().map(|h| h.area_fraction).sum();
    let mut phases = Vec::with_capacity(np);
    for (pi, ph) in state.phases.iter().enumerate() {
        let c = &prepared[ph.index];
        let lat = lattice_report(&lattices[pi]);
        // Lattice uncertainties: numeric Jacobian of the six parameters against p.
        let kdim = c.lattice.len();
        let off = lay.phase_offset[pi] + 2;
        let mut sig = [0.0f64; 6];
        if out.cov.len() == m * m && kdim > 0 && off + kdim <= m {
            let base = as_array(&lat);
            let mut jac = vec![[0.0f64; 6]; kdim];
            for (j, row) in jac.iter_mut().enumerate() {
                let mut p = ph.p.clone();
                let h = 1e-6;
                p[j] += h;
                if let Some(l) = c.lattice.lattice(&p) {
                    let moved = as_array(&lattice_report(&l));
                    for t in 0..6 {
                        row[t] = (moved[t] - base[t]) / h;
                    }
                }
            }
            for (t, s) in sig.iter_mut().enumerate() {
                let mut var = 0.0;
                for a in 0..kdim {
                    for b in 0..kdim {
                        var += jac[a][t] * jac[b][t] * out.cov[(off + a) * m + off + b];
                    }
                }
                *s = var.max(0.0).sqrt();
            }
        }
        let size = (ph.y > 1e-3).then(|| SCHERRER_K * lambda / ph.y.to_radians() / 10.0);
        let conf = confidence(&Evidence {
            rwp: out.rwp,
            rwp_without: rwp_without.get(pi).copied().flatten(),
            rwp_alternative: rwp_alt.get(pi).copied().flatten(),
            unexplained_share,
            amorphous_share,
        });
        phases.push(PhaseReport {
            id: c.candidate.id.clone(),
            name: c.candidate.name.clone(),
            formula: c.candidate.formula.clone(),
            space_group: c.candidate.space_group.clone(),
            weight_fraction: wf[pi],
            weight_fraction_sigma: wf_sigma[pi],
            lattice: lat,
            lattice_sigma: LatticeReport {
                a: sig[0],
                b: sig[1],
                c: sig[2],
                alpha: sig[3],
                beta: sig[4],
                gamma: sig[5],
            },
            crystallite_size_nm: size,
            confidence: conf,
            scale: ph.scale,
            rwp_without: rwp_without.get(pi).copied().flatten(),
        });
    }
    // Curves and reflection ticks.
    let (calc, background, parts) = calculate(&prep.data, prepared, state);
    let (lo, hi) = (
        prep.data.x.first().copied().unwrap_or(0.0),
        prep.data.x.last().copied().unwrap_or(0.0),
    );
    let ticks = state
        .phases
        .iter()
        .map(|ph| {
            let c = &prepared[ph.index];
            let g = c.lattice.g(&ph.p);
            c.sticks
                .iter()
                .filter(|s| s.intensity >= 0.5)
                .filter_map(|s| {
                    let q: f64 = s.v.iter().zip(&g).map(|(a, b)| a * b).sum();
                    two_theta_of(q, lambda).map(|t| t + state.inst.zero)
                })
                .filter(|t| *t >= lo && *t <= hi)
                .collect()
        })
        .collect();
    let curves = Curves {
        two_theta: prep.data.x.clone(),
        observed: prep.data.y.clone(),
        calculated: calc,
        background,
        phases: state
            .phases
            .iter()
            .zip(parts)
            .map(|(ph, p)| (prepared[ph.index].candidate.id.clone(), p))
            .collect(),
        ticks,
    };
    let mut warnings = Vec::new();
    for h in &prep.humps {
        warnings.push(format!(
            "amorphous hump at {:.1}° 2θ (FWHM {:.1}°, {:.1} % of the signal), fitted as a background term, not as a phase",
            h.two_theta,
            h.fwhm,
            100.0 * h.area_fraction
        ));
    }
    if let Some(p) = best
        .unexplained
        .iter()
        .max_by(|a, b| a.intensity.total_cmp(&b.intensity))
    {
        warnings.push(format!(
            "{} peak(s) unexplained, the strongest at {:.2}° 2θ ({:.0} counts above the fit, {:.0} % of the strongest observed peak): an unknown phase may be present",
            best.unexplained.len(),
            p.two_theta,
            p.intensity,
            100.0 * p.intensity / prep.max_height.max(1e-300)
        ));
    }
    if phases.is_empty() {
        warnings.push("no candidate phase explains the pattern".into());
    }
    Analysis {
        phases,
        rwp: out.rwp,
        gof: out.gof,
        unexplained_peaks: best.unexplained.clone(),
        alternatives,
        amorphous: prep.humps.clone(),
        instrument: InstrumentReport {
            u: state.inst.u,
            v: state.inst.v,
            w: state.inst.w,
            zero_shift_deg: state.inst.zero,
            estimated: !prep.instrument_given,
        },
        wavelength: lambda,
        warnings,
        curves,
    }
}
