//! The asymmetric unit of a CIF block: one entry per `_atom_site_` row with its element,
//! oxidation state, fractional coordinates, occupancy and isotropic displacement B.

use std::collections::HashMap;

use super::adp::{b_equivalent, b_from_u, AnisoKind};
use super::lexer::Value;
use super::number::parse_number;
use super::parser::{DataBlock, Loop};
use super::CifError;
use crate::element::{oxidation_state_in_symbol, read_symbol, Element, SymbolReading};
use crate::lattice::Lattice;

/// One row of the atom-site loop, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AsymSite {
    pub label: String,
    pub element: Element,
    pub oxidation_state: Option<f64>,
    pub frac: [f64; 3],
    pub occupancy: f64,
    pub b_iso: Option<f64>,
    pub line: usize,
}

const FRACT: [&str; 3] = [
    "_atom_site_fract_x",
    "_atom_site_fract_y",
    "_atom_site_fract_z",
];

/// Whether the block has an atom-site loop with fractional coordinates.
pub(super) fn has_sites(block: &DataBlock) -> bool {
    block.has(FRACT[0])
}

/// Reads every atom site of the block. Rows whose type symbol stands for no atom ("OH"
/// placeholders) and rows with zero occupancy are left out, as pymatgen leaves them out.
pub(super) fn read_sites(block: &DataBlock, lattice: &Lattice) -> Result<Vec<AsymSite>, CifError> {
    let Some((lp, _)) = block.loop_of(FRACT[0]) else {
        // A single site written as tag-value pairs.
        let single = single_row(block)?;
        return read_rows(block, &single, lattice);
    };
    read_rows(block, lp, lattice)
}

/// Builds a one-row loop from `_atom_site_*` pairs (a CIF with one atom and no loop).
fn single_row(block: &DataBlock) -> Result<Loop, CifError> {
    let mut tags = Vec::new();
    let mut row = Vec::new();
    for (tag, value) in &block.pairs {
        if tag.to_ascii_lowercase().starts_with("_atom_site_")
            && !tag.to_ascii_lowercase().starts_with("_atom_site_aniso_")
        {
            tags.push(tag.clone());
            row.push(value.clone());
        }
    }
    Ok(Loop {
        tags,
        rows: vec![row],
        line: block.line,
    })
}

fn column(lp: &Loop, tag: &str) -> Option<usize> {
    lp.column(tag)
}

fn read_rows(block: &DataBlock, lp: &Loop, lattice: &Lattice) -> Result<Vec<AsymSite>, CifError> {
    let col_label = column(lp, "_atom_site_label");
    let col_type = column(lp, "_atom_site_type_symbol");
    let col_xyz: Vec<usize> = FRACT
        .iter()
        .map(|t| {
            column(lp, t).ok_or_else(|| CifError::Missing {
                block: block.name.clone(),
                line: lp.line,
                tag: format!("{t} (the atom-site loop on line {} lacks it)", lp.line),
            })
        })
        .collect::<Result<_, _>>()?;
    let col_occ = column(lp, "_atom_site_occupancy");
    let col_u = column(lp, "_atom_site_U_iso_or_equiv");
    let col_b = column(lp, "_atom_site_B_iso_or_equiv");
    let oxidation = atom_type_oxidation_states(block);
    let aniso = anisotropic_b(block, lattice)?;

    let mut sites = Vec::with_capacity(lp.rows.len());
    for (index, row) in lp.rows.iter().enumerate() {
        let line = row.first().map_or(lp.line, |v| v.line);
        let label_value = col_label
            .and_then(|c| row.get(c))
            .filter(|v| !v.is_missing());
        let type_value = col_type
            .and_then(|c| row.get(c))
            .filter(|v| !v.is_missing());
        let label = label_value
            .or(type_value)
            .map_or_else(|| format!("site{}", index + 1), |v| v.text.clone());

        // The element: from the type symbol if there is one, else from the label.
        let symbol_text = type_value
            .or(label_value)
            .map(|v| v.text.as_str())
            .unwrap_or("");
        let element = match read_symbol(symbol_text) {
            Some(SymbolReading::Atom(e)) => e,
            Some(SymbolReading::Nothing) => continue,
            None => match label_value.map(|v| read_symbol(&v.text)) {
                Some(Some(SymbolReading::Atom(e))) if type_value.is_some() => e,
                _ => {
                    return Err(CifError::UnknownElement {
                        line,
                        label,
                        text: symbol_text.to_string(),
                    })
                }
            },
        };
        let oxidation_state = type_value
            .and_then(|v| oxidation.get(&v.text).copied())
            .or_else(|| type_value.and_then(|v| oxidation_state_in_symbol(&v.text)))
            .or_else(|| oxidation.get(element.symbol()).copied());

        let mut frac = [0.0; 3];
        for (k, &c) in col_xyz.iter().enumerate() {
            frac[k] = ideal_fraction(required_number(row.get(c), FRACT[k], line)?);
        }
        let occupancy = match col_occ.and_then(|c| row.get(c)).filter(|v| !v.is_missing()) {
            Some(v) => number(v, "_atom_site_occupancy")?,
            None => 1.0,
        };
        if occupancy <= 0.0 {
            continue;
        }
        let b_iso = match (
            col_b.and_then(|c| row.get(c)).filter(|v| !v.is_missing()),
            col_u.and_then(|c| row.get(c)).filter(|v| !v.is_missing()),
        ) {
            (Some(b), _) => Some(number(b, "_atom_site_B_iso_or_equiv")?),
            (None, Some(u)) => Some(b_from_u(number(u, "_atom_site_U_iso_or_equiv")?)),
            (None, None) => aniso.get(&label).copied(),
        };
        sites.push(AsymSite {
            label,
            element,
            oxidation_state,
            frac,
            occupancy,
            b_iso,
            line,
        });
    }
    Ok(sites)
}

/// pymatgen rounds coordinates within 1e-4 (relative) of 1/3 or 2/3 to the exact fraction, so
/// that 0.3333 and 0.6667 generate the same atoms under threefold axes; so do we.
fn ideal_fraction(x: f64) -> f64 {
    for ideal in [1.0 / 3.0, 2.0 / 3.0] {
        if (x / ideal - 1.0).abs() <= 1e-4 {
            return ideal;
        }
    }
    x
}

fn number(v: &Value, tag: &str) -> Result<f64, CifError> {
    parse_number(&v.text)
        .map(|m| m.value)
        .ok_or_else(|| CifError::BadNumber {
            line: v.line,
            tag: tag.to_string(),
            text: v.text.clone(),
            expected: "",
        })
}

fn required_number(v: Option<&Value>, tag: &str, line: usize) -> Result<f64, CifError> {
    match v {
        Some(v) if !v.is_missing() => number(v, tag),
        Some(v) => Err(CifError::BadNumber {
            line: v.line,
            tag: tag.to_string(),
            text: v.text.clone(),
            expected: " (a fractional coordinate is required)",
        }),
        None => Err(CifError::BadNumber {
            line,
            tag: tag.to_string(),
            text: String::new(),
            expected: " (a fractional coordinate is required)",
        }),
    }
}

/// Oxidation states from the `_atom_type_` loop, keyed by type symbol ("Mn3+") and by element.
fn atom_type_oxidation_states(block: &DataBlock) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let symbols = block.values("_atom_type_symbol");
    let states = block.values("_atom_type_oxidation_number");
    if symbols.len() != states.len() {
        return out;
    }
    for (s, o) in symbols.iter().zip(states) {
        if let Some(m) = parse_number(&o.text) {
            out.insert(s.text.clone(), m.value);
            if let Some(SymbolReading::Atom(e)) = read_symbol(&s.text) {
                out.entry(e.symbol().to_string()).or_insert(m.value);
            }
        }
    }
    out
}

/// Equivalent isotropic B of every site in the `_atom_site_aniso_` loop, keyed by label.
fn anisotropic_b(block: &DataBlock, lattice: &Lattice) -> Result<HashMap<String, f64>, CifError> {
    let mut out = HashMap::new();
    let Some((lp, label_col)) = block.loop_of("_atom_site_aniso_label") else {
        return Ok(out);
    };
    let kinds = [
        (AnisoKind::U, "_atom_site_aniso_U_"),
        (AnisoKind::B, "_atom_site_aniso_B_"),
        (AnisoKind::Beta, "_atom_site_aniso_beta_"),
    ];
    let suffixes = ["11", "22", "33", "12", "13", "23"];
    let Some((kind, cols)) = kinds.iter().find_map(|(kind, prefix)| {
        let cols: Vec<Option<usize>> = suffixes
            .iter()
            .map(|s| lp.column(&format!("{prefix}{s}")))
            .collect();
        cols[..3]
            .iter()
            .all(Option::is_some)
            .then_some((*kind, cols))
    }) else {
        return Ok(out);
    };
    for row in &lp.rows {
        let Some(label) = row.get(label_col) else {
            continue;
        };
        let mut t = [0.0; 6];
        let mut complete = true;
        for (k, col) in cols.iter().enumerate() {
            match col.and_then(|c| row.get(c)) {
                Some(v) if v.is_missing() => complete = k >= 3 && complete,
                Some(v) => t[k] = number(v, "_atom_site_aniso_*")?,
                None => {}
            }
        }
        if complete {
            out.insert(label.text.clone(), b_equivalent(lattice, kind, t));
        }
    }
    Ok(out)
}
