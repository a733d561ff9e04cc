//! Small dense linear algebra for the fits: Cholesky solves and inverses of normal matrices,
//! Jacobi eigen-decomposition of symmetric matrices, and non-negative least squares.

/// A symmetric positive-definite system A x = b solved by Cholesky (A row-major, n×n). `None`
/// when A is not positive definite.
pub fn cholesky_solve(a: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, n)?;
    let mut y = vec![0.0; n];
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * y[k];
        }
        y[i] = s / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = y[i];
        for k in i + 1..n {
            s -= l[k * n + i] * x[k];
        }
        x[i] = s / l[i * n + i];
    }
    Some(x)
}

/// The lower Cholesky factor L (A = L Lᵀ), or `None` when A is not positive definite.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// The inverse of a symmetric positive-definite matrix, or `None`.
pub fn spd_inverse(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0; n * n];
    let mut e = vec![0.0; n];
    for j in 0..n {
        e.iter_mut().for_each(|v| *v = 0.0);
        e[j] = 1.0;
        let col = cholesky_solve(a, &e, n)?;
        for i in 0..n {
            inv[i * n + j] = col[i];
        }
    }
    Some(inv)
}

/// Eigenvalues and eigenvectors (columns of the returned row-major matrix) of a symmetric n×n
/// matrix by cyclic Jacobi rotations.
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j] * m[i * n + j])
            .sum();
        let scale: f64 = m.iter().map(|x| x * x).sum::<f64>().max(1e-300);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * mkp - s * mkq;
                    m[k * n + q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * mpk - s * mqk;
                    m[q * n + k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i * n + i]).collect(), v)
}

/// Minimises ½ xᵀAx − bᵀx subject to x_i ≥ 0 where `constrained[i]` (A symmetric positive
/// semi-definite, n×n row-major): the Lawson–Hanson active-set method on the normal equations,
/// i.e. non-negative least squares given AᵀA and Aᵀy. Free variables are never clamped.
pub fn nnls_normal(a: &[f64], b: &[f64], n: usize, constrained: &[bool]) -> Vec<f64> {
    let mut x = vec![0.0; n];
    // Passive set: variables allowed to be non-zero. Free variables start passive.
    let mut passive: Vec<bool> = constrained.iter().map(|c| !c).collect();
    let solve_passive = |passive: &[bool]| -> Vec<f64> {
        let idx: Vec<usize> = (0..n).filter(|&i| passive[i]).collect();
        let m = idx.len();
        let mut sub = vec![0.0; m * m];
        let mut rhs = vec![0.0; m];
        for (r, &i) in idx.iter().enumerate() {
            rhs[r] = b[i];
            for (c, &j) in idx.iter().enumerate() {
                sub[r * m + c] = a[i * n + j];
            }
            // A tiny ridge keeps nearly collinear columns solvable.
            sub[r * m + r] += 1e-12 * a[i * n + i].abs().max(1e-300);
        }
        let sol = cholesky_solve(&sub, &rhs, m).unwrap_or_else(|| vec![0.0; m]);
        let mut z = vec![0.0; n];
        for (r, &i) in idx.iter().enumerate() {
            z[i] = sol[r];
        }
        z
    };
    if passive.iter().any(|p| *p) {
        x = solve_passive(&passive);
    }
    for _outer in 0..(3 * n + 10) {
        // Gradient of the objective's negative: w = b − A x.
        let w: Vec<f64> = (0..n)
            .map(|i| b[i] - (0..n).map(|j| a[i * n + j] * x[j]).sum::<f64>())
            .collect();
        let scale = b.iter().map(|v| v.abs()).fold(0.0, f64::max).max(1e-300);
        let best = (0..n)
            .filter(|&i| constrained[i] && !passive[i] && w[i] > 1e-12 * scale)
            .max_by(|&i, &j| w[i].total_cmp(&w[j]));
        let Some(t) = best else { break };
        passive[t] = true;
        for _inner in 0..(3 * n + 10) {
            let z = solve_passive(&passive);
            let bad: Vec<usize> = (0..n)
                .filter(|&i| constrained[i] && passive[i] && z[i] <= 0.0)
                .collect();
            if bad.is_empty() {
                x = z;
                break;
            }
            let alpha = bad
                .iter()
                .map(|&i| x[i] / (x[i] - z[i]).max(1e-300))
                .fold(1.0, f64::min);
            for i in 0..n {
                x[i] += alpha * (z[i] - x[i]);
            }
            for i in 0..n {
                if constrained[i] && passive[i] && x[i] <= 1e-14 * scale {
                    passive[i] = false;
                    x[i] = 0.0;
                }
            }
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_known_system() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&a, &[2.0, 1.0], 2).unwrap();
        // 4x + 2y = 2, 2x + 3y = 1 → x = 0.5, y = 0.
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12);
        assert!(cholesky_solve(&[1.0, 2.0, 2.0, 1.0], &[1.0, 1.0], 2).is_none());
        let inv = spd_inverse(&a, 2).unwrap();
        // inverse of [[4,2],[2,3]] = [[3,-2],[-2,4]]/8
        assert!((inv[0] - 0.375).abs() < 1e-12 && (inv[1] + 0.25).abs() < 1e-12);
    }

    #[test]
    fn eigen_of_a_known_matrix() {
        let a = [2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 5.0];
        let (mut vals, _) = symmetric_eigen(&a, 3);
        vals.sort_by(f64::total_cmp);
        assert!((vals[0] - 1.0).abs() < 1e-10);
        assert!((vals[1] - 3.0).abs() < 1e-10);
        assert!((vals[2] - 5.0).abs() < 1e-10);
    }

    /// Normal equations of a least-squares problem min |M x − y|².
    fn normal(m: &[[f64; 2]], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let mut a = vec![0.0; 4];
        let mut b = vec![0.0; 2];
        for (row, yi) in m.iter().zip(y) {
            for i in 0..2 {
                b[i] += row[i] * yi;
                for j in 0..2 {
                    a[i * 2 + j] += row[i] * row[j];
                }
            }
        }
        (a, b)
    }

    #[test]
    fn nnls_matches_closed_form_small_problems() {
        // Identity design: the solution is y clipped at zero, coordinate by coordinate.
        let (a, b) = normal(&[[1.0, 0.0], [0.0, 1.0]], &[3.0, -2.0]);
        let x = nnls_normal(&a, &b, 2, &[true, true]);
        assert!((x[0] - 3.0).abs() < 1e-9 && x[1] == 0.0);
        // Unconstrained optimum positive: NNLS equals ordinary least squares.
        // M = [[1,1],[1,2],[1,3]], y = [2,3,4] → exact fit x = (1, 1).
        let (a, b) = normal(&[[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]], &[2.0, 3.0, 4.0]);
        let x = nnls_normal(&a, &b, 2, &[true, true]);
        assert!((x[0] - 1.0).abs() < 1e-9 && (x[1] - 1.0).abs() < 1e-9);
        // y = [3,2,1] has OLS slope −1: with x₁ ≥ 0 the answer is x₁ = 0, x₀ = mean(y) = 2.
        let (a, b) = normal(&[[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]], &[3.0, 2.0, 1.0]);
        let x = nnls_normal(&a, &b, 2, &[true, true]);
        assert!((x[0] - 2.0).abs() < 1e-9 && x[1] == 0.0, "{x:?}");
        // A free intercept may go negative: y = [−1, 0, 1] with x₀ free gives x = (−2, 1).
        let (a, b) = normal(&[[1.0, 1.0], [1.0, 2.0], [1.0, 3.0]], &[-1.0, 0.0, 1.0]);
        let x = nnls_normal(&a, &b, 2, &[false, true]);
        assert!(
            (x[0] + 2.0).abs() < 1e-9 && (x[1] - 1.0).abs() < 1e-9,
            "{x:?}"
        );
    }
}
