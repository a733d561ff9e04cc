//! Athanor's characterization engine: crystal structures, CIF reading, powder-diffraction
//! simulation and pattern files. Pure: bytes in, values out; no async, no network, no global state.

pub mod cif;
pub mod element;
mod element_table;
pub mod formats;
pub mod identify;
pub mod lattice;
pub mod library;
pub mod pattern;
pub mod profile;
pub mod reflection;
pub mod scattering;
pub mod simulate;
pub mod structure;
pub mod symmetry;
pub mod wavelength;

pub use cif::CifError;
pub use element::Element;
pub use lattice::{Lattice, LatticeError};
pub use pattern::{Pattern, PatternError, PatternMeta};
pub use reflection::Reflection;
pub use scattering::ScatteringTable;
pub use simulate::{simulate, SimulationError, SimulationOptions};
pub use structure::{Site, SpaceGroup, Structure};
pub use wavelength::Radiation;
