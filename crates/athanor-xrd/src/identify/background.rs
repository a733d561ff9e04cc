//! Background estimation: SNIP peak clipping (Ryan et al. 1988; Morháč et al. 1997) on
//! log-log-square-root transformed counts, and detection of broad amorphous humps that the
//! clipped background holds above a smooth low-order baseline.

use serde::{Deserialize, Serialize};

/// A broad hump in the background, as an amorphous phase (or a glass holder) would leave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmorphousHump {
    /// Centre of mass of the excess, degrees 2θ.
    pub two_theta: f64,
    /// Full width at half maximum of the excess, degrees.
    pub fwhm: f64,
    /// The excess area as a share of all signal above the smooth baseline (hump + peaks).
    pub area_fraction: f64,
}

/// The SNIP background of `y` with clipping half-windows growing to `max_half_width` points.
pub fn snip(y: &[f64], max_half_width: usize) -> Vec<f64> {
    let n = y.len();
    if n < 3 {
        return y.to_vec();
    }
    // LLS operator keeps the clipping even across counts that span decades.
    let mut v: Vec<f64> = y
        .iter()
        .map(|&c| ((c.max(0.0) + 1.0).sqrt() + 1.0).ln().max(0.0) + 1.0)
        .map(f64::ln)
        .collect();
    let mut next = v.clone();
    let m = max_half_width.min(n / 2).max(1);
    // Decreasing windows (the "reversed" SNIP) clip broad peaks first and keep the shape tight.
    for p in (1..=m).rev() {
        for i in 0..n {
            if i >= p && i + p < n {
                let mean = 0.5 * (v[i - p] + v[i + p]);
                next[i] = v[i].min(mean);
            } else {
                next[i] = v[i];
            }
        }
        std::mem::swap(&mut v, &mut next);
    }
    v.iter()
        .map(|&s| {
            let a = s.exp() - 1.0;
            let b = a.exp() - 1.0;
            (b * b - 1.0).max(0.0)
        })
        .collect()
}

/// Background for a pattern: SNIP with windows up to `clip_deg` degrees, lightly smoothed.
pub fn estimate(two_theta: &[f64], y: &[f64], clip_deg: f64) -> Vec<f64> {
    let step = mean_step(two_theta);
    let half = ((clip_deg / step).round() as usize).max(2);
    let raw = snip(&smooth(y, 2), half);
    smooth(&raw, (half / 8).max(1))
}

/// Mean grid step (degrees), at least 1e-6.
pub fn mean_step(two_theta: &[f64]) -> f64 {
    match (two_theta.first(), two_theta.last()) {
        (Some(a), Some(b)) if two_theta.len() > 1 => {
            ((b - a) / (two_theta.len() - 1) as f64).max(1e-6)
        }
        _ => 1.0,
    }
}

/// A moving average over ±`half` points (shrinking at the ends).
pub fn smooth(y: &[f64], half: usize) -> Vec<f64> {
    let n = y.len();
    let mut prefix = vec![0.0; n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] + y[i];
    }
    (0..n)
        .map(|i| {
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(n);
            (prefix[hi] - prefix[lo]) / (hi - lo) as f64
        })
        .collect()
}

/// Broad humps: regions at least `min_width` degrees wide where the fine background (clipped
/// with narrow windows, so it keeps broad features) stands more than 5σ above the coarse one
/// (clipped with wide windows) and whose excess is at least 1 % of the signal above the coarse
/// background. Returns the humps and the excess curve inside them (zero elsewhere).
pub fn amorphous_humps(
    two_theta: &[f64],
    y: &[f64],
    coarse: &[f64],
    fine: &[f64],
    min_width: f64,
) -> (Vec<AmorphousHump>, Vec<f64>) {
    let n = two_theta.len();
    let mut curve = vec![0.0; n];
    let signal: f64 = (0..n).map(|i| (y[i] - coarse[i]).max(0.0)).sum();
    let half = ((0.5 / mean_step(two_theta)).round() as usize).max(1);
    let excess_raw: Vec<f64> = (0..n).map(|i| (fine[i] - coarse[i]).max(0.0)).collect();
    let excess_s = smooth(&excess_raw, half);
    let excess = |j: usize| excess_s[j];
    let sig = |j: usize| coarse[j].max(1.0).sqrt();
    let mut humps = Vec::new();
    let mut i = 0;
    while i < n {
        if excess(i) <= 5.0 * sig(i) {
            i += 1;
            continue;
        }
        // Extend to where the excess falls under 1σ on each side.
        let mut start = i;
        while start > 0 && excess(start - 1) > sig(start - 1) {
            start -= 1;
        }
        let mut end = i;
        while end + 1 < n && excess(end + 1) > sig(end + 1) {
            end += 1;
        }
        let area: f64 = (start..=end).map(excess).sum();
        let peak = (start..=end).map(excess).fold(0.0, f64::max);
        let above: Vec<usize> = (start..=end).filter(|&j| excess(j) >= peak / 2.0).collect();
        let fwhm = match (above.first(), above.last()) {
            (Some(&a), Some(&b)) => two_theta[b] - two_theta[a],
            _ => 0.0,
        };
        if fwhm >= min_width && signal > 0.0 && area / signal >= 0.01 {
            let centre = (start..=end).map(|j| two_theta[j] * excess(j)).sum::<f64>() / area;
            humps.push(AmorphousHump {
                two_theta: centre,
                fwhm,
                area_fraction: area / signal,
            });
            for (j, c) in curve.iter_mut().enumerate().take(end + 1).skip(start) {
                *c = excess(j);
            }
        }
        i = end + 1;
    }
    (humps, curve)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{gaussian, ChebyshevBackground};

    #[test]
    fn snip_recovers_a_chebyshev_background_under_peaks() {
        let grid: Vec<f64> = (0..9001).map(|i| 10.0 + i as f64 * 0.01).collect();
        let bg = ChebyshevBackground::new(10.0, 100.0, vec![1000.0, -300.0, 120.0, -40.0]).unwrap();
        let truth: Vec<f64> = grid.iter().map(|&t| bg.evaluate(t)).collect();
        let mut y = truth.clone();
        for (c, a) in [
            (20.0, 400.0),
            (33.3, 1200.0),
            (47.0, 900.0),
            (61.2, 300.0),
            (88.0, 500.0),
        ] {
            for (yi, &t) in y.iter_mut().zip(&grid) {
                *yi += a * gaussian(t - c, 0.15);
            }
        }
        let est = estimate(&grid, &y, 3.0);
        // Away from the very ends, the estimate stays within 2 % of the true background.
        for i in (300..8700).step_by(50) {
            let rel = (est[i] - truth[i]).abs() / truth[i];
            assert!(rel < 0.02, "2θ {}: {} vs {}", grid[i], est[i], truth[i]);
        }
        let fine = estimate(&grid, &y, 0.6);
        assert!(amorphous_humps(&grid, &y, &est, &fine, 2.0).0.is_empty());
    }

    #[test]
    fn a_broad_hump_is_reported() {
        let grid: Vec<f64> = (0..9001).map(|i| 10.0 + i as f64 * 0.01).collect();
        let mut y: Vec<f64> = grid.iter().map(|&t| 800.0 - 2.0 * t).collect();
        for (yi, &t) in y.iter_mut().zip(&grid) {
            *yi += 4000.0 * gaussian(t - 25.0, 6.0) + 900.0 * gaussian(t - 40.0, 0.1);
        }
        let coarse = estimate(&grid, &y, 3.0);
        let fine = estimate(&grid, &y, 0.6);
        let (humps, curve) = amorphous_humps(&grid, &y, &coarse, &fine, 2.0);
        // The excess curve holds most of the hump's area (4000 counts·degree).
        let area: f64 = curve.iter().sum::<f64>() * 0.01;
        assert!(area > 2500.0 && area < 4500.0, "{area}");
        assert_eq!(humps.len(), 1, "{humps:?}");
        assert!((humps[0].two_theta - 25.0).abs() < 1.0, "{humps:?}");
        assert!(humps[0].fwhm > 3.0 && humps[0].fwhm < 9.0, "{humps:?}");
    }
}
