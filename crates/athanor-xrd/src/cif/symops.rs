//! The symmetry of a CIF block: explicit `x,y,z` operations when present, otherwise the
//! operations of the named space group (Hall symbol, then Hermann–Mauguin symbol, then number).

use super::parser::DataBlock;
use super::CifError;
use crate::lattice::Lattice;
use crate::symmetry::{parse_xyz, spacegroup, SymOp};

/// Tags that list explicit operations (CIF 1.1 core and symCIF, DDL2-style spelling too).
const OPERATION_TAGS: [&str; 4] = [
    "_symmetry_equiv_pos_as_xyz",
    "_space_group_symop_operation_xyz",
    "_space_group_symop.operation_xyz",
    "_symmetry_equiv.pos_as_xyz",
];
pub(super) const HALL_TAGS: [&str; 3] = [
    "_space_group_name_Hall",
    "_symmetry_space_group_name_Hall",
    "_space_group.name_Hall",
];
pub(super) const HM_TAGS: [&str; 4] = [
    "_space_group_name_H-M_alt",
    "_symmetry_space_group_name_H-M",
    "_space_group.name_H-M_alt",
    "_space_group_name_H-M_ref",
];
pub(super) const NUMBER_TAGS: [&str; 3] = [
    "_space_group_IT_number",
    "_symmetry_Int_Tables_number",
    "_space_group.IT_number",
];

/// The operations to expand the asymmetric unit with. When a symbol leaves the setting open
/// (origin choice 1 or 2, hexagonal or rhombohedral axes) all candidate settings are returned,
/// the preferred one first; the caller picks among them.
#[derive(Debug, Clone)]
pub(super) struct BlockSymmetry {
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub ops: Vec<SymOp>,
    /// The database setting, when the operations came from a symbol.
    pub hall_number: Option<i32>,
}

pub(super) fn read_symmetry(
    block: &DataBlock,
    lattice: &Lattice,
) -> Result<BlockSymmetry, CifError> {
    for tag in OPERATION_TAGS {
        let values = block.values(tag);
        if values.is_empty() || values.iter().all(|v| v.is_missing()) {
            continue;
        }
        let mut ops = Vec::with_capacity(values.len());
        for v in values {
            let op = parse_xyz(&v.text).map_err(|source| CifError::Symmetry {
                line: v.line,
                source,
            })?;
            ops.push(op);
        }
        return Ok(BlockSymmetry {
            candidates: vec![Candidate {
                ops,
                hall_number: None,
            }],
        });
    }
    if let Some(v) = block.first_value(&HALL_TAGS) {
        let (info, ops) = spacegroup::from_hall(&v.text).map_err(|source| CifError::Symmetry {
            line: v.line,
            source,
        })?;
        return Ok(BlockSymmetry {
            candidates: vec![Candidate {
                ops,
                hall_number: info.map(|i| i.hall_number),
            }],
        });
    }
    let numbers = if let Some(v) = block.first_value(&HM_TAGS) {
        spacegroup::hall_numbers_for_hm(&v.text).map_err(|source| CifError::Symmetry {
            line: v.line,
            source,
        })?
    } else if let Some(v) = block.first_value(&NUMBER_TAGS) {
        let n = v
            .text
            .trim()
            .parse::<i64>()
            .map_err(|_| CifError::BadNumber {
                line: v.line,
                tag: "space-group number".into(),
                text: v.text.clone(),
                expected: " (expected an integer from 1 to 230)",
            })?;
        spacegroup::hall_numbers_for_number(n).map_err(|source| CifError::Symmetry {
            line: v.line,
            source,
        })?
    } else {
        // No symmetry given at all: the atoms listed are the whole cell (P 1), as pymatgen reads it.
        return Ok(BlockSymmetry {
            candidates: vec![Candidate {
                ops: vec![SymOp::IDENTITY],
                hall_number: None,
            }],
        });
    };
    let mut candidates: Vec<Candidate> = numbers
        .into_iter()
        .filter_map(|n| {
            spacegroup::operations(n).map(|ops| Candidate {
                ops,
                hall_number: Some(n),
            })
        })
        .collect();
    order_candidates(&mut candidates, lattice);
    Ok(BlockSymmetry { candidates })
}

/// Puts the most plausible setting first: origin choice 2 (the setting ICSD and COD use by
/// default) before 1. Rhombohedral groups keep only the axes the cell's shape calls for
/// (hexagonal axes for a = b, γ = 120°, rhombohedral otherwise): the atom count cannot decide
/// between them, since hexagonal axes triple the cell.
fn order_candidates(candidates: &mut Vec<Candidate>, lattice: &Lattice) {
    let hexagonal_cell =
        (lattice.gamma - 120.0).abs() < 0.5 && (lattice.a - lattice.b).abs() < 1e-3 * lattice.a;
    let setting = |c: &Candidate| c.hall_number.and_then(spacegroup::setting_of);
    let wrong_axes = if hexagonal_cell { "R" } else { "H" };
    if candidates.iter().any(|c| setting(c) == Some(wrong_axes))
        && candidates
            .iter()
            .any(|c| matches!(setting(c), Some("H" | "R")) && setting(c) != Some(wrong_axes))
    {
        candidates.retain(|c| setting(c) != Some(wrong_axes));
    }
    let rank = |c: &Candidate| -> u8 {
        match setting(c) {
            Some("2") => 0,
            Some("1") => 1,
            _ => 2,
        }
    };
    candidates.sort_by_key(rank);
}
