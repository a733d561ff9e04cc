//! A small limited-memory BFGS minimiser with a backtracking (Armijo) line search, used to fit
//! the Gaussian process's hyperparameters. Parameters are kept inside a box by clamping.

/// Settings of one minimisation.
#[derive(Debug, Clone, Copy)]
pub struct Lbfgs {
    /// Pairs of (step, gradient change) remembered.
    pub memory: usize,
    /// Most iterations (each one line search).
    pub max_iterations: usize,
    /// Stop when the gradient's largest component falls below this.
    pub gradient_tolerance: f64,
}

impl Default for Lbfgs {
    fn default() -> Self {
        Self {
            memory: 6,
            max_iterations: 60,
            gradient_tolerance: 1e-5,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Lbfgs {
    /// Minimises `f` (which returns the value and the gradient, or `None` where it cannot be
    /// evaluated) from `x0`, each coordinate clamped to `[lower, upper]`. Returns the best point
    /// and its value, or `None` when `f` fails at the start.
    pub fn minimise<F>(
        &self,
        f: F,
        x0: &[f64],
        lower: &[f64],
        upper: &[f64],
    ) -> Option<(Vec<f64>, f64)>
    where
        F: Fn(&[f64]) -> Option<(f64, Vec<f64>)>,
    {
        let clamp = |x: &mut [f64]| {
            for ((v, lo), hi) in x.iter_mut().zip(lower).zip(upper) {
                *v = v.clamp(*lo, *hi);
            }
        };
        let mut x = x0.to_vec();
        clamp(&mut x);
        let (mut fx, mut g) = f(&x)?;
        let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
        for _ in 0..self.max_iterations {
            if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < self.gradient_tolerance {
                break;
            }
            // Two-loop recursion: direction = -H g.
            let mut q = g.clone();
            let mut alphas = Vec::with_capacity(history.len());
            for (s, y, rho) in history.iter().rev() {
                let a = rho * dot(s, &q);
                for (qi, yi) in q.iter_mut().zip(y) {
                    *qi -= a * yi;
                }
                alphas.push(a);
            }
            if let Some((s, y, _)) = history.last() {
                let gamma = dot(s, y) / dot(y, y).max(1e-300);
                for qi in &mut q {
                    *qi *= gamma;
                }
            } else {
                let norm = dot(&g, &g).sqrt().max(1e-300);
                for qi in &mut q {
                    *qi /= norm;
                }
            }
            for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
                let b = rho * dot(y, &q);
                for (qi, si) in q.iter_mut().zip(s) {
                    *qi += (a - b) * si;
                }
            }
            let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
            if dot(&dir, &g) >= 0.0 {
                // Not a descent direction (curvature went wrong): restart from steepest descent.
                history.clear();
                dir = g.iter().map(|v| -v).collect();
            }
            let mut step = 1.0;
            let mut accepted = None;
            for _ in 0..30 {
                let mut trial: Vec<f64> =
                    x.iter().zip(&dir).map(|(xi, di)| xi + step * di).collect();
                clamp(&mut trial);
                let moved: Vec<f64> = trial.iter().zip(&x).map(|(t, xi)| t - xi).collect();
                if let Some((ft, gt)) = f(&trial) {
                    if ft.is_finite() && ft <= fx + 1e-4 * dot(&g, &moved) {
                        accepted = Some((trial, ft, gt, moved));
                        break;
                    }
                }
                step *= 0.5;
            }
            let Some((trial, ft, gt, s)) = accepted else {
                break;
            };
            let y: Vec<f64> = gt.iter().zip(&g).map(|(a, b)| a - b).collect();
            let sy = dot(&s, &y);
            if sy > 1e-12 {
                history.push((s, y, 1.0 / sy));
                if history.len() > self.memory {
                    history.remove(0);
                }
            }
            let improvement = fx - ft;
            x = trial;
            fx = ft;
            g = gt;
            if improvement.abs() < 1e-10 * (1.0 + fx.abs()) {
                break;
            }
        }
        Some((x, fx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_the_rosenbrock_valley() {
        let f = |x: &[f64]| {
            let (a, b) = (x[0], x[1]);
            let v = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let g = vec![
                -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
                200.0 * (b - a * a),
            ];
            Some((v, g))
        };
        let opt = Lbfgs {
            max_iterations: 500,
            ..Lbfgs::default()
        };
        let (x, v) = opt
            .minimise(f, &[-1.2, 1.0], &[-5.0, -5.0], &[5.0, 5.0])
            .unwrap();
        assert!(v < 1e-6, "value {v}");
        assert!(
            (x[0] - 1.0).abs() < 1e-2 && (x[1] - 1.0).abs() < 1e-2,
            "{x:?}"
        );
    }

    #[test]
    fn respects_the_box() {
        let f = |x: &[f64]| Some(((x[0] - 3.0).powi(2), vec![2.0 * (x[0] - 3.0)]));
        let (x, _) = Lbfgs::default()
            .minimise(f, &[0.0], &[-1.0], &[1.0])
            .unwrap();
        assert!((x[0] - 1.0).abs() < 1e-9);
    }
}
