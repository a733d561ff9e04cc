//! A Chebyshev-polynomial background over a 2θ range mapped onto [−1, 1].

use serde::{Deserialize, Serialize};

use super::error::ProfileError;

/// B(2θ) = Σ cₙ Tₙ(x), x = (2·2θ − (min + max)) / (max − min), so x = −1 at `two_theta_min`
/// and +1 at `two_theta_max`; outside the range the polynomial is extrapolated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChebyshevBackground {
    pub two_theta_min: f64,
    pub two_theta_max: f64,
    pub coefficients: Vec<f64>,
}

impl ChebyshevBackground {
    /// A background over [min, max] (min < max, both finite) with finite coefficients.
    pub fn new(
        two_theta_min: f64,
        two_theta_max: f64,
        coefficients: Vec<f64>,
    ) -> Result<Self, ProfileError> {
        let b = Self {
            two_theta_min,
            two_theta_max,
            coefficients,
        };
        b.validate()?;
        Ok(b)
    }

    /// A background over the span of a 2θ grid (first to last point).
    pub fn over_grid(grid: &[f64], coefficients: Vec<f64>) -> Result<Self, ProfileError> {
        let (min, max) = match (grid.first(), grid.last()) {
            (Some(&a), Some(&b)) => (a, b),
            _ => (0.0, 0.0),
        };
        Self::new(min, max, coefficients)
    }

    pub fn validate(&self) -> Result<(), ProfileError> {
        if !(self.two_theta_min.is_finite()
            && self.two_theta_max.is_finite()
            && self.two_theta_max > self.two_theta_min)
        {
            return Err(ProfileError::BadParameter {
                name: "background range",
                value: self.two_theta_max - self.two_theta_min,
                expected: "needs finite two_theta_min < two_theta_max",
            });
        }
        if let Some(&c) = self.coefficients.iter().find(|c| !c.is_finite()) {
            return Err(ProfileError::BadParameter {
                name: "background coefficient",
                value: c,
                expected: "must be finite",
            });
        }
        Ok(())
    }

    /// The background at `two_theta` (degrees), by the three-term recurrence
    /// T₀ = 1, T₁ = x, Tₙ₊₁ = 2x Tₙ − Tₙ₋₁.
    pub fn evaluate(&self, two_theta: f64) -> f64 {
        let x = (2.0 * two_theta - (self.two_theta_min + self.two_theta_max))
            / (self.two_theta_max - self.two_theta_min);
        let (mut t_prev, mut t) = (1.0, x);
        let mut sum = 0.0;
        for (n, c) in self.coefficients.iter().enumerate() {
            match n {
                0 => sum += c,
                1 => sum += c * x,
                _ => {
                    let next = 2.0 * x * t - t_prev;
                    t_prev = t;
                    t = next;
                    sum += c * t;
                }
            }
        }
        sum
    }

    /// Adds the background to `intensity` on `grid`.
    pub fn add_to(&self, grid: &[f64], intensity: &mut [f64]) {
        for (y, &t) in intensity.iter_mut().zip(grid) {
            *y += self.evaluate(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_closed_form_chebyshev_polynomials() {
        let c = [3.0, -2.0, 0.5, 0.25, -0.125];
        let b = ChebyshevBackground::new(10.0, 90.0, c.to_vec()).unwrap();
        for t in [10.0, 23.0, 50.0, 77.7, 90.0] {
            let x: f64 = (t - 50.0) / 40.0;
            let expected = c[0]
                + c[1] * x
                + c[2] * (2.0 * x * x - 1.0)
                + c[3] * (4.0 * x.powi(3) - 3.0 * x)
                + c[4] * (8.0 * x.powi(4) - 8.0 * x * x + 1.0);
            assert!((b.evaluate(t) - expected).abs() < 1e-12, "2θ = {t}");
        }
        // Tₙ(1) = 1 and Tₙ(−1) = (−1)ⁿ.
        assert!((b.evaluate(90.0) - c.iter().sum::<f64>()).abs() < 1e-12);
        let alternating: f64 = c
            .iter()
            .enumerate()
            .map(|(n, v)| if n % 2 == 0 { *v } else { -v })
            .sum();
        assert!((b.evaluate(10.0) - alternating).abs() < 1e-12);
    }

    #[test]
    fn empty_and_bad_backgrounds() {
        let b = ChebyshevBackground::new(10.0, 20.0, vec![]).unwrap();
        assert_eq!(b.evaluate(15.0), 0.0);
        assert!(ChebyshevBackground::new(20.0, 10.0, vec![1.0]).is_err());
        assert!(ChebyshevBackground::new(10.0, 20.0, vec![f64::NAN]).is_err());
    }
}
