//! Hyperparameters by maximum marginal likelihood (with a weak log-normal prior that keeps
//! small data sets from degenerate fits), from several starting points.

use nalgebra::DVector;
use rand::Rng;

use super::lbfgs::Lbfgs;
use super::model::{log_marginal_likelihood, standardise, Gp, Hyper};

/// How to fit a process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitOptions {
    /// One length scale per input (ARD) instead of one for all.
    pub anisotropic: bool,
    /// Random starting points besides the default and the warm start.
    pub restarts: usize,
    /// Most L-BFGS iterations per start.
    pub iterations: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            anisotropic: true,
            restarts: 2,
            iterations: 40,
        }
    }
}

/// Box of the log hyperparameters (inputs are scaled to [0, 1]; outputs are standardised).
const LOG_LENGTHSCALE: (f64, f64) = (-4.6, 3.0); // 0.01 … 20
const LOG_VARIANCE: (f64, f64) = (-3.0, 3.0);
const LOG_NOISE: (f64, f64) = (-13.8, 0.0); // 1e-6 … 1

/// Weak prior: log ℓ ~ N(log 0.5, 1.5²), log σ² ~ N(0, 1.5²), log σ_n² ~ N(log 0.01, 3²).
fn log_prior(v: &[f64]) -> (f64, Vec<f64>) {
    let k = v.len() - 2;
    let mut lp = 0.0;
    let mut g = vec![0.0; v.len()];
    let mut add = |i: usize, mean: f64, sd: f64| {
        let z = (v[i] - mean) / sd;
        lp -= 0.5 * z * z;
        g[i] = -z / sd;
    };
    for i in 0..k {
        add(i, 0.5f64.ln(), 1.5);
    }
    add(k, 0.0, 1.5);
    add(k + 1, 0.01f64.ln(), 3.0);
    (lp, g)
}

/// Fits hyperparameters to `(x, y)` and conditions the process. `warm` (an earlier fit) is one
/// of the starting points. `None` when no start gives a positive-definite covariance.
pub fn fit<R: Rng>(
    x: Vec<Vec<f64>>,
    y: &[f64],
    options: FitOptions,
    warm: Option<&Hyper>,
    rng: &mut R,
) -> Option<Gp> {
    fit_with_evidence(x, y, options, warm, rng).map(|(gp, _)| gp)
}

/// [`fit`], also returning the maximised log marginal likelihood plus log prior (the evidence
/// used to choose between kernels).
pub fn fit_with_evidence<R: Rng>(
    x: Vec<Vec<f64>>,
    y: &[f64],
    options: FitOptions,
    warm: Option<&Hyper>,
    rng: &mut R,
) -> Option<(Gp, f64)> {
    let dims = x.first().map_or(1, Vec::len).max(1);
    let k = if options.anisotropic { dims } else { 1 };
    let (mean, scale) = standardise(y);
    let ys = DVector::from_iterator(y.len(), y.iter().map(|v| (v - mean) / scale));
    let mut lower = vec![LOG_LENGTHSCALE.0; k];
    lower.extend([LOG_VARIANCE.0, LOG_NOISE.0]);
    let mut upper = vec![LOG_LENGTHSCALE.1; k];
    upper.extend([LOG_VARIANCE.1, LOG_NOISE.1]);

    let objective = |v: &[f64]| {
        let hyper = Hyper::from_slice(v)?;
        let (lml, g) = log_marginal_likelihood(&x, &ys, &hyper)?;
        let (lp, gp) = log_prior(v);
        Some((
            -(lml + lp),
            g.iter().zip(&gp).map(|(a, b)| -(a + b)).collect(),
        ))
    };

    let mut starts: Vec<Vec<f64>> = Vec::new();
    if let Some(w) = warm.filter(|w| w.log_lengthscales.len() == k) {
        starts.push(w.to_vec());
    }
    let mut default = vec![0.3f64.ln(); k];
    default.extend([0.0, 0.01f64.ln()]);
    starts.push(default);
    for _ in 0..options.restarts {
        let mut s: Vec<f64> = (0..k).map(|_| rng.gen_range(-2.5..1.0)).collect();
        s.push(rng.gen_range(-1.0..1.0));
        s.push(rng.gen_range(-9.0..-1.0));
        starts.push(s);
    }
    let lbfgs = Lbfgs {
        max_iterations: options.iterations,
        ..Lbfgs::default()
    };
    let best = starts
        .iter()
        .filter_map(|s| lbfgs.minimise(objective, s, &lower, &upper))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    Gp::condition(x, y, Hyper::from_slice(&best.0)?).map(|gp| (gp, -best.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn recovers_which_input_matters() {
        // y depends on the first input only: ARD should give it the shorter length scale.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x: Vec<Vec<f64>> = (0..40)
            .map(|_| vec![rng.gen::<f64>(), rng.gen::<f64>()])
            .collect();
        let y: Vec<f64> = x.iter().map(|p| (6.0 * p[0]).sin()).collect();
        let gp = fit(x, &y, FitOptions::default(), None, &mut rng).unwrap();
        let l = &gp.hyper().log_lengthscales;
        assert!(l[0] + 1.0 < l[1], "length scales {l:?}");
        let (m, _) = gp.predict(&[vec![0.25, 0.5]])[0];
        assert!((m - (1.5f64).sin()).abs() < 0.05, "mean {m}");
    }

    #[test]
    fn fitting_raises_the_likelihood_over_the_default() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x: Vec<Vec<f64>> = (0..25).map(|i| vec![i as f64 / 25.0]).collect();
        let y: Vec<f64> = x.iter().map(|p| (20.0 * p[0]).cos()).collect();
        let (mean, scale) = standardise(&y);
        let ys = DVector::from_iterator(y.len(), y.iter().map(|v| (v - mean) / scale));
        let options = FitOptions {
            anisotropic: false,
            ..FitOptions::default()
        };
        let gp = fit(x.clone(), &y, options, None, &mut rng).unwrap();
        let fitted = log_marginal_likelihood(&x, &ys, gp.hyper()).unwrap().0;
        let default = Hyper {
            log_lengthscales: vec![0.3f64.ln()],
            log_variance: 0.0,
            log_noise: 0.01f64.ln(),
        };
        let start = log_marginal_likelihood(&x, &ys, &default).unwrap().0;
        assert!(fitted > start, "{fitted} ≤ {start}");
    }
}
