//! Atomic displacement parameters: conversions between U, B and β, and the equivalent isotropic
//! value of an anisotropic tensor.
//!
//! B = 8π²U. For an anisotropic U (CIF convention: components U^ij on the reciprocal-length-
//! normalised axes) the equivalent isotropic value is one third of the trace of the Cartesian
//! tensor, Ueq = ⅓ Σᵢⱼ U^ij a*ᵢ a*ⱼ (aᵢ·aⱼ) (Fischer & Tillmanns, Acta Cryst. C44, 775, 1988).
//! The dimensionless β^ij = 2π² a*ᵢ a*ⱼ U^ij.

use std::f64::consts::PI;

use crate::lattice::Lattice;

/// B (Å²) from U (Å²).
pub fn b_from_u(u: f64) -> f64 {
    8.0 * PI * PI * u
}

/// The form an anisotropic tensor is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnisoKind {
    U,
    B,
    Beta,
}

/// Equivalent isotropic B (Å²) of an anisotropic tensor given as [11, 22, 33, 12, 13, 23].
pub fn b_equivalent(lattice: &Lattice, kind: AnisoKind, t: [f64; 6]) -> f64 {
    let g = lattice.metric();
    let gs = lattice.reciprocal_metric();
    let astar = [gs[0][0].sqrt(), gs[1][1].sqrt(), gs[2][2].sqrt()];
    let m = [[t[0], t[3], t[4]], [t[3], t[1], t[5]], [t[4], t[5], t[2]]];
    let mut sum = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            sum += match kind {
                AnisoKind::U | AnisoKind::B => m[i][j] * astar[i] * astar[j] * g[i][j],
                AnisoKind::Beta => m[i][j] * g[i][j] / (2.0 * PI * PI),
            };
        }
    }
    let eq = sum / 3.0;
    match kind {
        AnisoKind::B => eq,
        AnisoKind::U | AnisoKind::Beta => b_from_u(eq),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotropic_tensor_gives_its_own_value() {
        // An isotropic displacement in a monoclinic cell: U^ij = U a*_i a*_j … written back in
        // CIF normalised components is U·(G*_ij / (a*_i a*_j)); its Ueq is U.
        let l = Lattice::new(5.0, 6.0, 7.0, 90.0, 103.0, 90.0).unwrap();
        let gs = l.reciprocal_metric();
        let a = [gs[0][0].sqrt(), gs[1][1].sqrt(), gs[2][2].sqrt()];
        let u = 0.01;
        let comp = |i: usize, j: usize| u * gs[i][j] / (a[i] * a[j]);
        let t = [
            comp(0, 0),
            comp(1, 1),
            comp(2, 2),
            comp(0, 1),
            comp(0, 2),
            comp(1, 2),
        ];
        let b = b_equivalent(&l, AnisoKind::U, t);
        assert!((b - b_from_u(u)).abs() < 1e-12, "{b}");
    }

    #[test]
    fn orthogonal_cells_average_the_diagonal() {
        let l = Lattice::new(4.0, 5.0, 6.0, 90.0, 90.0, 90.0).unwrap();
        let b = b_equivalent(&l, AnisoKind::B, [0.3, 0.6, 0.9, 0.1, 0.2, 0.3]);
        assert!((b - 0.6).abs() < 1e-12);
        // β11 = 2π² a*² U11 with a* = 1/4: β = 2π²/16 · 0.01 gives U = 0.01 on that axis.
        let beta = 2.0 * PI * PI / 16.0 * 0.01;
        let b = b_equivalent(&l, AnisoKind::Beta, [beta, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!((b - b_from_u(0.01 / 3.0)).abs() < 1e-12);
    }
}
