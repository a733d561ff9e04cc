//! Orbits: the positions a site occupies under all operations of its space group, wrapped into the
//! unit cell, with coinciding positions kept once.
//!
//! Two positions coincide when every fractional component differs by less than `tolerance` modulo
//! one — the rule of pymatgen's `in_coord_list_pbc` (CifParser's `site_tolerance`, default 1e-4),
//! kept so that both programs expand a CIF into the same atoms. On a 10 Å axis 1e-4 is 0.001 Å.

use super::SymOp;

/// The default merge tolerance in fractional units (pymatgen's `site_tolerance`).
pub const SITE_TOLERANCE: f64 = 1e-4;

/// Wraps a fractional coordinate into [0, 1] as pymatgen does (`x − floor(x)`; a value a hair
/// below an integer may round to exactly 1.0).
pub fn wrap_unit(x: [f64; 3]) -> [f64; 3] {
    x.map(|v| v - v.floor())
}

/// Whether two fractional positions coincide modulo lattice translations.
pub fn same_position(a: [f64; 3], b: [f64; 3], tolerance: f64) -> bool {
    (0..3).all(|i| {
        let d = a[i] - b[i];
        (d - d.round_ties_even()).abs() < tolerance
    })
}

/// Adds to `positions` every image of `x` under `ops` that is not already there.
pub fn extend_orbit(ops: &[SymOp], x: [f64; 3], tolerance: f64, positions: &mut Vec<[f64; 3]>) {
    for op in ops {
        let image = wrap_unit(op.apply(x));
        if !positions
            .iter()
            .any(|p| same_position(*p, image, tolerance))
        {
            positions.push(image);
        }
    }
}

/// Whether some operation maps `x` onto `target` (modulo lattice translations).
pub fn equivalent(ops: &[SymOp], x: [f64; 3], target: [f64; 3], tolerance: f64) -> bool {
    ops.iter()
        .any(|op| same_position(op.apply(x), target, tolerance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symmetry::parse_xyz;

    fn ops(list: &[&str]) -> Vec<SymOp> {
        list.iter().map(|s| parse_xyz(s).unwrap()).collect()
    }

    #[test]
    fn special_positions_collapse_and_general_ones_do_not() {
        let g = ops(&["x,y,z", "-x,-y,-z", "x+1/2,y+1/2,z", "-x+1/2,-y+1/2,-z"]);
        let mut special = Vec::new();
        extend_orbit(&g, [0.0, 0.0, 0.0], SITE_TOLERANCE, &mut special);
        assert_eq!(special.len(), 2);
        let mut general = Vec::new();
        extend_orbit(&g, [0.1, 0.2, 0.3], SITE_TOLERANCE, &mut general);
        assert_eq!(general.len(), 4);
        assert!(general.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn coincidence_is_periodic() {
        assert!(same_position([0.99999, 0.5, 0.0], [0.0, 0.5, 1.0], 1e-4));
        assert!(!same_position([0.9997, 0.5, 0.0], [0.0, 0.5, 0.0], 1e-4));
        let g = ops(&["x,y,z", "-x,-y,-z"]);
        assert!(equivalent(&g, [0.1, 0.2, 0.3], [0.9, 0.8, 0.7], 1e-4));
    }
}
