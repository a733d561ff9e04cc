//! The pattern model the fits use: each phase's profile at unit scale from its sticks, refined
//! reciprocal metric, zero shift and widths (instrument Caglioti Gaussian U, V, W; the phase's
//! Lorentzian size term Y/cosθ), TCH pseudo-Voigt peaks over all radiation lines, each peak
//! evaluated only within a window of its centre (narrower for weak peaks; the Gaussian part
//! only where it is not negligible). Optionally, in the same pass, it also accumulates the analytic derivatives of
//! the profile with respect to the zero shift, the lattice, the size term and the instrument
//! widths U and W, which the Levenberg–Marquardt fit uses as its Jacobian columns.
//!
//! This is a lean re-statement of `profile::add_phase` for the inner loop of a fit: no
//! validation, no allocation, positions from a metric vector instead of `Reflection`s.

use std::f64::consts::{LN_2, PI};

use super::candidate::Stick;
use crate::profile::{lorentzian_fraction_within, PeakShape};

/// Half-width of the strongest peak's window in FWHM.
pub const WINDOW_FWHM: f64 = 12.0;
/// The narrowest window (FWHM each side): the Gaussian part is complete within it.
const MIN_WINDOW_FWHM: f64 = 4.0;

/// The half-width (in FWHM) of a stick's window: WINDOW_FWHM for the strongest stick (intensity
/// 100), narrower for weaker ones, so that no stick's Lorentzian is cut where it is higher than
/// the strongest stick's at its window's edge (the height at the edge falls as 1/(4W²)).
fn window_fwhm(intensity: f64) -> f64 {
    (WINDOW_FWHM * (intensity.max(0.0) / 100.0).sqrt()).clamp(MIN_WINDOW_FWHM, WINDOW_FWHM)
}

/// Global (instrument and pattern) parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instrument {
    /// Zero shift added to every 2θ (degrees).
    pub zero: f64,
    /// Gaussian FWHM² = U tan²θ + V tanθ + W (deg²).
    pub u: f64,
    pub v: f64,
    pub w: f64,
}

/// A phase as drawn: its refined metric vector and Lorentzian size term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseShape {
    /// The six entries of G* (Å⁻²).
    pub g: [f64; 6],
    /// Lorentzian FWHM at cosθ = 1 (degrees): size broadening Y/cosθ.
    pub y: f64,
}

/// Where the derivatives of the profile go: with `k` lattice directions, columns 0..k+4 hold
/// ∂profile/∂ zero shift, ∂/∂p₁ … ∂/∂p_k, then ∂/∂Y (size term), ∂/∂U and ∂/∂W (instrument).
#[derive(Debug)]
pub struct Derivatives<'a> {
    /// The lattice basis directions (dq/dpⱼ = v·Nⱼ).
    pub basis: &'a [[f64; 6]],
    /// `basis.len() + 4` output columns, each of the grid's length.
    pub columns: &'a mut [Vec<f64>],
}

/// Beyond kg·dx² = this, a Gaussian term (< e⁻⁴⁰ of its peak) is left out.
const GAUSSIAN_CUTOFF: f64 = 40.0;

/// The 2θ grid a profile is drawn on.
#[derive(Debug, Clone, Copy)]
pub struct Grid<'a> {
    /// Increasing 2θ (degrees).
    pub x: &'a [f64],
    /// The step when the points are evenly spaced (see [`uniform_step`]): the Gaussian parts are
    /// then computed by a two-term recurrence instead of an exponential per point.
    pub step: Option<f64>,
}

/// The step of an evenly spaced grid (every point within 10⁻⁹ steps of x₀ + iΔ), else `None`.
pub fn uniform_step(x: &[f64]) -> Option<f64> {
    let (&first, &last) = (x.first()?, x.last()?);
    if x.len() < 2 {
        return None;
    }
    let step = (last - first) / (x.len() - 1) as f64;
    let even = step > 0.0
        && x.iter()
            .enumerate()
            .all(|(i, &t)| (t - first - i as f64 * step).abs() <= 1e-9 * step);
    even.then_some(step)
}

/// exp(−kg (x₀ + iΔ − c)²) for i = 0, 1, … (one per element of `out`) by the exact recurrence
/// G(i+1) = G(i)·R(i), R(i+1) = R(i)·e^(−2kgΔ²).
pub fn gaussian_run(out: &mut [f64], x0: f64, step: f64, center: f64, kg: f64) {
    let dx0 = x0 - center;
    let mut g = (-kg * dx0 * dx0).exp();
    let mut r = (-kg * (2.0 * dx0 * step + step * step)).exp();
    let c = (-2.0 * kg * step * step).exp();
    for v in out.iter_mut() {
        *v = g;
        g *= r;
        r *= c;
    }
}

/// Adds a phase's profile at unit scale (stick intensities as areas) to `out`; with `deriv`,
/// adds its derivatives (see [`Derivatives`]) to the columns.
pub fn add_profile(
    out: &mut [f64],
    grid: Grid<'_>,
    sticks: &[Stick],
    lines: &[(f64, f64)],
    inst: &Instrument,
    phase: &PhaseShape,
    mut deriv: Option<Derivatives<'_>>,
) {
    let (Some(&first), Some(&last)) = (grid.x.first(), grid.x.last()) else {
        return;
    };
    // Gaussian factors exp(−kg dx²) of the current peak's points.
    let mut gauss: Vec<f64> = Vec::new();
    let g = &phase.g;
    for stick in sticks {
        let q: f64 = stick.v[0] * g[0]
            + stick.v[1] * g[1]
            + stick.v[2] * g[2]
            + stick.v[3] * g[3]
            + stick.v[4] * g[4]
            + stick.v[5] * g[5];
        if q <= 0.0 {
            continue;
        }
        let sq = q.sqrt();
        let window = window_fwhm(stick.intensity);
        let tail_share = lorentzian_fraction_within(window);
        for &(lambda, weight) in lines {
            let sin_t = lambda * sq / 2.0;
            if sin_t >= 1.0 {
                continue;
            }
            let theta = sin_t.asin();
            let cos_t = theta.cos();
            let center = 2.0 * theta.to_degrees() + inst.zero;
            let tan_t = sin_t / cos_t;
            let g2_raw = inst.u * tan_t * tan_t + inst.v * tan_t + inst.w;
            let g2 = g2_raw.max(1e-8);
            let lw = (phase.y / cos_t).max(0.0);
            let (shape, d_fwhm, d_eta) = PeakShape::tch_with_gradient(g2.sqrt(), lw);
            let gamma = shape.fwhm;
            let half = window * gamma;
            if center + half < first || center - half > last {
                continue;
            }
            let x = grid.x;
            let lo = x.partition_point(|&t| t < center - half);
            let hi = x.partition_point(|&t| t <= center + half);
            if lo >= hi {
                continue;
            }
            let area = stick.intensity * weight;
            let kl = 4.0 / (gamma * gamma);
            let lu0 = area * 2.0 / (PI * gamma) / tail_share;
            let al = lu0 * shape.eta;
            let kg = 4.0 * LN_2 / (gamma * gamma);
            let gu0 = area * (4.0 * LN_2 / PI).sqrt() / gamma;
            let ag = gu0 * (1.0 - shape.eta);
            // The points where the Gaussian part is not negligible, and its factors there.
            let reach = (GAUSSIAN_CUTOFF / kg).sqrt();
            let glo = lo + x[lo..hi].partition_point(|&t| t < center - reach);
            let ghi = lo + x[lo..hi].partition_point(|&t| t <= center + reach);
            gauss.clear();
            gauss.resize(ghi - glo, 0.0);
            match grid.step {
                Some(step) if ghi > glo => gaussian_run(&mut gauss, x[glo], step, center, kg),
                _ => {
                    for (v, &t) in gauss.iter_mut().zip(&x[glo..ghi]) {
                        let dx = t - center;
                        *v = (-kg * dx * dx).exp();
                    }
                }
            }
            let gaussian_at = |i: usize| {
                if i >= glo && i < ghi {
                    gauss[i - glo]
                } else {
                    0.0
                }
            };
            match deriv.as_mut() {
                None => {
                    for (y, &t) in out[lo..hi].iter_mut().zip(&x[lo..hi]) {
                        let dx = t - center;
                        *y += al / (1.0 + kl * dx * dx);
                    }
                    for (y, gv) in out[glo..ghi].iter_mut().zip(&gauss) {
                        *y += ag * gv;
                    }
                }
                Some(d) => {
                    let k = d.basis.len().min(6);
                    // dc/dq = d(2θ°)/dq = (180/π)·λ / (2 √q cosθ).
                    let dc_dq = (180.0 / PI) * lambda / (2.0 * sq * cos_t);
                    let mut dc = [0.0f64; 7];
                    dc[0] = 1.0;
                    for (j, n) in d.basis.iter().enumerate().take(k) {
                        let dq: f64 = (0..6).map(|i| stick.v[i] * n[i]).sum();
                        dc[j + 1] = dc_dq * dq;
                    }
                    // Chain rule of the widths: Y → Γ_L = Y/cosθ; U, W → Γ_G = √(U tan²θ + V tanθ + W).
                    let dl_dy = 1.0 / cos_t;
                    let dg_dw = if g2_raw > 1e-8 { 0.5 / g2.sqrt() } else { 0.0 };
                    let dg_du = dg_dw * tan_t * tan_t;
                    // (∂Γ, ∂η) per parameter Y, U, W.
                    let chain = [
                        (d_fwhm[1] * dl_dy, d_eta[1] * dl_dy),
                        (d_fwhm[0] * dg_du, d_eta[0] * dg_du),
                        (d_fwhm[0] * dg_dw, d_eta[0] * dg_dw),
                    ];
                    let (pos_cols, width_cols) = d.columns.split_at_mut(k + 1);
                    for i in lo..hi {
                        let dx = x[i] - center;
                        let d2 = dx * dx;
                        let den = 1.0 / (1.0 + kl * d2);
                        let lu = lu0 * den;
                        let e = kg * d2;
                        let gu = gu0 * gaussian_at(i);
                        let lor = shape.eta * lu;
                        let gau = (1.0 - shape.eta) * gu;
                        out[i] += lor + gau;
                        // ∂/∂c of f(x − c) = −f'(dx): Lorentzian 2 kl dx L², Gaussian 2 kg dx G.
                        let dfdc = 2.0 * dx * (kl * lor * den + kg * gau);
                        for (col, dcj) in pos_cols.iter_mut().zip(&dc) {
                            col[i] += dfdc * dcj;
                        }
                        // ∂f/∂Γ = L/Γ (2 kl dx² den − 1) + G/Γ (2 kg dx² − 1); ∂f/∂η = L₁ − G₁.
                        let dfdg =
                            (lor * (2.0 * kl * d2 * den - 1.0) + gau * (2.0 * e - 1.0)) / gamma;
                        let dfde = lu - gu;
                        for (col, (cg, ce)) in width_cols.iter_mut().zip(&chain) {
                            col[i] += dfdg * cg + dfde * ce;
                        }
                    }
                }
            }
        }
    }
}

/// The 2θ (degrees, first line, no zero shift) of a reflection of 1/d² = q.
pub fn two_theta_of(q: f64, lambda: f64) -> Option<f64> {
    let s = lambda * q.max(0.0).sqrt() / 2.0;
    (s < 1.0).then(|| 2.0 * s.asin().to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_stick(d: f64) -> Stick {
        let q = 1.0 / (d * d);
        Stick {
            v: [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            intensity: 10.0,
            q0: q,
        }
    }

    #[test]
    fn profile_area_is_the_stick_intensity_and_peak_sits_at_bragg() {
        let grid: Vec<f64> = (0..8000).map(|i| 20.0 + i as f64 * 0.005).collect();
        let d = 2.5;
        let stick = one_stick(d);
        let phase = PhaseShape {
            g: [1.0 / (d * d), 0.0, 0.0, 0.0, 0.0, 0.0],
            y: 0.05,
        };
        let inst = Instrument {
            zero: 0.02,
            u: 0.0,
            v: 0.0,
            w: 0.01,
        };
        let mut out = vec![0.0; grid.len()];
        add_profile(
            &mut out,
            Grid {
                x: &grid,
                step: uniform_step(&grid),
            },
            &[stick],
            &[(1.5406, 1.0)],
            &inst,
            &phase,
            None,
        );
        let area: f64 = out.iter().sum::<f64>() * 0.005;
        assert!((area - 10.0).abs() < 0.05, "{area}");
        let imax = (0..out.len())
            .max_by(|&a, &b| out[a].total_cmp(&out[b]))
            .unwrap();
        let expect = 2.0 * (1.5406 / (2.0 * d)).asin().to_degrees() + 0.02;
        assert!((grid[imax] - expect).abs() < 0.006);
    }

    /// The analytic derivatives (zero shift, lattice, size, U, W) against forward differences.
    #[test]
    fn derivatives_match_finite_differences() {
        let grid: Vec<f64> = (0..4000).map(|i| 30.0 + i as f64 * 0.005).collect();
        let stick = one_stick(2.5);
        let basis = [[0.16, 0.0, 0.0, 0.0, 0.0, 0.0]];
        let inst = Instrument {
            zero: 0.0,
            u: 0.02,
            v: 0.0,
            w: 0.01,
        };
        let phase = PhaseShape {
            g: [0.16, 0.0, 0.0, 0.0, 0.0, 0.0],
            y: 0.04,
        };
        let draw = |inst: &Instrument, phase: &PhaseShape| {
            let mut out = vec![0.0; grid.len()];
            let g = Grid {
                x: &grid,
                step: uniform_step(&grid),
            };
            add_profile(&mut out, g, &[stick], &[(1.5406, 1.0)], inst, phase, None);
            out
        };
        let mut base = vec![0.0; grid.len()];
        let mut cols = vec![vec![0.0; grid.len()]; 5];
        add_profile(
            &mut base,
            Grid {
                x: &grid,
                step: uniform_step(&grid),
            },
            &[stick],
            &[(1.5406, 1.0)],
            &inst,
            &phase,
            Some(Derivatives {
                basis: &basis,
                columns: &mut cols,
            }),
        );
        let plain = draw(&inst, &phase);
        let top = plain.iter().copied().fold(0.0, f64::max);
        assert!(base
            .iter()
            .zip(&plain)
            .all(|(a, b)| (a - b).abs() <= 1e-12 * top));
        let h = 1e-7;
        let moved = [
            draw(&Instrument { zero: h, ..inst }, &phase),
            draw(
                &inst,
                &PhaseShape {
                    g: [0.16 + h * 0.16, 0.0, 0.0, 0.0, 0.0, 0.0],
                    ..phase
                },
            ),
            draw(
                &inst,
                &PhaseShape {
                    y: phase.y + h,
                    ..phase
                },
            ),
            draw(
                &Instrument {
                    u: inst.u + h,
                    ..inst
                },
                &phase,
            ),
            draw(
                &Instrument {
                    w: inst.w + h,
                    ..inst
                },
                &phase,
            ),
        ];
        for (c, plus) in moved.iter().enumerate() {
            let max = cols[c].iter().map(|v| v.abs()).fold(0.0, f64::max);
            assert!(max > 0.0, "column {c} is empty");
            for i in 0..grid.len() {
                let fd = (plus[i] - base[i]) / h;
                assert!(
                    (fd - cols[c][i]).abs() < 1e-3 * max,
                    "column {c}, point {i}: {fd} vs {}",
                    cols[c][i]
                );
            }
        }
    }

    /// The recurrence on an evenly spaced grid gives the profile of the per-point exponentials.
    #[test]
    fn even_grid_recurrence_matches_direct_evaluation() {
        let grid: Vec<f64> = (0..8001).map(|i| 10.0 + i as f64 * 0.01).collect();
        let step = uniform_step(&grid);
        assert!(step.is_some_and(|s| (s - 0.01).abs() < 1e-12));
        let mut uneven = grid.clone();
        uneven[100] += 0.003;
        assert_eq!(uniform_step(&uneven), None);
        // With g = (1, 0, …), v₀ = 1/d² puts each stick at its d.
        let sticks: Vec<Stick> = [2.5, 1.9, 1.31]
            .map(|d: f64| Stick {
                v: [1.0 / (d * d), 0.0, 0.0, 0.0, 0.0, 0.0],
                ..one_stick(d)
            })
            .to_vec();
        let inst = Instrument {
            zero: 0.01,
            u: 0.01,
            v: 0.0,
            w: 0.004,
        };
        let phase = PhaseShape {
            g: [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            y: 0.02,
        };
        let lines = [(1.5406, 1.0), (1.5444, 0.5)];
        let mut fast = vec![0.0; grid.len()];
        let mut direct = vec![0.0; grid.len()];
        add_profile(
            &mut fast,
            Grid { x: &grid, step },
            &sticks,
            &lines,
            &inst,
            &phase,
            None,
        );
        let plain = Grid {
            x: &grid,
            step: None,
        };
        add_profile(&mut direct, plain, &sticks, &lines, &inst, &phase, None);
        let max = direct.iter().copied().fold(0.0, f64::max);
        assert!(max > 0.0);
        for (a, b) in fast.iter().zip(&direct) {
            assert!((a - b).abs() <= 1e-9 * max, "{a} vs {b}");
        }
    }
}
