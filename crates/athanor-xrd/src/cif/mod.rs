//! CIF 1.1 reading: text → generic data model (blocks, tags, loops) → crystal structures.
//!
//! ```
//! let cif = "data_NaCl\n_cell_length_a 5.6402(3)\n_cell_length_b 5.6402\n_cell_length_c 5.6402\n\
//!            _cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n\
//!            _symmetry_space_group_name_H-M 'F m -3 m'\n\
//!            loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n\
//!            Na1 0 0 0\nCl1 0.5 0.5 0.5\n";
//! let structures = athanor_xrd::cif::read_structures(cif).unwrap();
//! assert_eq!(structures[0].sites.len(), 8);
//! assert_eq!(structures[0].reduced_formula(), "NaCl");
//! ```

mod adp;
pub mod lexer;
pub mod number;
pub mod parser;
mod sites;
mod structure;
mod symops;

pub use lexer::{Quoting, Value};
pub use number::{parse_number, Measured};
pub use parser::{parse, CifFile, DataBlock, Loop};
pub use structure::{read_structures, structure_from_block, structures_from_file};

use crate::lattice::LatticeError;
use crate::symmetry::SymmetryError;

/// Why a CIF could not be read or turned into a structure. Every variant names the line (or
/// block) and what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CifError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("no data block holds a crystal structure (expected a block with _cell_length_a and an _atom_site_ loop with fractional coordinates)")]
    NoStructure,
    #[error("data block '{block}' (line {line}): missing {tag}")]
    Missing {
        block: String,
        line: usize,
        tag: String,
    },
    #[error("line {line}: {tag} = '{text}' is not a number{expected}")]
    BadNumber {
        line: usize,
        tag: String,
        text: String,
        expected: &'static str,
    },
    #[error("data block '{block}' (line {line}): {source}")]
    Lattice {
        block: String,
        line: usize,
        source: LatticeError,
    },
    #[error("line {line}: {source}")]
    Symmetry { line: usize, source: SymmetryError },
    #[error("line {line}: atom site '{label}' names no chemical element (type symbol or label '{text}')")]
    UnknownElement {
        line: usize,
        label: String,
        text: String,
    },
    #[error(
        "line {line}: occupancies at the position of site '{label}' add up to {total}, more than 1"
    )]
    Occupancy {
        line: usize,
        label: String,
        total: f64,
    },
    #[error("data block '{block}' (line {line}): {message}")]
    Unsupported {
        block: String,
        line: usize,
        message: String,
    },
}
