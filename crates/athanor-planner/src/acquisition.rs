//! Acquisition functions on a posterior mean and standard deviation, for maximisation:
//! expected improvement and the upper confidence bound (the paper's "LCB" on a minimised
//! objective is the same rule on the negated one).

use serde::{Deserialize, Serialize};

/// Which rule turns a prediction into a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Acquisition {
    /// Expected improvement over the best observation plus `xi`.
    ExpectedImprovement { xi: f64 },
    /// `μ + κσ`.
    UpperConfidenceBound { kappa: f64 },
    /// Probability of lying in the best `share` of the whole candidate set: `Φ((μ − t)/σ)`,
    /// `t` the (1 − share) quantile of the observed values and the candidates' predicted means
    /// together. Suited to a goal of finding many of the best candidates, not only the best one.
    TopShare { share: f64 },
}

impl Acquisition {
    /// Score of a prediction; `best` is the best observed value and `threshold` the value that
    /// [`Acquisition::TopShare`] must beat (ignored by the others).
    pub fn score(&self, mean: f64, sd: f64, best: f64, threshold: f64) -> f64 {
        match *self {
            Acquisition::TopShare { .. } => normal_cdf((mean - threshold) / sd.max(1e-12)),
            Acquisition::ExpectedImprovement { xi } => expected_improvement(mean, sd, best + xi),
            Acquisition::UpperConfidenceBound { kappa } => mean + kappa * sd,
        }
    }

    pub fn describe(&self) -> String {
        match *self {
            Acquisition::ExpectedImprovement { .. } => "expected improvement".into(),
            Acquisition::UpperConfidenceBound { kappa } => {
                format!("upper confidence bound μ+{kappa}σ")
            }
            Acquisition::TopShare { share } => {
                format!("probability of lying in the best {}%", share * 100.0)
            }
        }
    }
}

/// Standard normal density.
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal distribution function, through the complementary error function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function (Chebyshev fit, relative error below 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// `E[max(f − target, 0)]` for `f ~ N(mean, sd²)`.
pub fn expected_improvement(mean: f64, sd: f64, target: f64) -> f64 {
    if sd <= 1e-12 {
        return (mean - target).max(0.0);
    }
    let z = (mean - target) / sd;
    (mean - target) * normal_cdf(z) + sd * normal_pdf(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdf_has_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_963_985) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_254).abs() < 1e-6);
    }

    #[test]
    fn expected_improvement_matches_numerical_integration() {
        let (mean, sd, target) = (0.3, 0.8, 0.5);
        let steps = 20_000;
        let (lo, hi) = (mean - 10.0 * sd, mean + 10.0 * sd);
        let h = (hi - lo) / steps as f64;
        let integral: f64 = (0..steps)
            .map(|i| {
                let f = lo + (i as f64 + 0.5) * h;
                (f - target).max(0.0) * normal_pdf((f - mean) / sd) / sd * h
            })
            .sum();
        assert!((expected_improvement(mean, sd, target) - integral).abs() < 1e-6);
    }

    #[test]
    fn ucb_prefers_uncertainty_at_equal_mean() {
        let a = Acquisition::UpperConfidenceBound { kappa: 0.5 };
        assert!(a.score(1.0, 0.5, 0.0, 0.0) > a.score(1.0, 0.1, 0.0, 0.0));
    }
}
