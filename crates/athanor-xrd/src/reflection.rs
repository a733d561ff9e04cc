//! A reflection of a stick pattern: where it falls, how strong it is, and which planes make it.

use serde::{Deserialize, Serialize};

/// One peak of a stick pattern. Reflections whose 2θ coincide are merged into one, keeping every
/// contributing Miller index in `hkls`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reflection {
    /// Diffraction angle 2θ in degrees.
    pub two_theta: f64,
    /// Interplanar spacing in Å.
    pub d: f64,
    /// Integrated intensity (arbitrary units; scaled to max = 100 where a pattern says so).
    pub intensity: f64,
    /// One representative Miller index per family of symmetry-equivalent planes.
    pub hkls: Vec<[i32; 3]>,
    /// Number of planes (all families together) that contribute to this reflection.
    pub multiplicity: u32,
    /// Number of planes in each family of `hkls` (same order); they add up to `multiplicity`.
    /// Empty when the producer does not track families.
    #[serde(default)]
    pub multiplicities: Vec<u32>,
}
