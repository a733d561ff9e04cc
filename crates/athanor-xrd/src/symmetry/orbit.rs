//! Orbits: the positions a site occupies under all operations of its space group, wrapped into the
//! unit cell, with coinciding positions kept once.
//!
//! Two positions coincide when every fractional component differs by less than `tolerance` modulo
//! one — the rule of pymatgen's `in_coord_list_pbc` (CifParser's `site_tolerance`, default 1e-4),
//! kept so that both programs expand a CIF into the same atoms. On a 10 Å axis 1e-4 is 0.001 Å.
//! Look-ups go through a grid of cells at least `tolerance` wide, so expanding a large cell costs
//! time proportional to its number of atoms, not its square.

use std::collections::HashMap;

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

/// A list of fractional positions that answers "which earlier position coincides with x?"
/// quickly.
#[derive(Debug, Clone)]
pub struct PositionSet {
    points: Vec<[f64; 3]>,
    grid: HashMap<[i64; 3], Vec<usize>>,
    cells: i64,
    tolerance: f64,
}

impl PositionSet {
    /// An empty set; positions closer than `tolerance` (per fractional component) coincide.
    pub fn new(tolerance: f64) -> Self {
        let tolerance = if tolerance.is_finite() && tolerance > 0.0 {
            tolerance.min(0.5)
        } else {
            SITE_TOLERANCE
        };
        // Cells at least `tolerance` wide: a coinciding position lies in a neighbouring cell.
        let cells = ((1.0 / tolerance).floor() as i64).clamp(1, 1 << 20);
        Self {
            points: Vec::new(),
            grid: HashMap::new(),
            cells,
            tolerance,
        }
    }

    /// The positions in insertion order.
    pub fn points(&self) -> &[[f64; 3]] {
        &self.points
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    fn cell(&self, x: [f64; 3]) -> [i64; 3] {
        x.map(|v| {
            let w = v - v.floor();
            // In range: w ∈ [0, 1] and cells ≤ 2^20.
            ((w * self.cells as f64).floor() as i64).rem_euclid(self.cells)
        })
    }

    /// The first inserted position that coincides with `x`, if any.
    pub fn find(&self, x: [f64; 3]) -> Option<usize> {
        if !x.iter().all(|v| v.is_finite()) {
            return self
                .points
                .iter()
                .position(|p| same_position(*p, x, self.tolerance));
        }
        let c = self.cell(x);
        let mut best: Option<usize> = None;
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    let key = [
                        (c[0] + dx).rem_euclid(self.cells),
                        (c[1] + dy).rem_euclid(self.cells),
                        (c[2] + dz).rem_euclid(self.cells),
                    ];
                    let Some(list) = self.grid.get(&key) else {
                        continue;
                    };
                    for &i in list {
                        if best.is_none_or(|b| i < b)
                            && same_position(self.points[i], x, self.tolerance)
                        {
                            best = Some(i);
                        }
                    }
                }
            }
        }
        best
    }

    /// Adds `x` unless a coinciding position is already there; returns whether it was added.
    pub fn insert(&mut self, x: [f64; 3]) -> bool {
        if self.find(x).is_some() {
            return false;
        }
        self.push(x);
        true
    }

    /// Appends `x` even if a coinciding position is already there; its index is the old length.
    pub fn push(&mut self, x: [f64; 3]) {
        let index = self.points.len();
        if x.iter().all(|v| v.is_finite()) {
            let key = self.cell(x);
            self.grid.entry(key).or_default().push(index);
        }
        self.points.push(x);
    }
}

/// Adds to `positions` every image of `x` under `ops` that is not already there.
pub fn extend_orbit(ops: &[SymOp], x: [f64; 3], positions: &mut PositionSet) {
    for op in ops {
        positions.insert(wrap_unit(op.apply(x)));
    }
}

/// The first position of `positions` onto which some operation maps `x` (trying operations in
/// order, as pymatgen's `get_matching_coord` does).
pub fn find_equivalent(ops: &[SymOp], x: [f64; 3], positions: &PositionSet) -> Option<usize> {
    ops.iter().find_map(|op| positions.find(op.apply(x)))
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
        let mut special = PositionSet::new(SITE_TOLERANCE);
        extend_orbit(&g, [0.0, 0.0, 0.0], &mut special);
        assert_eq!(special.len(), 2);
        let mut general = PositionSet::new(SITE_TOLERANCE);
        extend_orbit(&g, [0.1, 0.2, 0.3], &mut general);
        assert_eq!(general.len(), 4);
        assert!(general
            .points()
            .iter()
            .flatten()
            .all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn coincidence_is_periodic() {
        assert!(same_position([0.99999, 0.5, 0.0], [0.0, 0.5, 1.0], 1e-4));
        assert!(!same_position([0.9997, 0.5, 0.0], [0.0, 0.5, 0.0], 1e-4));
        let mut set = PositionSet::new(1e-4);
        assert!(set.insert([0.0, 0.5, 0.99996]));
        assert!(!set.insert([0.99999, 0.50004, 0.00003]));
        assert!(set.insert([0.0, 0.5, 0.9997]));
        let g = ops(&["x,y,z", "-x,-y,-z"]);
        assert_eq!(find_equivalent(&g, [1.0, 0.5, 0.0003], &set), Some(1));
        assert_eq!(find_equivalent(&g, [0.25, 0.5, 0.0], &set), None);
    }

    #[test]
    fn grid_lookup_agrees_with_a_linear_scan() {
        // Points on a lattice of spacing 0.7e-4 around cell boundaries: the grid must find
        // exactly what comparing with every point finds.
        let mut set = PositionSet::new(1e-4);
        let mut plain: Vec<[f64; 3]> = Vec::new();
        for i in 0..40 {
            for j in 0..3 {
                let x = [
                    (i as f64) * 0.7e-4 + 0.99875,
                    0.3 + (j as f64) * 1.3e-4,
                    0.0,
                ];
                let expected = !plain.iter().any(|p| same_position(*p, x, 1e-4));
                assert_eq!(set.insert(x), expected, "{x:?}");
                if expected {
                    plain.push(x);
                }
            }
        }
        assert_eq!(set.len(), plain.len());
    }
}
