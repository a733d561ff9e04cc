//! Space-group symmetry: operations (rotation + translation on fractional coordinates), reading
//! them from `x,y,z` triplets or from a Hall / Hermann–Mauguin symbol or number, and generating
//! the orbit of a site.

pub mod orbit;
pub mod spacegroup;
pub mod xyz;

pub use orbit::{same_position, wrap_unit};
pub use spacegroup::{SpaceGroupInfo, SpaceGroupSource};
pub use xyz::parse_xyz;

/// Why a symmetry operation or space-group symbol could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SymmetryError {
    #[error("symmetry operation '{op}' cannot be read: {reason}")]
    BadOperation { op: String, reason: String },
    #[error("unknown Hall symbol '{0}'")]
    UnknownHall(String),
    #[error("unknown Hermann–Mauguin symbol '{0}'")]
    UnknownHermannMauguin(String),
    #[error("space-group number {0} is not between 1 and 230")]
    BadNumber(i64),
}

/// A symmetry operation x′ = R·x + t on fractional coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SymOp {
    /// Integer rotation part R (row-major).
    pub rotation: [[i32; 3]; 3],
    /// Translation t, fractional.
    pub translation: [f64; 3],
}

impl SymOp {
    /// The identity operation.
    pub const IDENTITY: SymOp = SymOp {
        rotation: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
        translation: [0.0; 3],
    };

    /// R·x + t.
    pub fn apply(&self, x: [f64; 3]) -> [f64; 3] {
        let mut out = [0.0; 3];
        for (i, o) in out.iter_mut().enumerate() {
            let r = self.rotation[i];
            *o = f64::from(r[0]) * x[0]
                + f64::from(r[1]) * x[1]
                + f64::from(r[2]) * x[2]
                + self.translation[i];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_act_on_fractional_coordinates() {
        let op = parse_xyz("-y+1/2,x-y,z+1/4").unwrap();
        let x = op.apply([0.1, 0.2, 0.3]);
        let expect = [0.3, -0.1, 0.55];
        for i in 0..3 {
            assert!((x[i] - expect[i]).abs() < 1e-12);
        }
        assert_eq!(SymOp::IDENTITY.apply([0.1, 0.2, 0.3]), [0.1, 0.2, 0.3]);
    }
}
