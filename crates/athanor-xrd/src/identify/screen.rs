//! Fast screening of candidates against what the current fit leaves unexplained: each
//! candidate's sticks, drawn as Gaussians and stretched by an isotropic strain of up to a few
//! percent, are projected onto the target; the score is the weighted least-squares gain of
//! adding that pattern with its best non-negative scale, (Σ w c t)² / Σ w c².

use super::candidate::Prepared;
use super::model::{gaussian_run, Grid};

/// Largest isotropic strain tried (fraction of d).
pub const MAX_STRAIN: f64 = 0.035;
/// Sticks weaker than this (0–100 scale) are left out of the screen.
const SCREEN_MIN_STICK: f64 = 0.5;

/// The best match of one candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Index into the library's prepared candidates.
    pub index: usize,
    /// Isotropic strain: d multiplied by (1 + strain).
    pub strain: f64,
    /// Width used, as a multiple of the pattern's typical FWHM.
    pub width_factor: f64,
    pub gain: f64,
}

/// Screens `candidates` (indices into `prepared`) against `target` with weights `w`.
/// `fwhm` is the pattern's typical peak width (degrees). Sorted by decreasing gain.
pub fn screen(
    grid: Grid<'_>,
    target: &[f64],
    w: &[f64],
    lines: &[(f64, f64)],
    prepared: &[Prepared],
    candidates: &[usize],
    fwhm: f64,
) -> Vec<Hit> {
    let mut scratch = vec![0.0; grid.x.len()];
    let mut hits: Vec<Hit> = candidates
        .iter()
        .filter_map(|&index| {
            best_for(grid, target, w, lines, &prepared[index], fwhm, &mut scratch).map(
                |(strain, width_factor, gain)| Hit {
                    index,
                    strain,
                    width_factor,
                    gain,
                },
            )
        })
        .collect();
    hits.sort_by(|a, b| b.gain.total_cmp(&a.gain));
    hits
}

fn best_for(
    grid: Grid<'_>,
    target: &[f64],
    w: &[f64],
    lines: &[(f64, f64)],
    prep: &Prepared,
    fwhm: f64,
    scratch: &mut [f64],
) -> Option<(f64, f64, f64)> {
    let q: Vec<(f64, f64)> = prep
        .sticks
        .iter()
        .filter(|s| s.intensity >= SCREEN_MIN_STICK)
        .map(|s| (s.q0, s.intensity))
        .collect();
    if q.is_empty() {
        return None;
    }
    // Coarse pass with broadened peaks, then a fine pass around the best coarse strain.
    let coarse_step = 0.004;
    let coarse_width = fwhm.max(0.25);
    let mut best = (0.0, 1.0, f64::NEG_INFINITY);
    let n_coarse = (MAX_STRAIN / coarse_step).round() as i32;
    for i in -n_coarse..=n_coarse {
        let e = f64::from(i) * coarse_step;
        let g = gain(grid, target, w, lines, &q, e, coarse_width, scratch);
        if g > best.2 {
            best = (e, 1.0, g);
        }
    }
    let centre = best.0;
    best.2 = f64::NEG_INFINITY;
    let fine_step = 0.0005;
    for factor in [1.0, 2.5] {
        for i in -8..=8 {
            let e = centre + f64::from(i) * fine_step;
            if e.abs() > MAX_STRAIN + 1e-9 {
                continue;
            }
            let g = gain(grid, target, w, lines, &q, e, fwhm * factor, scratch);
            if g > best.2 {
                best = (e, factor, g);
            }
        }
    }
    (best.2 > 0.0).then_some(best)
}

/// The least-squares gain of the Gaussian stick pattern at strain `e`.
#[allow(clippy::too_many_arguments)]
fn gain(
    grid: Grid<'_>,
    target: &[f64],
    w: &[f64],
    lines: &[(f64, f64)],
    q: &[(f64, f64)],
    e: f64,
    fwhm: f64,
    scratch: &mut [f64],
) -> f64 {
    let x = grid.x;
    let (Some(&first), Some(&last)) = (x.first(), x.last()) else {
        return 0.0;
    };
    let mut gauss: Vec<f64> = Vec::new();
    let stretch = 1.0 / ((1.0 + e) * (1.0 + e));
    let kg = 4.0 * std::f64::consts::LN_2 / (fwhm * fwhm);
    let amp = (kg / std::f64::consts::PI).sqrt();
    let reach = 2.0 * fwhm;
    let (mut lo_all, mut hi_all) = (usize::MAX, 0usize);
    for &(q0, intensity) in q {
        let sq = (q0 * stretch).sqrt();
        for &(lambda, weight) in lines {
            let s = lambda * sq / 2.0;
            if s >= 1.0 {
                continue;
            }
            let c = 2.0 * s.asin().to_degrees();
            if c + reach < first || c - reach > last {
                continue;
            }
            let lo = x.partition_point(|&t| t < c - reach);
            let hi = x.partition_point(|&t| t <= c + reach);
            let a = intensity * weight * amp;
            match grid.step {
                Some(step) if hi > lo => {
                    gauss.clear();
                    gauss.resize(hi - lo, 0.0);
                    gaussian_run(&mut gauss, x[lo], step, c, kg);
                    for (s, g) in scratch[lo..hi].iter_mut().zip(&gauss) {
                        *s += a * g;
                    }
                }
                _ => {
                    for i in lo..hi {
                        let dx = x[i] - c;
                        scratch[i] += a * (-kg * dx * dx).exp();
                    }
                }
            }
            lo_all = lo_all.min(lo);
            hi_all = hi_all.max(hi);
        }
    }
    if lo_all >= hi_all {
        return 0.0;
    }
    let (mut ct, mut cc) = (0.0, 0.0);
    for i in lo_all..hi_all {
        let c = scratch[i];
        ct += w[i] * c * target[i];
        cc += w[i] * c * c;
        scratch[i] = 0.0;
    }
    if ct <= 0.0 || cc <= 0.0 {
        0.0
    } else {
        ct * ct / cc
    }
}
