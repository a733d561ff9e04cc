//! Athanor's characterization engine: crystal structures, CIF reading, powder-diffraction
//! simulation and pattern files. Pure: bytes in, values out; no async, no network, no global state.

pub mod lattice;
pub mod reflection;

pub use lattice::{Lattice, LatticeError};
pub use reflection::Reflection;
