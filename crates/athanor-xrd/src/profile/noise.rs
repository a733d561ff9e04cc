//! Counting noise: each expected count replaced by a Poisson draw from a seeded ChaCha8
//! generator, so a seed always gives the same pattern on every platform.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};

/// Above this mean the Poisson law is drawn as its normal limit N(λ, λ), rounded.
const NORMAL_LIMIT: f64 = 1e9;

/// Replaces each expected count (negative expectations count as zero) with a Poisson draw and
/// returns the counts with their standard uncertainties √max(N, 1).
pub fn counting_noise(expected: &[f64], seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let counts: Vec<f64> = expected
        .iter()
        .map(|&lambda| draw(&mut rng, lambda))
        .collect();
    let sigma = counts.iter().map(|n| n.max(1.0).sqrt()).collect();
    (counts, sigma)
}

fn draw(rng: &mut ChaCha8Rng, lambda: f64) -> f64 {
    if !(lambda > 0.0 && lambda.is_finite()) {
        return 0.0;
    }
    if lambda > NORMAL_LIMIT {
        return match Normal::new(lambda, lambda.sqrt()) {
            Ok(normal) => normal.sample(rng).round().max(0.0),
            Err(_) => lambda,
        };
    }
    match Poisson::new(lambda) {
        Ok(poisson) => poisson.sample(rng),
        Err(_) => lambda.round(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_counts_other_seed_other_counts() {
        let expected = vec![50.0; 1000];
        let (a, _) = counting_noise(&expected, 42);
        let (b, _) = counting_noise(&expected, 42);
        let (c, _) = counting_noise(&expected, 43);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.iter().all(|n| n.fract() == 0.0 && *n >= 0.0));
    }

    #[test]
    fn variance_equals_mean() {
        for mean in [3.0, 1000.0] {
            let n = 20_000;
            let (counts, sigma) = counting_noise(&vec![mean; n], 7);
            let m = counts.iter().sum::<f64>() / n as f64;
            let var = counts.iter().map(|c| (c - m) * (c - m)).sum::<f64>() / (n - 1) as f64;
            // Standard error of the mean √(λ/n); of the variance ≈ λ√(2/n) (+ skew terms).
            assert!(
                (m - mean).abs() < 5.0 * (mean / n as f64).sqrt(),
                "mean {m}"
            );
            assert!(
                (var / mean - 1.0).abs() < 0.05,
                "λ = {mean}: variance {var}"
            );
            assert_eq!(sigma[0], counts[0].max(1.0).sqrt());
        }
    }

    #[test]
    fn non_positive_expectations_give_zero() {
        let (counts, sigma) = counting_noise(&[0.0, -5.0, f64::NAN], 1);
        assert_eq!(counts, vec![0.0, 0.0, 0.0]);
        assert_eq!(sigma, vec![1.0, 1.0, 1.0]);
    }
}
