//! The Matérn-5/2 covariance, isotropic (one length scale) or anisotropic (one per input, ARD).

/// √5, used by every evaluation.
const SQRT5: f64 = 2.236_067_977_499_79;

/// A Matérn-5/2 kernel: `σ² (1 + √5 r + 5r²/3) exp(−√5 r)` with `r² = Σ (Δ_d / ℓ_d)²`.
#[derive(Debug, Clone, PartialEq)]
pub struct Matern52 {
    /// One length scale for every input (isotropic) or one per input (ARD).
    pub lengthscales: Vec<f64>,
    /// Signal variance σ².
    pub variance: f64,
}

impl Matern52 {
    /// The length scale of input `d`.
    fn scale(&self, d: usize) -> f64 {
        if self.lengthscales.len() == 1 {
            self.lengthscales[0]
        } else {
            self.lengthscales.get(d).copied().unwrap_or(1.0)
        }
    }

    /// Squared scaled distance between two points.
    pub fn r2(&self, a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .enumerate()
            .map(|(d, (x, y))| ((x - y) / self.scale(d)).powi(2))
            .sum()
    }

    /// Covariance as a function of the scaled distance `r`.
    pub fn of_r(&self, r: f64) -> f64 {
        let s = SQRT5 * r;
        self.variance * (1.0 + s + s * s / 3.0) * (-s).exp()
    }

    /// Covariance of two points.
    pub fn k(&self, a: &[f64], b: &[f64]) -> f64 {
        self.of_r(self.r2(a, b).sqrt())
    }

    /// `−dk/dr / r`, the factor that turns `∂r²/∂log ℓ_d = −2Δ_d²/ℓ_d²` into
    /// `∂k/∂log ℓ_d = factor · Δ_d²/ℓ_d²`: `σ² (5/3)(1 + √5 r) exp(−√5 r)`.
    pub fn lengthscale_factor(&self, r: f64) -> f64 {
        let s = SQRT5 * r;
        self.variance * (5.0 / 3.0) * (1.0 + s) * (-s).exp()
    }

    /// Per-input terms `Δ_d²/ℓ_d²` of the scaled distance (summed into one for an isotropic kernel).
    pub fn scaled_terms(&self, a: &[f64], b: &[f64], out: &mut [f64]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        let iso = self.lengthscales.len() == 1;
        for (d, (x, y)) in a.iter().zip(b).enumerate() {
            let t = ((x - y) / self.scale(d)).powi(2);
            let slot = if iso { 0 } else { d };
            if let Some(o) = out.get_mut(slot) {
                *o += t;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_the_variance_at_zero_distance_and_decays() {
        let k = Matern52 {
            lengthscales: vec![0.5],
            variance: 2.0,
        };
        assert!((k.k(&[0.1, 0.2], &[0.1, 0.2]) - 2.0).abs() < 1e-12);
        let near = k.k(&[0.0, 0.0], &[0.1, 0.0]);
        let far = k.k(&[0.0, 0.0], &[0.5, 0.0]);
        assert!(near > far && far > 0.0);
        // r = 1: σ² (1 + √5 + 5/3) e^{−√5}
        let expected = 2.0 * (1.0 + SQRT5 + 5.0 / 3.0) * (-SQRT5).exp();
        assert!((k.k(&[0.0, 0.0], &[0.5, 0.0]) - expected).abs() < 1e-12);
    }

    #[test]
    fn lengthscale_derivative_matches_finite_differences() {
        let a = [0.1, 0.7];
        let b = [0.4, 0.2];
        let base = Matern52 {
            lengthscales: vec![0.3, 0.8],
            variance: 1.3,
        };
        let r = base.r2(&a, &b).sqrt();
        let mut terms = [0.0; 2];
        base.scaled_terms(&a, &b, &mut terms);
        for (d, term) in terms.iter().enumerate() {
            let analytic = base.lengthscale_factor(r) * term;
            let h: f64 = 1e-6;
            let mut up = base.clone();
            up.lengthscales[d] *= h.exp();
            let mut down = base.clone();
            down.lengthscales[d] *= (-h).exp();
            let numeric = (up.k(&a, &b) - down.k(&a, &b)) / (2.0 * h);
            assert!(
                (analytic - numeric).abs() < 1e-6,
                "{d}: {analytic} vs {numeric}"
            );
        }
    }
}
