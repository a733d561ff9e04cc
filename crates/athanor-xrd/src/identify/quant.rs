//! Quantitative phase analysis from refined scale factors (Hill & Howard, J. Appl. Cryst. 20,
//! 467–474, 1987): W_p = S_p (ZMV)_p / Σ_i S_i (ZMV)_i, with S the scale factor of the absolute
//! intensities |F|²·LP (F per cell), Z·M the mass of the cell contents and V the cell volume.
//! Standard uncertainties follow from the scale factors' covariance by linear propagation.

/// Weight fractions and their standard uncertainties. `k[p]` is the factor that turns phase p's
/// scale factor into S_p·(ZMV)_p (e.g. 100/raw_max · Z·M · V); `scales` the refined scale factors
/// and `cov` their covariance (row-major, phases × phases; may be empty: zero uncertainties).
pub fn weight_fractions(scales: &[f64], k: &[f64], cov: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = scales.len();
    let a: Vec<f64> = scales
        .iter()
        .zip(k)
        .map(|(s, k)| (s * k).max(0.0))
        .collect();
    let total: f64 = a.iter().sum();
    if n == 0 || total <= 0.0 || !total.is_finite() {
        return (vec![0.0; n], vec![0.0; n]);
    }
    let w: Vec<f64> = a.iter().map(|v| v / total).collect();
    let mut sigma = vec![0.0; n];
    if cov.len() == n * n {
        for p in 0..n {
            // ∂w_p/∂s_j = k_j (δ_pj − w_p) / total.
            let grad: Vec<f64> = (0..n)
                .map(|j| k[j] * (if j == p { 1.0 } else { 0.0 } - w[p]) / total)
                .collect();
            let mut var = 0.0;
            for i in 0..n {
                for j in 0..n {
                    var += grad[i] * grad[j] * cov[i * n + j];
                }
            }
            sigma[p] = var.max(0.0).sqrt();
        }
    }
    (w, sigma)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two phases mixed 30:70 by weight: with intensities scaled as Rietveld scale factors are
    /// (S ∝ w / (ρ V²) = w / (ZM/V · V²) = w / (ZMV)), the weight fractions come back.
    #[test]
    fn weight_fractions_from_zmv_on_a_constructed_two_phase_case() {
        // Phase A: rutile-like TiO2, Z = 2, M = 79.87, V = 62.4; phase B: rock-salt MnO, Z = 4,
        // M = 70.94, V = 87.8.
        let zmv = [2.0 * 79.87 * 62.4, 4.0 * 70.94 * 87.8];
        let true_w = [0.3, 0.7];
        let scales: Vec<f64> = true_w.iter().zip(&zmv).map(|(w, z)| 1e6 * w / z).collect();
        let (w, s) = weight_fractions(&scales, &zmv, &[]);
        assert!((w[0] - 0.3).abs() < 1e-12 && (w[1] - 0.7).abs() < 1e-12);
        assert_eq!(s, vec![0.0, 0.0]);
        // Independent scale uncertainties of 1 %: σ_w = w(1−w)√(0.01² + 0.01²) in closed form.
        let cov = [
            (0.01 * scales[0]).powi(2),
            0.0,
            0.0,
            (0.01 * scales[1]).powi(2),
        ];
        let (_, s) = weight_fractions(&scales, &zmv, &cov);
        let expect = 0.3 * 0.7 * (2.0f64 * 1e-4).sqrt();
        assert!(
            (s[0] - expect).abs() < 1e-12 && (s[1] - expect).abs() < 1e-12,
            "{s:?}"
        );
    }
}
