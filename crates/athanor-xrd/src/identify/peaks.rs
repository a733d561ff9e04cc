//! Peak finding on a background-subtracted signal: local maxima of the lightly smoothed signal
//! that stand `threshold` standard deviations above the background and above the valleys to
//! their neighbours, with a half-maximum width and an interpolated position.

use serde::{Deserialize, Serialize};

use super::background::smooth;

/// A peak found in a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// Position, degrees 2θ.
    pub two_theta: f64,
    /// Height above the background (counts).
    pub intensity: f64,
    /// Full width at half maximum, degrees (0 when it could not be measured).
    pub fwhm: f64,
}

/// Peaks of `signal` (the pattern minus its background) whose height exceeds `threshold`·σ, with
/// σ² the variance of each point (`variance`). Sorted by position.
pub fn find_peaks(
    two_theta: &[f64],
    signal: &[f64],
    variance: &[f64],
    threshold: f64,
) -> Vec<Peak> {
    let n = two_theta.len();
    if n < 5 || signal.len() != n || variance.len() != n {
        return Vec::new();
    }
    let s = smooth(signal, 2);
    // The 5-point mean has σ/√5.
    let sig = |i: usize| (variance[i].max(1e-300) / 5.0).sqrt();
    let mut maxima: Vec<usize> = Vec::new();
    let mut i = 1;
    while i + 1 < n {
        if s[i] > s[i - 1] && s[i] >= s[i + 1] && s[i] > threshold * sig(i) {
            // Skip a flat top.
            let mut j = i;
            while j + 1 < n && s[j + 1] == s[i] {
                j += 1;
            }
            maxima.push((i + j) / 2);
            i = j + 1;
        } else {
            i += 1;
        }
    }
    // Keep maxima that rise above the valley to each neighbour maximum by threshold·σ (the lower
    // of two is dropped when they do not).
    let mut kept: Vec<usize> = Vec::new();
    for m in maxima {
        loop {
            let Some(&prev) = kept.last() else {
                kept.push(m);
                break;
            };
            let valley = s[prev..=m].iter().copied().fold(f64::INFINITY, f64::min);
            let low = if s[prev] < s[m] { prev } else { m };
            if s[low] - valley >= threshold * sig(low) {
                kept.push(m);
                break;
            }
            if low == prev {
                kept.pop();
                continue;
            }
            break;
        }
    }
    kept.into_iter()
        .map(|m| {
            // Parabolic interpolation of the position.
            let (a, b, c) = (s[m - 1], s[m], s[m + 1]);
            let den = a - 2.0 * b + c;
            let frac = if den < 0.0 { 0.5 * (a - c) / den } else { 0.0 };
            let step = two_theta[m + 1] - two_theta[m];
            let pos = two_theta[m] + frac.clamp(-0.5, 0.5) * step;
            Peak {
                two_theta: pos,
                // The unsmoothed height (smoothing lowers narrow peaks).
                intensity: signal[m].max(b),
                fwhm: half_width(two_theta, &s, m),
            }
        })
        .collect()
}

/// Full width at half maximum around index `m` by linear interpolation; 0 when a side does not
/// fall to half.
fn half_width(x: &[f64], s: &[f64], m: usize) -> f64 {
    let half = s[m] / 2.0;
    let mut l = m;
    while l > 0 && s[l] > half {
        l -= 1;
    }
    let mut r = m;
    while r + 1 < s.len() && s[r] > half {
        r += 1;
    }
    if s[l] > half || s[r] > half {
        return 0.0;
    }
    let interp = |i: usize, j: usize| {
        let (si, sj) = (s[i], s[j]);
        if (sj - si).abs() < 1e-300 {
            x[i]
        } else {
            x[i] + (half - si) / (sj - si) * (x[j] - x[i])
        }
    };
    interp(r, r - 1) - interp(l, l + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{gaussian, lorentzian};

    #[test]
    fn finds_a_known_sum_of_peaks() {
        let grid: Vec<f64> = (0..6001).map(|i| 20.0 + i as f64 * 0.01).collect();
        let peaks = [
            (25.0, 50.0, 0.12),
            (31.37, 20.0, 0.2),
            (31.9, 8.0, 0.15),
            (70.2, 3.0, 0.3),
        ];
        let mut y = vec![0.0; grid.len()];
        for &(c, area, w) in &peaks {
            for (yi, &t) in y.iter_mut().zip(&grid) {
                *yi += area * (0.5 * gaussian(t - c, w) + 0.5 * lorentzian(t - c, w));
            }
        }
        // Unit variance: every peak is far above the noise; a 1e-3-height ripple is not.
        let var = vec![1e-4; grid.len()];
        let found = find_peaks(&grid, &y, &var, 5.0);
        assert_eq!(found.len(), 4, "{found:?}");
        for (f, &(c, _, w)) in found.iter().zip(&peaks) {
            assert!((f.two_theta - c).abs() < 0.01, "{f:?} vs {c}");
            // The 5-point smoothing widens the narrowest peak a little.
            assert!((f.fwhm - w).abs() < 0.03, "{f:?} vs {w}");
        }
        // Height of a pseudo-Voigt with η = 0.5 of area A: A(0.5·0.9394/w + 0.5·0.6366/w).
        let h = 50.0 * (0.5 * 0.939_437 / 0.12 + 0.5 * std::f64::consts::FRAC_2_PI / 0.12);
        assert!((found[0].intensity - h).abs() < 0.03 * h);
        // Raising the noise hides the weakest peak.
        let var = vec![16.0; grid.len()];
        let found = find_peaks(&grid, &y, &var, 5.0);
        assert!(
            found.iter().all(|p| (p.two_theta - 70.2).abs() > 0.1),
            "{found:?}"
        );
    }
}
