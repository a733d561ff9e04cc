//! Peak shapes: area-normalised Gaussian, Lorentzian and the Thompson–Cox–Hastings
//! pseudo-Voigt (Thompson, Cox & Hastings, J. Appl. Cryst. 20, 79–83, 1987).

use std::f64::consts::{LN_2, PI};

/// A pseudo-Voigt peak: total FWHM Γ (degrees 2θ) and Lorentzian fraction η ∈ [0, 1].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakShape {
    pub fwhm: f64,
    pub eta: f64,
}

impl PeakShape {
    /// The TCH combination of a Gaussian FWHM Γ_G and a Lorentzian FWHM Γ_L (both ≥ 0):
    /// Γ⁵ = Γ_G⁵ + 2.69269 Γ_G⁴Γ_L + 2.42843 Γ_G³Γ_L² + 4.47163 Γ_G²Γ_L³ + 0.07842 Γ_GΓ_L⁴ + Γ_L⁵,
    /// η = 1.36603 q − 0.47719 q² + 0.11116 q³ with q = Γ_L/Γ.
    pub fn tch(gaussian_fwhm: f64, lorentzian_fwhm: f64) -> Self {
        Self::tch_with_gradient(gaussian_fwhm, lorentzian_fwhm).0
    }

    /// [`PeakShape::tch`] with the partial derivatives of Γ and η with respect to Γ_G and Γ_L:
    /// returns (shape, [∂Γ/∂Γ_G, ∂Γ/∂Γ_L], [∂η/∂Γ_G, ∂η/∂Γ_L]); η's derivatives are zero where
    /// it is clamped to [0, 1] (at Γ_L = 0, the derivative for increasing Γ_L).
    pub fn tch_with_gradient(
        gaussian_fwhm: f64,
        lorentzian_fwhm: f64,
    ) -> (Self, [f64; 2], [f64; 2]) {
        let (g, l) = (gaussian_fwhm, lorentzian_fwhm);
        let sum = g.powi(5)
            + 2.69269 * g.powi(4) * l
            + 2.42843 * g.powi(3) * l * l
            + 4.47163 * g * g * l.powi(3)
            + 0.07842 * g * l.powi(4)
            + l.powi(5);
        let fwhm = sum.powf(0.2);
        let q = if fwhm > 0.0 { l / fwhm } else { 0.0 };
        let eta_raw = 1.36603 * q - 0.47719 * q * q + 0.11116 * q * q * q;
        let eta = eta_raw.clamp(0.0, 1.0);
        if sum.is_nan() || sum <= 0.0 {
            return (Self { fwhm, eta }, [0.0; 2], [0.0; 2]);
        }
        let ds_dg = 5.0 * g.powi(4)
            + 4.0 * 2.69269 * g.powi(3) * l
            + 3.0 * 2.42843 * g * g * l * l
            + 2.0 * 4.47163 * g * l.powi(3)
            + 0.07842 * l.powi(4);
        let ds_dl = 2.69269 * g.powi(4)
            + 2.0 * 2.42843 * g.powi(3) * l
            + 3.0 * 4.47163 * g * g * l * l
            + 4.0 * 0.07842 * g * l.powi(3)
            + 5.0 * l.powi(4);
        // Γ = S^⅕: ∂Γ = Γ/(5S) ∂S.
        let k = fwhm / (5.0 * sum);
        let d_fwhm = [k * ds_dg, k * ds_dl];
        // q = Γ_L/Γ.
        let dq = [
            -l / (fwhm * fwhm) * d_fwhm[0],
            1.0 / fwhm - l / (fwhm * fwhm) * d_fwhm[1],
        ];
        // Γ_L ≥ 0: at q = 0 the one-sided (upward) derivative.
        let deta_dq = if (0.0..1.0).contains(&eta_raw) {
            1.36603 - 2.0 * 0.47719 * q + 3.0 * 0.11116 * q * q
        } else {
            0.0
        };
        (
            Self { fwhm, eta },
            d_fwhm,
            [deta_dq * dq[0], deta_dq * dq[1]],
        )
    }

    /// The profile value at offset `dx` (degrees) from the centre; integrates to 1 over ℝ.
    pub fn value(&self, dx: f64) -> f64 {
        self.eta * lorentzian(dx, self.fwhm) + (1.0 - self.eta) * gaussian(dx, self.fwhm)
    }
}

/// Area-normalised Gaussian of full width at half maximum `fwhm`.
pub fn gaussian(dx: f64, fwhm: f64) -> f64 {
    let c = 4.0 * LN_2;
    (c / PI).sqrt() / fwhm * (-c * dx * dx / (fwhm * fwhm)).exp()
}

/// Area-normalised Lorentzian (Cauchy) of full width at half maximum `fwhm`.
pub fn lorentzian(dx: f64, fwhm: f64) -> f64 {
    let x = 2.0 * dx / fwhm;
    2.0 / (PI * fwhm) / (1.0 + x * x)
}

/// The share of a Lorentzian's area within ±`half_width_in_fwhm` FWHM of its centre.
pub fn lorentzian_fraction_within(half_width_in_fwhm: f64) -> f64 {
    2.0 / PI * (2.0 * half_width_in_fwhm).atan()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trapezoid integral of `f` over [a, b] with `n` intervals.
    fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
        let h = (b - a) / n as f64;
        let mut s = 0.5 * (f(a) + f(b));
        for i in 1..n {
            s += f(a + i as f64 * h);
        }
        s * h
    }

    #[test]
    fn shapes_have_the_stated_half_maximum() {
        let w = 0.13;
        assert!((gaussian(w / 2.0, w) / gaussian(0.0, w) - 0.5).abs() < 1e-12);
        assert!((lorentzian(w / 2.0, w) / lorentzian(0.0, w) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn pseudo_voigt_integrates_to_one() {
        for (g, l) in [(0.05, 0.0), (0.05, 0.02), (0.02, 0.08), (0.0, 0.1)] {
            let shape = PeakShape::tch(g, l);
            // Numerically over ±50 FWHM (the Gaussian part is zero beyond); the Lorentzian
            // tails outside have the closed-form area 1 − (2/π)·atan(100).
            let span = 50.0 * shape.fwhm;
            let area = integrate(|x| shape.value(x), -span, span, 200_000);
            let missing = shape.eta * (1.0 - 2.0 / PI * 100f64.atan());
            assert!(
                (area + missing - 1.0).abs() < 1e-6,
                "Γ_G={g} Γ_L={l}: {area}"
            );
        }
    }

    #[test]
    fn tch_limits_are_pure_shapes() {
        let g = PeakShape::tch(0.07, 0.0);
        assert!((g.fwhm - 0.07).abs() < 1e-15 && g.eta == 0.0);
        let l = PeakShape::tch(0.0, 0.07);
        assert!((l.fwhm - 0.07).abs() < 1e-15);
        // 1.36603 − 0.47719 + 0.11116 = 1.00000: pure Lorentzian.
        assert!((l.eta - 1.0).abs() < 1e-12);
        // Published TCH total width lies between the larger component and the simple sum.
        let m = PeakShape::tch(0.05, 0.03);
        assert!(m.fwhm > 0.05 && m.fwhm < 0.08 && m.eta > 0.0 && m.eta < 1.0);
    }

    #[test]
    fn lorentzian_window_fraction_matches_integral() {
        let w = 0.1;
        let inside = integrate(|x| lorentzian(x, w), -20.0 * w, 20.0 * w, 400_000);
        assert!((inside - lorentzian_fraction_within(20.0)).abs() < 1e-9);
        assert!((lorentzian_fraction_within(20.0) - 0.98408).abs() < 1e-5);
    }

    #[test]
    fn tch_gradient_matches_finite_differences() {
        for (g, l) in [(0.05, 0.0), (0.05, 0.02), (0.02, 0.08), (0.08, 0.01)] {
            let (s, dw, de) = PeakShape::tch_with_gradient(g, l);
            assert_eq!(s, PeakShape::tch(g, l));
            let h = 1e-7;
            let sg = PeakShape::tch(g + h, l);
            let sl = PeakShape::tch(g, l + h);
            for (analytic, numeric) in [
                (dw[0], (sg.fwhm - s.fwhm) / h),
                (dw[1], (sl.fwhm - s.fwhm) / h),
                (de[0], (sg.eta - s.eta) / h),
                (de[1], (sl.eta - s.eta) / h),
            ] {
                assert!(
                    (analytic - numeric).abs() < 1e-5 * (1.0 + numeric.abs()),
                    "Γ_G={g} Γ_L={l}: {analytic} vs {numeric}"
                );
            }
        }
    }
}
