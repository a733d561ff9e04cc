//! A Gaussian-process regressor with fixed hyperparameters: Cholesky factor of the training
//! covariance, posterior mean and variance, and the log marginal likelihood with its gradient
//! in the log hyperparameters.

use nalgebra::{Cholesky, DMatrix, DVector, Dyn};

use super::kernel::Matern52;

/// Hyperparameters in log space: `[log ℓ_1 … log ℓ_k, log σ², log σ_n²]`, `k` = 1 (isotropic)
/// or the number of inputs (anisotropic).
#[derive(Debug, Clone, PartialEq)]
pub struct Hyper {
    pub log_lengthscales: Vec<f64>,
    pub log_variance: f64,
    pub log_noise: f64,
}

impl Hyper {
    pub fn kernel(&self) -> Matern52 {
        Matern52 {
            lengthscales: self.log_lengthscales.iter().map(|v| v.exp()).collect(),
            variance: self.log_variance.exp(),
        }
    }

    pub fn to_vec(&self) -> Vec<f64> {
        let mut v = self.log_lengthscales.clone();
        v.push(self.log_variance);
        v.push(self.log_noise);
        v
    }

    /// The inverse of [`Hyper::to_vec`]; `None` for fewer than three values.
    pub fn from_slice(v: &[f64]) -> Option<Self> {
        let k = v.len().checked_sub(2).filter(|k| *k >= 1)?;
        Some(Self {
            log_lengthscales: v[..k].to_vec(),
            log_variance: v[k],
            log_noise: v[k + 1],
        })
    }
}

/// A conditioned Gaussian process on standardised outputs.
#[derive(Debug, Clone)]
pub struct Gp {
    x: Vec<Vec<f64>>,
    hyper: Hyper,
    kernel: Matern52,
    chol: Cholesky<f64, Dyn>,
    alpha: DVector<f64>,
    y_mean: f64,
    y_scale: f64,
}

/// The training covariance `K + σ_n² I` (plus a small jitter).
fn covariance(x: &[Vec<f64>], kernel: &Matern52, noise: f64) -> DMatrix<f64> {
    let n = x.len();
    let mut k = DMatrix::zeros(n, n);
    for i in 0..n {
        k[(i, i)] = kernel.variance + noise + 1e-9;
        for j in 0..i {
            let v = kernel.k(&x[i], &x[j]);
            k[(i, j)] = v;
            k[(j, i)] = v;
        }
    }
    k
}

/// Mean and scale that standardise `y` (scale 1 for a constant).
pub fn standardise(y: &[f64]) -> (f64, f64) {
    let n = y.len().max(1) as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let scale = if var.sqrt() > 1e-12 { var.sqrt() } else { 1.0 };
    (mean, scale)
}

/// Log marginal likelihood of standardised outputs `y` and its gradient in the log hyperparameters.
pub fn log_marginal_likelihood(
    x: &[Vec<f64>],
    y: &DVector<f64>,
    hyper: &Hyper,
) -> Option<(f64, Vec<f64>)> {
    let n = x.len();
    let kernel = hyper.kernel();
    let noise = hyper.log_noise.exp();
    let chol = covariance(x, &kernel, noise).cholesky()?;
    let alpha = chol.solve(y);
    let log_det: f64 = chol
        .l_dirty()
        .diagonal()
        .iter()
        .map(|d| d.ln())
        .sum::<f64>()
        * 2.0;
    let lml =
        -0.5 * y.dot(&alpha) - 0.5 * log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    // W = α αᵀ − K⁻¹; ∂lml/∂θ = ½ tr(W ∂K/∂θ).
    let kinv = chol.inverse();
    let k = hyper.log_lengthscales.len();
    let mut grad = vec![0.0; k + 2];
    let mut terms = vec![0.0; k];
    for i in 0..n {
        let wii = alpha[i] * alpha[i] - kinv[(i, i)];
        grad[k] += 0.5 * wii * kernel.variance;
        grad[k + 1] += 0.5 * wii * noise;
        for j in 0..i {
            let w = alpha[i] * alpha[j] - kinv[(i, j)];
            let r = kernel.r2(&x[i], &x[j]).sqrt();
            // Off-diagonal pairs appear twice in the trace: ½ · 2 = 1.
            grad[k] += w * kernel.of_r(r);
            let factor = w * kernel.lengthscale_factor(r);
            kernel.scaled_terms(&x[i], &x[j], &mut terms);
            for (g, t) in grad.iter_mut().zip(&terms) {
                *g += factor * t;
            }
        }
    }
    Some((lml, grad))
}

impl Gp {
    /// Conditions a process with these hyperparameters on `(x, y)`; `None` when the covariance
    /// is not positive definite or there is no data.
    pub fn condition(x: Vec<Vec<f64>>, y: &[f64], hyper: Hyper) -> Option<Self> {
        if x.is_empty() || x.len() != y.len() {
            return None;
        }
        let (y_mean, y_scale) = standardise(y);
        let ys = DVector::from_iterator(y.len(), y.iter().map(|v| (v - y_mean) / y_scale));
        let kernel = hyper.kernel();
        let chol = covariance(&x, &kernel, hyper.log_noise.exp()).cholesky()?;
        let alpha = chol.solve(&ys);
        Some(Self {
            x,
            hyper,
            kernel,
            chol,
            alpha,
            y_mean,
            y_scale,
        })
    }

    pub fn hyper(&self) -> &Hyper {
        &self.hyper
    }

    pub fn len(&self) -> usize {
        self.x.len()
    }

    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Posterior mean and standard deviation of the latent function at each point, in the
    /// units of the training outputs.
    pub fn predict(&self, points: &[Vec<f64>]) -> Vec<(f64, f64)> {
        let n = self.x.len();
        let m = points.len();
        if m == 0 {
            return Vec::new();
        }
        let mut ks = DMatrix::zeros(n, m);
        for (j, p) in points.iter().enumerate() {
            for (i, xi) in self.x.iter().enumerate() {
                ks[(i, j)] = self.kernel.k(xi, p);
            }
        }
        let mean = ks.tr_mul(&self.alpha);
        let v = self
            .chol
            .l_dirty()
            .solve_lower_triangular(&ks)
            .unwrap_or_else(|| DMatrix::zeros(n, m));
        (0..m)
            .map(|j| {
                let var = (self.kernel.variance - v.column(j).norm_squared()).max(1e-12);
                (
                    self.y_mean + self.y_scale * mean[j],
                    self.y_scale * var.sqrt(),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hyper(l: f64, var: f64, noise: f64) -> Hyper {
        Hyper {
            log_lengthscales: vec![l.ln()],
            log_variance: var.ln(),
            log_noise: noise.ln(),
        }
    }

    /// One training point: the posterior has a closed form. With standardised outputs a single
    /// point standardises to 0, so use two points far apart (covariance ≈ 0 between them), where
    /// each behaves as an isolated observation: mean = k/(σ²+σ_n²)·y, var = σ² − k²/(σ²+σ_n²).
    #[test]
    fn posterior_matches_the_closed_form_for_two_independent_points() {
        let h = hyper(0.1, 1.0, 0.01);
        let x = vec![vec![0.0], vec![100.0]];
        let y = [1.0, -1.0]; // already standard: mean 0, scale 1
        let gp = Gp::condition(x, &y, h.clone()).unwrap();
        let kernel = h.kernel();
        let q = [0.05];
        let k = kernel.k(&[0.0], &q);
        let denom = 1.0 + 0.01 + 1e-9;
        let (m, s) = gp.predict(&[q.to_vec()])[0];
        assert!((m - k / denom * 1.0).abs() < 1e-9, "mean {m}");
        assert!(
            (s * s - (1.0 - k * k / denom)).abs() < 1e-9,
            "var {}",
            s * s
        );
    }

    /// Three correlated points against a hand-written 3×3 solve (Cramer's rule).
    #[test]
    fn posterior_matches_an_explicit_three_point_solve() {
        let h = hyper(0.7, 1.0, 0.05);
        let xs = [0.0, 0.4, 1.0];
        let ys = [1.5f64.sqrt(), 0.0, -(1.5f64.sqrt())]; // mean 0, population sd 1
        let x: Vec<Vec<f64>> = xs.iter().map(|v| vec![*v]).collect();
        let gp = Gp::condition(x, &ys, h.clone()).unwrap();
        let kern = h.kernel();
        let mut a = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                a[i][j] = kern.k(&[xs[i]], &[xs[j]]) + if i == j { 0.05 + 1e-9 } else { 0.0 };
            }
        }
        let det = |m: &[[f64; 3]; 3]| {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        };
        let solve = |b: [f64; 3]| {
            let d = det(&a);
            let mut out = [0.0; 3];
            for c in 0..3 {
                let mut m = a;
                for r in 0..3 {
                    m[r][c] = b[r];
                }
                out[c] = det(&m) / d;
            }
            out
        };
        let q = 0.6;
        let kq = [
            kern.k(&[xs[0]], &[q]),
            kern.k(&[xs[1]], &[q]),
            kern.k(&[xs[2]], &[q]),
        ];
        let alpha = solve(ys);
        let mean: f64 = kq.iter().zip(alpha).map(|(k, a)| k * a).sum();
        let w = solve(kq);
        let var = 1.0 - kq.iter().zip(w).map(|(k, a)| k * a).sum::<f64>();
        let (m, s) = gp.predict(&[vec![q]])[0];
        assert!((m - mean).abs() < 1e-9, "{m} vs {mean}");
        assert!((s * s - var).abs() < 1e-9, "{} vs {var}", s * s);
    }

    #[test]
    fn likelihood_gradient_matches_finite_differences() {
        let x: Vec<Vec<f64>> = (0..7)
            .map(|i| vec![i as f64 / 7.0, ((i * 3) % 7) as f64 / 7.0])
            .collect();
        let y = DVector::from_iterator(7, (0..7).map(|i| (i as f64 * 0.9).sin()));
        let h = Hyper {
            log_lengthscales: vec![0.3f64.ln(), 0.6f64.ln()],
            log_variance: 0.2,
            log_noise: -3.0,
        };
        let (_, grad) = log_marginal_likelihood(&x, &y, &h).unwrap();
        let v = h.to_vec();
        for i in 0..v.len() {
            let step = 1e-6;
            let mut up = v.clone();
            up[i] += step;
            let mut down = v.clone();
            down[i] -= step;
            let f = |p: &[f64]| {
                log_marginal_likelihood(&x, &y, &Hyper::from_slice(p).unwrap())
                    .unwrap()
                    .0
            };
            let numeric = (f(&up) - f(&down)) / (2.0 * step);
            assert!(
                (grad[i] - numeric).abs() < 1e-5 * (1.0 + numeric.abs()),
                "{i}: {} vs {numeric}",
                grad[i]
            );
        }
    }

    #[test]
    fn interpolates_noise_free_data() {
        let x: Vec<Vec<f64>> = (0..5).map(|i| vec![i as f64 / 4.0]).collect();
        let y: Vec<f64> = (0..5).map(|i| (i as f64).powi(2)).collect();
        let gp = Gp::condition(x.clone(), &y, hyper(0.5, 1.0, 1e-8)).unwrap();
        for (p, (m, s)) in gp
            .predict(&x)
            .iter()
            .zip(&y)
            .map(|(p, yv)| (p, (p.0 - yv, p.1)))
        {
            let _ = p;
            assert!(m.abs() < 1e-3 && s < 1e-2);
        }
    }
}
