//! Unit cells: lattice parameters, metric tensors, d-spacings and angles between reciprocal vectors.

use serde::{Deserialize, Serialize};

/// A unit cell given by its six parameters (lengths in Å, angles in degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Lattice {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

/// A 3×3 matrix stored row-major.
pub type Mat3 = [[f64; 3]; 3];

/// Why a set of cell parameters does not describe a cell.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatticeError {
    #[error("cell length {name} = {value} must be a positive finite number of ångström")]
    BadLength { name: &'static str, value: f64 },
    #[error("cell angle {name} = {value} must lie strictly between 0 and 180 degrees")]
    BadAngle { name: &'static str, value: f64 },
    #[error("cell angles alpha={alpha}, beta={beta}, gamma={gamma} do not close a cell (zero or imaginary volume)")]
    Degenerate { alpha: f64, beta: f64, gamma: f64 },
}

impl Lattice {
    /// A validated lattice: positive lengths, angles in (0, 180) that enclose a positive volume.
    pub fn new(
        a: f64,
        b: f64,
        c: f64,
        alpha: f64,
        beta: f64,
        gamma: f64,
    ) -> Result<Self, LatticeError> {
        for (name, value) in [("a", a), ("b", b), ("c", c)] {
            if !(value.is_finite() && value > 0.0) {
                return Err(LatticeError::BadLength { name, value });
            }
        }
        for (name, value) in [("alpha", alpha), ("beta", beta), ("gamma", gamma)] {
            if !(value.is_finite() && value > 0.0 && value < 180.0) {
                return Err(LatticeError::BadAngle { name, value });
            }
        }
        let lattice = Self {
            a,
            b,
            c,
            alpha,
            beta,
            gamma,
        };
        let v2 = lattice.volume_factor_squared();
        if !(v2.is_finite() && v2 > 1e-12) {
            return Err(LatticeError::Degenerate { alpha, beta, gamma });
        }
        Ok(lattice)
    }

    /// 1 − cos²α − cos²β − cos²γ + 2 cosα cosβ cosγ: the squared volume of a cell with unit edges.
    fn volume_factor_squared(&self) -> f64 {
        let (ca, cb, cg) = (cos_deg(self.alpha), cos_deg(self.beta), cos_deg(self.gamma));
        1.0 - ca * ca - cb * cb - cg * cg + 2.0 * ca * cb * cg
    }

    /// Cell volume in Å³.
    pub fn volume(&self) -> f64 {
        self.a * self.b * self.c * self.volume_factor_squared().max(0.0).sqrt()
    }

    /// The direct metric tensor G (G_ij = a_i · a_j), Å².
    pub fn metric(&self) -> Mat3 {
        let (a, b, c) = (self.a, self.b, self.c);
        let (ca, cb, cg) = (cos_deg(self.alpha), cos_deg(self.beta), cos_deg(self.gamma));
        [
            [a * a, a * b * cg, a * c * cb],
            [a * b * cg, b * b, b * c * ca],
            [a * c * cb, b * c * ca, c * c],
        ]
    }

    /// The reciprocal metric tensor G* = G⁻¹ (crystallographic convention, no 2π), Å⁻².
    pub fn reciprocal_metric(&self) -> Mat3 {
        invert(&self.metric()).unwrap_or([[0.0; 3]; 3])
    }

    /// Cartesian basis vectors as rows (a along x, b in the xy plane), Å.
    pub fn matrix(&self) -> Mat3 {
        let (ca, cb, cg) = (cos_deg(self.alpha), cos_deg(self.beta), cos_deg(self.gamma));
        let sg = sin_deg(self.gamma);
        let cx = self.c * cb;
        let cy = self.c * (ca - cb * cg) / sg;
        let cz = (self.c * self.c - cx * cx - cy * cy).max(0.0).sqrt();
        [
            [self.a, 0.0, 0.0],
            [self.b * cg, self.b * sg, 0.0],
            [cx, cy, cz],
        ]
    }

    /// |g_hkl|² = hᵀ G* h, the squared length of the reciprocal vector (Å⁻²); d = 1/|g|.
    pub fn g_squared(&self, reciprocal_metric: &Mat3, hkl: [f64; 3]) -> f64 {
        quadratic_form(reciprocal_metric, hkl, hkl)
    }

    /// Interplanar spacing d_hkl in Å (infinite for 000).
    pub fn d_spacing(&self, hkl: [i32; 3]) -> f64 {
        let h = hkl.map(f64::from);
        1.0 / self.g_squared(&self.reciprocal_metric(), h).sqrt()
    }

    /// Cosine of the angle between the reciprocal vectors of two planes (or plane normals).
    pub fn cos_angle_between_normals(&self, h1: [f64; 3], h2: [f64; 3]) -> f64 {
        let gs = self.reciprocal_metric();
        let num = quadratic_form(&gs, h1, h2);
        let den = (quadratic_form(&gs, h1, h1) * quadratic_form(&gs, h2, h2)).sqrt();
        if den > 0.0 {
            (num / den).clamp(-1.0, 1.0)
        } else {
            1.0
        }
    }

    /// Squared distance in Å² between two fractional-coordinate difference vectors (no wrapping).
    pub fn frac_distance_squared(&self, delta: [f64; 3]) -> f64 {
        quadratic_form(&self.metric(), delta, delta)
    }
}

/// uᵀ M v.
pub fn quadratic_form(m: &Mat3, u: [f64; 3], v: [f64; 3]) -> f64 {
    let mut sum = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            sum += u[i] * m[i][j] * v[j];
        }
    }
    sum
}

/// The inverse of a 3×3 matrix, or `None` when it is singular.
pub fn invert(m: &Mat3) -> Option<Mat3> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-300 || !det.is_finite() {
        return None;
    }
    let inv_det = 1.0 / det;
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            // Cofactor of element (j, i) for the adjugate.
            let (r0, r1) = others(j);
            let (c0, c1) = others(i);
            let minor = m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
            let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
            *cell = sign * minor * inv_det;
        }
    }
    Some(out)
}

fn others(i: usize) -> (usize, usize) {
    match i {
        0 => (1, 2),
        1 => (0, 2),
        _ => (0, 1),
    }
}

fn cos_deg(x: f64) -> f64 {
    x.to_radians().cos()
}

fn sin_deg(x: f64) -> f64 {
    x.to_radians().sin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_d_spacing_follows_a_over_root_h2_k2_l2() {
        let l = Lattice::new(5.4309, 5.4309, 5.4309, 90.0, 90.0, 90.0).unwrap();
        assert!((l.d_spacing([1, 1, 1]) - 5.4309 / 3f64.sqrt()).abs() < 1e-12);
        assert!((l.volume() - 5.4309f64.powi(3)).abs() < 1e-9);
    }

    #[test]
    fn hexagonal_d_spacing_matches_closed_form() {
        let (a, c) = (4.7589, 12.991);
        let l = Lattice::new(a, a, c, 90.0, 90.0, 120.0).unwrap();
        let (h, k, li) = (1.0, 0.0, 4.0);
        let inv_d2 = 4.0 / 3.0 * (h * h + h * k + k * k) / (a * a) + li * li / (c * c);
        assert!((l.d_spacing([1, 0, 4]) - 1.0 / inv_d2.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn triclinic_matrix_reproduces_metric() {
        let l = Lattice::new(5.1, 6.2, 7.3, 81.0, 97.0, 113.0).unwrap();
        let m = l.matrix();
        let g = l.metric();
        for i in 0..3 {
            for j in 0..3 {
                let dot: f64 = (0..3).map(|k| m[i][k] * m[j][k]).sum();
                assert!((dot - g[i][j]).abs() < 1e-9, "G[{i}][{j}]");
            }
        }
    }

    #[test]
    fn impossible_cells_are_rejected() {
        assert!(matches!(
            Lattice::new(-1.0, 1.0, 1.0, 90.0, 90.0, 90.0),
            Err(LatticeError::BadLength { .. })
        ));
        assert!(matches!(
            Lattice::new(1.0, 1.0, 1.0, 190.0, 90.0, 90.0),
            Err(LatticeError::BadAngle { .. })
        ));
        assert!(matches!(
            Lattice::new(1.0, 1.0, 1.0, 60.0, 60.0, 179.0),
            Err(LatticeError::Degenerate { .. })
        ));
    }
}
