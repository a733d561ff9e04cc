//! Refinable lattices: the reciprocal metric G* moved only in the directions that keep the
//! lattice's symmetry, found from the cell itself so that P1 cells (symmetry not given) refine
//! with as few parameters as their true lattice has (1 for cubic, 2 for tetragonal, …).
//!
//! 1/d² = hᵀG*h = v(h)·g with v(h) = (h², k², l², 2hk, 2hl, 2kl) and g the six independent
//! entries of G*. Reflections that coincide by symmetry give linear constraints
//! (v(h₁) − v(h₂))·δg = 0; the refinable directions are the null space of those constraints.

use super::linalg::symmetric_eigen;
use crate::lattice::{invert, Lattice, Mat3};

/// Largest |index| examined when looking for coincident reflections.
const PROBE: i32 = 4;
/// Two 1/d² closer than this (relative) coincide by symmetry.
const COINCIDENT: f64 = 2e-6;

/// The six entries of a metric tensor as a vector (11, 22, 33, 12, 13, 23).
pub fn to_vec6(m: &Mat3) -> [f64; 6] {
    [m[0][0], m[1][1], m[2][2], m[0][1], m[0][2], m[1][2]]
}

fn from_vec6(g: &[f64; 6]) -> Mat3 {
    [[g[0], g[3], g[4]], [g[3], g[1], g[5]], [g[4], g[5], g[2]]]
}

/// v(h) such that 1/d² = v(h)·g.
pub fn v_of(h: [i32; 3]) -> [f64; 6] {
    let [a, b, c] = h.map(f64::from);
    [a * a, b * b, c * c, 2.0 * a * b, 2.0 * a * c, 2.0 * b * c]
}

/// A lattice that can be refined: g = g₀ + Σ pⱼ Nⱼ.
#[derive(Debug, Clone)]
pub struct RefinableLattice {
    pub g0: [f64; 6],
    /// Basis directions, each scaled to the size of g₀.
    pub basis: Vec<[f64; 6]>,
}

impl RefinableLattice {
    /// The symmetry-preserving directions of `lattice`'s reciprocal metric.
    pub fn new(lattice: &Lattice) -> Self {
        let gs = lattice.reciprocal_metric();
        let g0 = to_vec6(&gs);
        let mut probes: Vec<(f64, [i32; 3])> = Vec::new();
        for h in -PROBE..=PROBE {
            for k in -PROBE..=PROBE {
                for l in -PROBE..=PROBE {
                    if (h, k, l) <= (0, 0, 0) {
                        continue; // one of each Friedel pair, and not 000
                    }
                    let v = v_of([h, k, l]);
                    let q: f64 = v.iter().zip(&g0).map(|(a, b)| a * b).sum();
                    probes.push((q, [h, k, l]));
                }
            }
        }
        probes.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Constraint normal matrix CᵀC, accumulated from pairs within each coincident group.
        let mut ctc = [0.0f64; 36];
        let mut start = 0;
        while start < probes.len() {
            let mut end = start + 1;
            while end < probes.len()
                && probes[end].0 - probes[start].0 <= COINCIDENT * probes[start].0
            {
                end += 1;
            }
            let first = v_of(probes[start].1);
            let norm = probes[start].0.max(1e-300);
            for p in &probes[start + 1..end] {
                let v = v_of(p.1);
                let d: Vec<f64> = (0..6)
                    .map(|i| (v[i] - first[i]) * g0_scale(&g0) / norm)
                    .collect();
                for i in 0..6 {
                    for j in 0..6 {
                        ctc[i * 6 + j] += d[i] * d[j];
                    }
                }
            }
            start = end;
        }
        let (vals, vecs) = symmetric_eigen(&ctc, 6);
        let max = vals.iter().copied().fold(0.0, f64::max);
        let scale = g0_scale(&g0);
        let basis = (0..6)
            .filter(|&i| vals[i] <= 1e-9 * max.max(1e-300) || max == 0.0)
            .map(|i| {
                let mut d = [0.0; 6];
                for (r, di) in d.iter_mut().enumerate() {
                    *di = vecs[r * 6 + i] * scale;
                }
                d
            })
            .collect();
        Self { g0, basis }
    }

    /// Number of refinable lattice parameters.
    pub fn len(&self) -> usize {
        self.basis.len()
    }

    /// g for parameters `p` (one per basis direction).
    pub fn g(&self, p: &[f64]) -> [f64; 6] {
        let mut g = self.g0;
        for (pj, n) in p.iter().zip(&self.basis) {
            for i in 0..6 {
                g[i] += pj * n[i];
            }
        }
        g
    }

    /// The direct lattice for parameters `p`, or `None` when they make no cell.
    pub fn lattice(&self, p: &[f64]) -> Option<Lattice> {
        lattice_from_g(&self.g(p))
    }
}

/// A size for the basis vectors: the mean diagonal of G*.
fn g0_scale(g0: &[f64; 6]) -> f64 {
    ((g0[0] + g0[1] + g0[2]) / 3.0).abs().max(1e-300)
}

/// The direct cell whose reciprocal metric is `g`.
pub fn lattice_from_g(g: &[f64; 6]) -> Option<Lattice> {
    let direct = invert(&from_vec6(g))?;
    let a = direct[0][0].sqrt();
    let b = direct[1][1].sqrt();
    let c = direct[2][2].sqrt();
    let angle = |x: f64, p: f64, q: f64| (x / (p * q)).clamp(-1.0, 1.0).acos().to_degrees();
    Lattice::new(
        a,
        b,
        c,
        angle(direct[1][2], b, c),
        angle(direct[0][2], a, c),
        angle(direct[0][1], a, b),
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(a: f64, b: f64, c: f64, al: f64, be: f64, ga: f64) -> usize {
        RefinableLattice::new(&Lattice::new(a, b, c, al, be, ga).unwrap()).len()
    }

    #[test]
    fn free_parameters_follow_the_lattice_system() {
        assert_eq!(dims(4.2, 4.2, 4.2, 90.0, 90.0, 90.0), 1);
        // The primitive cell of a face-centred cubic lattice: still one parameter.
        let p = 4.2 / 2f64.sqrt();
        assert_eq!(dims(p, p, p, 60.0, 60.0, 60.0), 1);
        assert_eq!(dims(4.0, 4.0, 6.3, 90.0, 90.0, 90.0), 2);
        assert_eq!(dims(3.1, 3.1, 5.2, 90.0, 90.0, 120.0), 2);
        assert_eq!(dims(4.0, 5.1, 6.3, 90.0, 90.0, 90.0), 3);
        assert_eq!(dims(4.0, 5.1, 6.3, 90.0, 101.3, 90.0), 4);
        assert_eq!(dims(4.0, 5.1, 6.3, 81.0, 101.3, 93.0), 6);
    }

    #[test]
    fn parameters_move_the_cell_and_zero_returns_it() {
        let l = Lattice::new(4.0, 4.0, 6.3, 90.0, 90.0, 90.0).unwrap();
        let r = RefinableLattice::new(&l);
        let back = r.lattice(&[0.0, 0.0]).unwrap();
        assert!((back.a - 4.0).abs() < 1e-12 && (back.c - 6.3).abs() < 1e-12);
        let moved = r.lattice(&[0.01, -0.02]).unwrap();
        assert!(
            (moved.a - moved.b).abs() < 1e-12,
            "tetragonal stays tetragonal"
        );
        assert!((moved.alpha - 90.0).abs() < 1e-9 && (moved.gamma - 90.0).abs() < 1e-9);
    }
}
