//! Whole-pattern fitting of a set of phases: non-negative scale factors and background terms by
//! NNLS for fixed shapes, then Levenberg–Marquardt refinement of zero shift, instrument widths,
//! each phase's lattice (in its symmetry-preserving directions) and size broadening, with the
//! linear parameters re-solved by NNLS at every trial step (variable projection).

use super::candidate::Prepared;
use super::linalg::{cholesky_solve, nnls_normal, spd_inverse};
pub use super::model::uniform_step;
use super::model::{add_profile, Derivatives, Grid, Instrument, PhaseShape};

/// The measured data and the fixed parts of the model.
#[derive(Debug, Clone)]
pub struct FitData {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Weights 1/σ².
    pub w: Vec<f64>,
    /// Fixed background (from the estimate).
    pub base: Vec<f64>,
    /// Background correction terms (Chebyshev polynomials on the grid), refined linearly.
    pub bg_terms: Vec<Vec<f64>>,
    /// Radiation lines (wavelength Å, weight).
    pub lines: Vec<(f64, f64)>,
    /// The step of `x` when evenly spaced ([`uniform_step`]).
    pub step: Option<f64>,
}

impl FitData {
    /// The grid the profiles are drawn on.
    pub fn grid(&self) -> Grid<'_> {
        Grid {
            x: &self.x,
            step: self.step,
        }
    }
}

/// One phase's refinable state.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseState {
    /// Index into the library's prepared candidates.
    pub index: usize,
    /// Lattice parameters along the candidate's basis directions.
    pub p: Vec<f64>,
    /// Lorentzian size term (degrees at cosθ = 1).
    pub y: f64,
    /// Scale factor (multiplies the 0–100 stick intensities as peak areas in counts·degree).
    pub scale: f64,
}

/// Everything refined.
#[derive(Debug, Clone, PartialEq)]
pub struct FitState {
    pub inst: Instrument,
    pub phases: Vec<PhaseState>,
    pub bg: Vec<f64>,
}

/// What to refine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitControl {
    /// Levenberg–Marquardt iterations at most.
    pub iterations: usize,
    /// Refine U and W (else they stay fixed; the zero shift is always refined).
    pub widths: bool,
    /// Refine lattices.
    pub lattice: bool,
    /// Compute the parameters' covariance (only a reported fit needs it).
    pub covariance: bool,
}

/// The result of a fit.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    pub state: FitState,
    pub rwp: f64,
    /// Goodness of fit χ²/(N − P).
    pub gof: f64,
    /// Covariance of all parameters (layout order, row-major; empty when singular or not
    /// asked for).
    pub cov: Vec<f64>,
    pub layout: Layout,
    /// The calculated pattern and its background part at the final state.
    pub calc: Vec<f64>,
    pub background: Vec<f64>,
}

/// Where each parameter sits in the parameter vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// zero, then (when refined) U, W.
    pub n_global: usize,
    /// Per phase: offset of (scale, y, p…).
    pub phase_offset: Vec<usize>,
    pub bg_offset: usize,
    pub total: usize,
}

fn layout(state: &FitState, prepared: &[Prepared], control: &FitControl, n_bg: usize) -> Layout {
    let n_global = if control.widths { 3 } else { 1 };
    let mut off = n_global;
    let mut phase_offset = Vec::with_capacity(state.phases.len());
    for ph in &state.phases {
        phase_offset.push(off);
        let k = if control.lattice {
            prepared[ph.index].lattice.len()
        } else {
            0
        };
        off += 2 + k;
    }
    Layout {
        n_global,
        phase_offset,
        bg_offset: off,
        total: off + n_bg,
    }
}

/// The unit-scale profile of one phase.
pub fn phase_profile(
    data: &FitData,
    prepared: &Prepared,
    inst: &Instrument,
    ph: &PhaseState,
    out: &mut [f64],
) {
    out.iter_mut().for_each(|v| *v = 0.0);
    let shape = PhaseShape {
        g: prepared.lattice.g(&ph.p),
        y: ph.y,
    };
    add_profile(
        out,
        data.grid(),
        &prepared.sticks,
        &data.lines,
        inst,
        &shape,
        None,
    );
}

/// Solves the linear parameters (scales ≥ 0, background terms free) for fixed profiles and
/// returns χ².
fn solve_linear(data: &FitData, profiles: &[Vec<f64>], state: &mut FitState) -> f64 {
    let np = profiles.len();
    let nb = data.bg_terms.len();
    let m = np + nb;
    let n = data.x.len();
    let col = |j: usize| -> &[f64] {
        if j < np {
            &profiles[j]
        } else {
            &data.bg_terms[j - np]
        }
    };
    let mut a = vec![0.0; m * m];
    let mut b = vec![0.0; m];
    let target: Vec<f64> = (0..n).map(|i| data.y[i] - data.base[i]).collect();
    let mut wc = vec![0.0; n];
    for j in 0..m {
        let cj = col(j);
        for i in 0..n {
            wc[i] = data.w[i] * cj[i];
        }
        b[j] = dot(&wc, &target);
        for k in j..m {
            let v = dot(&wc, col(k));
            a[j * m + k] = v;
            a[k * m + j] = v;
        }
    }
    let constrained: Vec<bool> = (0..m).map(|j| j < np).collect();
    let x = nnls_normal(&a, &b, m, &constrained);
    for (ph, s) in state.phases.iter_mut().zip(&x) {
        ph.scale = *s;
    }
    state.bg = x[np..].to_vec();
    chi2_of(data, profiles, state)
}

fn chi2_of(data: &FitData, profiles: &[Vec<f64>], state: &FitState) -> f64 {
    let mut chi2 = 0.0;
    for i in 0..data.x.len() {
        let mut c = data.base[i];
        for (p, ph) in profiles.iter().zip(&state.phases) {
            c += ph.scale * p[i];
        }
        for (t, b) in data.bg_terms.iter().zip(&state.bg) {
            c += b * t[i];
        }
        let r = data.y[i] - c;
        chi2 += data.w[i] * r * r;
    }
    chi2
}

/// Σ aᵢbᵢ in four interleaved partial sums (which the compiler vectorises).
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for t in 0..4 {
            acc[t] += x[t] * y[t];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The calculated pattern, the background and each phase's scaled contribution.
pub fn calculate(
    data: &FitData,
    prepared: &[Prepared],
    state: &FitState,
) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let n = data.x.len();
    let mut parts = Vec::with_capacity(state.phases.len());
    for ph in &state.phases {
        let mut p = vec![0.0; n];
        phase_profile(data, &prepared[ph.index], &state.inst, ph, &mut p);
        parts.push(p);
    }
    let (total, background) = assemble(data, &parts, state);
    for (p, ph) in parts.iter_mut().zip(&state.phases) {
        p.iter_mut().for_each(|v| *v *= ph.scale);
    }
    (total, background, parts)
}

/// The calculated pattern and its background from unit-scale phase profiles.
fn assemble(data: &FitData, profiles: &[Vec<f64>], state: &FitState) -> (Vec<f64>, Vec<f64>) {
    let n = data.x.len();
    let mut background = data.base.clone();
    for (t, b) in data.bg_terms.iter().zip(&state.bg) {
        for i in 0..n {
            background[i] += b * t[i];
        }
    }
    let mut total = background.clone();
    for (p, ph) in profiles.iter().zip(&state.phases) {
        for i in 0..n {
            total[i] += ph.scale * p[i];
        }
    }
    (total, background)
}

/// Rwp = √(Σ w (y − c)² / Σ w y²).
pub fn rwp(data: &FitData, chi2: f64) -> f64 {
    let denom: f64 = data.y.iter().zip(&data.w).map(|(y, w)| w * y * y).sum();
    if denom > 0.0 {
        (chi2 / denom).sqrt()
    } else {
        0.0
    }
}

/// Fits `state` to `data`: linear parameters by NNLS, then Levenberg–Marquardt.
pub fn fit(
    data: &FitData,
    prepared: &[Prepared],
    mut state: FitState,
    control: &FitControl,
) -> FitOutcome {
    let n = data.x.len();
    let np = state.phases.len();
    let lay = layout(&state, prepared, control, data.bg_terms.len());
    let mut profiles = vec![vec![0.0; n]; np];
    for (ph, prof) in state.phases.iter().zip(profiles.iter_mut()) {
        phase_profile(data, &prepared[ph.index], &state.inst, ph, prof);
    }
    let mut chi2 = solve_linear(data, &profiles, &mut state);
    let mut lambda = 1e-3;
    let mut columns: Vec<Vec<f64>> = vec![vec![0.0; n]; lay.total];
    let mut scratch = vec![0.0; n];
    let mut trial_profiles = profiles.clone();
    let mut a = vec![0.0; lay.total * lay.total];
    for _iter in 0..control.iterations {
        jacobian(
            data,
            prepared,
            &state,
            control,
            &lay,
            &profiles,
            &mut columns,
            &mut scratch,
        );
        let (amat, g) = normal_equations(data, &state, &profiles, &columns);
        a.copy_from_slice(&amat);
        let mut improved = false;
        for _try in 0..6 {
            let m = lay.total;
            let mut damped = a.clone();
            for j in 0..m {
                damped[j * m + j] += lambda * a[j * m + j].max(1e-300);
            }
            let Some(delta) = cholesky_solve(&damped, &g, m) else {
                lambda *= 10.0;
                continue;
            };
            let mut trial = state.clone();
            apply_step(&mut trial, &delta, &lay, control, prepared);
            for (ph, prof) in trial.phases.iter().zip(trial_profiles.iter_mut()) {
                phase_profile(data, &prepared[ph.index], &trial.inst, ph, prof);
            }
            let c2 = solve_linear(data, &trial_profiles, &mut trial);
            if c2.is_finite() && c2 < chi2 {
                let gain = (chi2 - c2) / chi2.max(1e-300);
                state = trial;
                std::mem::swap(&mut profiles, &mut trial_profiles);
                chi2 = c2;
                lambda = (lambda / 4.0).max(1e-7);
                improved = gain > 1e-5;
                break;
            }
            lambda *= 6.0;
        }
        if !improved {
            break;
        }
    }
    let dof = (n as f64 - lay.total as f64).max(1.0);
    let gof = chi2 / dof;
    let cov = if control.covariance {
        covariance(data, prepared, &state, control, &lay, &profiles, gof)
    } else {
        Vec::new()
    };
    let (calc, background) = assemble(data, &profiles, &state);
    FitOutcome {
        rwp: rwp(data, chi2),
        state,
        gof,
        cov,
        layout: lay,
        calc,
        background,
    }
}

/// The parameters' covariance from the Jacobian at the final state (empty when singular).
fn covariance(
    data: &FitData,
    prepared: &[Prepared],
    state: &FitState,
    control: &FitControl,
    lay: &Layout,
    profiles: &[Vec<f64>],
    gof: f64,
) -> Vec<f64> {
    let n = data.x.len();
    let mut columns: Vec<Vec<f64>> = vec![vec![0.0; n]; lay.total];
    let mut scratch = vec![0.0; n];
    jacobian(
        data,
        prepared,
        state,
        control,
        lay,
        profiles,
        &mut columns,
        &mut scratch,
    );
    let (amat, _) = normal_equations(data, state, profiles, &columns);
    let m = lay.total;
    let mut cov = Vec::new();
    // Scale factors stuck at zero are removed from the inversion.
    let active: Vec<usize> = (0..m)
        .filter(|&j| {
            !lay.phase_offset.iter().zip(&state.phases).any(|(&o, ph)| {
                (j >= o && j < o + 2 + phase_k(prepared, ph, control)) && ph.scale <= 0.0
            })
        })
        .filter(|&j| amat[j * m + j] > 0.0)
        .collect();
    let ma = active.len();
    let mut sub = vec![0.0; ma * ma];
    for (r, &i) in active.iter().enumerate() {
        for (c, &j) in active.iter().enumerate() {
            sub[r * ma + c] = amat[i * m + j];
        }
    }
    // Scale by the diagonal for conditioning.
    let d: Vec<f64> = (0..ma).map(|r| sub[r * ma + r].sqrt()).collect();
    for r in 0..ma {
        for c in 0..ma {
            sub[r * ma + c] /= d[r] * d[c];
        }
    }
    if let Some(inv) = spd_inverse(&sub, ma) {
        let mut cov_full = vec![0.0; m * m];
        for (r, &i) in active.iter().enumerate() {
            for (c, &j) in active.iter().enumerate() {
                cov_full[i * m + j] = inv[r * ma + c] / (d[r] * d[c]) * gof;
            }
        }
        cov = cov_full;
    }
    cov
}

fn phase_k(prepared: &[Prepared], ph: &PhaseState, control: &FitControl) -> usize {
    if control.lattice {
        prepared[ph.index].lattice.len()
    } else {
        0
    }
}

/// Jacobian columns of the model (derivatives of calc, not of the residual).
#[allow(clippy::too_many_arguments)]
fn jacobian(
    data: &FitData,
    prepared: &[Prepared],
    state: &FitState,
    control: &FitControl,
    lay: &Layout,
    profiles: &[Vec<f64>],
    columns: &mut [Vec<f64>],
    scratch: &mut [f64],
) {
    for c in columns.iter_mut() {
        c.iter_mut().for_each(|v| *v = 0.0);
    }
    let n = data.x.len();
    let mut pos_cols: Vec<Vec<f64>> = Vec::new();
    for (pi, ph) in state.phases.iter().enumerate() {
        let prep = &prepared[ph.index];
        let off = lay.phase_offset[pi];
        let k = phase_k(prepared, ph, control);
        // Scale column: the unit profile.
        columns[off].copy_from_slice(&profiles[pi]);
        // All derivatives (zero shift, lattice, size, U, W) in one pass.
        if pos_cols.len() < k + 4 {
            pos_cols.resize_with(k + 4, || vec![0.0; n]);
        }
        for c in pos_cols.iter_mut().take(k + 4) {
            c.iter_mut().for_each(|v| *v = 0.0);
        }
        let shape = PhaseShape {
            g: prep.lattice.g(&ph.p),
            y: ph.y,
        };
        scratch.iter_mut().for_each(|v| *v = 0.0);
        add_profile(
            scratch,
            data.grid(),
            &prep.sticks,
            &data.lines,
            &state.inst,
            &shape,
            Some(Derivatives {
                basis: &prep.lattice.basis[..k],
                columns: &mut pos_cols[..k + 4],
            }),
        );
        let s = ph.scale;
        for i in 0..n {
            columns[0][i] += s * pos_cols[0][i];
        }
        for j in 0..k {
            for i in 0..n {
                columns[off + 2 + j][i] = s * pos_cols[1 + j][i];
            }
        }
        for i in 0..n {
            columns[off + 1][i] = s * pos_cols[k + 1][i];
        }
        if control.widths {
            for (col, src) in [(1usize, k + 2), (2, k + 3)] {
                for i in 0..n {
                    columns[col][i] += s * pos_cols[src][i];
                }
            }
        }
    }
    for (j, t) in data.bg_terms.iter().enumerate() {
        columns[lay.bg_offset + j].copy_from_slice(t);
    }
}

/// JᵀWJ and JᵀW(y − calc).
fn normal_equations(
    data: &FitData,
    state: &FitState,
    profiles: &[Vec<f64>],
    columns: &[Vec<f64>],
) -> (Vec<f64>, Vec<f64>) {
    let n = data.x.len();
    let m = columns.len();
    let mut resid = vec![0.0; n];
    for i in 0..n {
        let mut c = data.base[i];
        for (p, ph) in profiles.iter().zip(&state.phases) {
            c += ph.scale * p[i];
        }
        for (t, b) in data.bg_terms.iter().zip(&state.bg) {
            c += b * t[i];
        }
        resid[i] = data.w[i] * (data.y[i] - c);
    }
    let mut a = vec![0.0; m * m];
    let mut g = vec![0.0; m];
    let mut wc = vec![0.0; n];
    for j in 0..m {
        for i in 0..n {
            wc[i] = data.w[i] * columns[j][i];
        }
        g[j] = dot(&columns[j], &resid);
        for k in j..m {
            let v = dot(&wc, &columns[k]);
            a[j * m + k] = v;
            a[k * m + j] = v;
        }
    }
    (a, g)
}

/// Applies an LM step to the non-linear parameters (linear ones are re-solved), within bounds.
fn apply_step(
    state: &mut FitState,
    delta: &[f64],
    lay: &Layout,
    control: &FitControl,
    prepared: &[Prepared],
) {
    state.inst.zero = (state.inst.zero + delta[0]).clamp(-1.0, 1.0);
    if control.widths {
        state.inst.u = (state.inst.u + delta[1]).clamp(0.0, 0.5);
        state.inst.w = (state.inst.w + delta[2]).clamp(1e-5, 0.5);
    }
    for (pi, ph) in state.phases.iter_mut().enumerate() {
        let off = lay.phase_offset[pi];
        ph.y = (ph.y + delta[off + 1]).clamp(0.0, 3.0);
        if control.lattice {
            let k = prepared[ph.index].lattice.len();
            for j in 0..k {
                ph.p[j] = (ph.p[j] + delta[off + 2 + j]).clamp(-0.15, 0.15);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identify::candidate::{Candidate, CandidateLibrary, LibrarySettings};
    use crate::lattice::Lattice;
    use crate::structure::{Site, SpaceGroup, Structure};
    use crate::{Element, Radiation};

    fn rock_salt(a: f64) -> Structure {
        let mut sites = Vec::new();
        for f in [
            [0.0, 0.0, 0.0],
            [0.0, 0.5, 0.5],
            [0.5, 0.0, 0.5],
            [0.5, 0.5, 0.0],
        ] {
            sites.push(Site {
                label: "Mn".into(),
                element: Element::from_symbol("Mn").unwrap(),
                oxidation_state: None,
                frac: f,
                occupancy: 1.0,
                b_iso: None,
            });
            sites.push(Site {
                label: "O".into(),
                element: Element::from_symbol("O").unwrap(),
                oxidation_state: None,
                frac: f.map(|x| (x + 0.5) % 1.0),
                occupancy: 1.0,
                b_iso: None,
            });
        }
        Structure {
            name: "MnO".into(),
            lattice: Lattice::new(a, a, a, 90.0, 90.0, 90.0).unwrap(),
            sites,
            space_group: SpaceGroup {
                symbol: None,
                number: None,
            },
            z_declared: None,
        }
    }

    /// Levenberg–Marquardt recovers the known parameters of a synthetic pattern: lattice
    /// (from a cell 1.5 % off), zero shift, Gaussian width, size term and scale.
    #[test]
    fn lm_recovers_known_parameters() {
        let settings = LibrarySettings::new(Radiation::parse("CuKa1").unwrap());
        let lib = CandidateLibrary::build(
            vec![Candidate::from_structure("MnO", rock_salt(4.40))],
            &settings,
        )
        .unwrap();
        let prepared = lib.prepared();
        let x: Vec<f64> = (0..7001).map(|i| 20.0 + i as f64 * 0.01).collect();
        let truth_inst = Instrument {
            zero: 0.03,
            u: 0.0,
            v: 0.0,
            w: 0.004,
        };
        // The true cell is 4.445 Å: p such that g = g0 (4.40/4.445)².
        let r = &prepared[0].lattice;
        let factor = (4.40f64 / 4.445).powi(2) - 1.0;
        let n0 = r.basis[0];
        let along: f64 = (0..6).map(|i| n0[i] * r.g0[i]).sum::<f64>()
            / (0..6).map(|i| n0[i] * n0[i]).sum::<f64>();
        let p_true = factor * along;
        let truth = PhaseState {
            index: 0,
            p: vec![p_true],
            y: 0.05,
            scale: 40.0,
        };
        let mut data = FitData {
            x: x.clone(),
            y: vec![0.0; x.len()],
            w: vec![1.0; x.len()],
            base: vec![100.0; x.len()],
            bg_terms: vec![],
            lines: settings.lines(),
            step: uniform_step(&x),
        };
        let mut prof = vec![0.0; x.len()];
        phase_profile(&data, &prepared[0], &truth_inst, &truth, &mut prof);
        data.y = (0..x.len()).map(|i| 100.0 + 40.0 * prof[i]).collect();
        data.w = data.y.iter().map(|v| 1.0 / v).collect();
        let start = FitState {
            inst: Instrument {
                zero: 0.0,
                u: 0.0,
                v: 0.0,
                w: 0.008,
            },
            phases: vec![PhaseState {
                index: 0,
                p: vec![((4.40f64 / 4.435).powi(2) - 1.0) * along],
                y: 0.02,
                scale: 1.0,
            }],
            bg: vec![],
        };
        // Start from the unstrained 4.40 Å cell moved to 4.435 Å (as screening leaves it).
        let control = FitControl {
            iterations: 60,
            widths: true,
            lattice: true,
            covariance: true,
        };
        let out = fit(&data, prepared, start, &control);
        let lat = r.lattice(&out.state.phases[0].p).unwrap();
        assert!((lat.a - 4.445).abs() < 2e-4, "a = {}", lat.a);
        assert!(
            (out.state.inst.zero - 0.03).abs() < 2e-3,
            "{:?}",
            out.state.inst
        );
        assert!(
            (out.state.phases[0].y - 0.05).abs() < 5e-3,
            "{:?}",
            out.state.phases[0]
        );
        assert!(
            (out.state.inst.w - 0.004).abs() < 5e-4,
            "{:?}",
            out.state.inst
        );
        assert!(
            (out.state.phases[0].scale - 40.0).abs() < 0.4,
            "{:?}",
            out.state.phases[0]
        );
        assert!(out.rwp < 1e-3, "rwp {}", out.rwp);
    }
}
