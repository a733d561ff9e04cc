//! Vegard's law: the cell of a solid solution is the linear interpolation of its end members'.

use athanor_xrd::{Lattice, LatticeError};

/// The cell at fraction `x` (0: `from`, 1: `to`) between two end members.
pub fn interpolate(from: &Lattice, to: &Lattice, x: f64) -> Result<Lattice, LatticeError> {
    let mix = |p: f64, q: f64| p + (q - p) * x;
    Lattice::new(
        mix(from.a, to.a),
        mix(from.b, to.b),
        mix(from.c, to.c),
        mix(from.alpha, to.alpha),
        mix(from.beta, to.beta),
        mix(from.gamma, to.gamma),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cubic(a: f64) -> Lattice {
        Lattice::new(a, a, a, 90.0, 90.0, 90.0).unwrap()
    }

    #[test]
    fn end_members_and_midpoint() {
        let (lmo, lto) = (cubic(8.247), cubic(8.405));
        assert_eq!(interpolate(&lmo, &lto, 0.0).unwrap(), lmo);
        assert!((interpolate(&lmo, &lto, 1.0).unwrap().a - 8.405).abs() < 1e-12);
        let mid = interpolate(&lmo, &lto, 0.5).unwrap();
        assert!((mid.a - 8.326).abs() < 1e-12);
        assert!((mid.c - 8.326).abs() < 1e-12);
    }

    #[test]
    fn the_cell_is_linear_and_monotone_in_x() {
        let from = Lattice::new(3.25, 3.25, 5.21, 90.0, 90.0, 120.0).unwrap();
        let to = Lattice::new(3.30, 3.30, 5.10, 90.0, 90.0, 120.0).unwrap();
        let mut last = from;
        for i in 1..=10 {
            let l = interpolate(&from, &to, f64::from(i) / 10.0).unwrap();
            assert!(l.a > last.a && l.c < last.c);
            last = l;
        }
        let q = interpolate(&from, &to, 0.25).unwrap();
        let expected_c = 5.21 + 0.25 * (5.10 - 5.21);
        assert!((q.c - expected_c).abs() < 1e-12);
    }
}
