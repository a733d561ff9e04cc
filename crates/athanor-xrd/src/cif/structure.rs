//! From a CIF data block to a [`Structure`]: cell, symmetry, asymmetric unit, then the full unit
//! cell with symmetry-equivalent positions kept once.
//!
//! Expansion follows pymatgen's CifParser so that both programs produce the same atoms: sites of
//! the asymmetric unit that some operation maps onto an earlier one share that position (their
//! occupancies add up); each position's orbit is generated with every operation, wrapped into the
//! cell, and images that coincide (within [`SITE_TOLERANCE`] in every fractional coordinate)
//! with an image of a position of the same composition are dropped.

use super::number::parse_number;
use super::parser::{parse, CifFile, DataBlock};
use super::sites::{has_sites, read_sites, AsymSite};
use super::symops::{read_symmetry, Candidate, HM_TAGS, NUMBER_TAGS};
use super::CifError;
use crate::lattice::Lattice;
use crate::structure::{Site, SpaceGroup, Structure};
use crate::symmetry::orbit::{extend_orbit, find_equivalent, PositionSet, SITE_TOLERANCE};
use crate::symmetry::spacegroup;

/// Occupancies of one position may exceed 1 by this much (refined values such as 1.02) before
/// the CIF is rejected as inconsistent.
const OCCUPANCY_SLACK: f64 = 0.05;

/// Parses CIF text and returns every structure in it (one per data block with a cell and atom
/// sites). Blocks without atom sites (publication or powder-data blocks) are skipped; a block
/// with atom sites that cannot be read is an error.
pub fn read_structures(text: &str) -> Result<Vec<Structure>, CifError> {
    let file = parse(text)?;
    let structures = structures_from_file(&file)?;
    if structures.is_empty() {
        return Err(CifError::NoStructure);
    }
    Ok(structures)
}

/// Every structure of a parsed CIF (see [`read_structures`]); may be empty.
pub fn structures_from_file(file: &CifFile) -> Result<Vec<Structure>, CifError> {
    file.blocks
        .iter()
        .filter(|b| has_sites(b))
        .map(structure_from_block)
        .collect()
}

/// The structure of one data block.
pub fn structure_from_block(block: &DataBlock) -> Result<Structure, CifError> {
    let lattice = read_lattice(block)?;
    let symmetry = read_symmetry(block, &lattice)?;
    let asym = read_sites(block, &lattice)?;

    // Choose among candidate settings the one that generates the fewest atoms: a wrong origin
    // puts special-position atoms on general positions and multiplies them.
    let mut best: Option<(Vec<Site>, &Candidate)> = None;
    for candidate in &symmetry.candidates {
        let sites = expand(&asym, &candidate.ops)?;
        if best.as_ref().is_none_or(|(b, _)| sites.len() < b.len()) {
            best = Some((sites, candidate));
        }
    }
    let Some((sites, chosen)) = best else {
        return Err(CifError::Unsupported {
            block: block.name.clone(),
            line: block.line,
            message: "no usable space-group setting".into(),
        });
    };

    Ok(Structure {
        name: block.name.clone(),
        lattice,
        sites,
        space_group: space_group(block, chosen.hall_number),
        z_declared: block
            .first_value(&["_cell_formula_units_Z"])
            .and_then(|v| parse_number(&v.text))
            .and_then(|m| {
                let r = m.value.round();
                ((m.value - r).abs() < 1e-6 && (1.0..1e6).contains(&r)).then_some(r as u32)
            }),
    })
}

fn read_lattice(block: &DataBlock) -> Result<Lattice, CifError> {
    let tags = [
        "_cell_length_a",
        "_cell_length_b",
        "_cell_length_c",
        "_cell_angle_alpha",
        "_cell_angle_beta",
        "_cell_angle_gamma",
    ];
    let mut p = [0.0; 6];
    for (k, tag) in tags.iter().enumerate() {
        let v = block.first_value(&[tag]).ok_or_else(|| CifError::Missing {
            block: block.name.clone(),
            line: block.line,
            tag: (*tag).to_string(),
        })?;
        p[k] = parse_number(&v.text)
            .ok_or_else(|| CifError::BadNumber {
                line: v.line,
                tag: (*tag).to_string(),
                text: v.text.clone(),
                expected: "",
            })?
            .value;
    }
    Lattice::new(p[0], p[1], p[2], p[3], p[4], p[5]).map_err(|source| CifError::Lattice {
        block: block.name.clone(),
        line: block.line,
        source,
    })
}

/// The space group as the block names it, completed from the Hall database where it is silent.
fn space_group(block: &DataBlock, hall_number: Option<i32>) -> SpaceGroup {
    let info = hall_number.and_then(spacegroup::info);
    let declared_symbol = block
        .first_value(&HM_TAGS)
        .map(|v| v.text.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty());
    let declared_number = block
        .first_value(&NUMBER_TAGS)
        .and_then(|v| v.text.trim().parse::<u16>().ok())
        .filter(|n| (1..=230).contains(n));
    let looked_up = declared_symbol
        .as_deref()
        .and_then(|s| spacegroup::hall_numbers_for_hm(s).ok())
        .and_then(|n| n.first().copied())
        .and_then(spacegroup::info);
    SpaceGroup {
        symbol: declared_symbol.or_else(|| info.as_ref().map(|i| i.symbol.clone())),
        number: declared_number
            .or(info.map(|i| i.number))
            .or(looked_up.map(|i| i.number)),
    }
}

/// One position of the asymmetric unit and the species on it.
struct Position<'a> {
    frac: [f64; 3],
    occupants: Vec<&'a AsymSite>,
}

/// Expands the asymmetric unit into the full cell.
fn expand(asym: &[AsymSite], ops: &[crate::symmetry::SymOp]) -> Result<Vec<Site>, CifError> {
    // Sites that symmetry maps onto an earlier site share its position (pymatgen's
    // get_matching_coord): mixed occupancy written as two rows, or one atom listed twice.
    let mut positions: Vec<Position> = Vec::new();
    let mut seen = PositionSet::new(SITE_TOLERANCE);
    for site in asym {
        match find_equivalent(ops, site.frac, &seen) {
            Some(i) => positions[i].occupants.push(site),
            None => {
                // Indices of `seen` and `positions` stay in step.
                seen.push(site.frac);
                positions.push(Position {
                    frac: site.frac,
                    occupants: vec![site],
                });
            }
        }
    }
    for p in &positions {
        let total: f64 = p.occupants.iter().map(|s| s.occupancy).sum();
        if total > 1.0 + OCCUPANCY_SLACK {
            let first = p.occupants[0];
            return Err(CifError::Occupancy {
                line: first.line,
                label: first.label.clone(),
                total,
            });
        }
    }

    // Group positions of identical composition; orbits are de-duplicated within a group.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, p) in positions.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|g| same_composition(&positions[g[0]], p))
        {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    let mut sites = Vec::new();
    for group in groups {
        let mut images = PositionSet::new(SITE_TOLERANCE);
        for &i in &group {
            let before = images.len();
            extend_orbit(ops, positions[i].frac, &mut images);
            for frac in &images.points()[before..] {
                for occupant in &positions[i].occupants {
                    sites.push(Site {
                        label: occupant.label.clone(),
                        element: occupant.element,
                        oxidation_state: occupant.oxidation_state,
                        frac: *frac,
                        occupancy: occupant.occupancy,
                        b_iso: occupant.b_iso,
                    });
                }
            }
        }
    }
    Ok(sites)
}

/// The same species with the same total occupancies (pymatgen compares compositions to 1e-8).
fn same_composition(a: &Position, b: &Position) -> bool {
    let amounts = |p: &Position| {
        let mut v: Vec<(u8, f64)> = Vec::new();
        for s in &p.occupants {
            match v.iter_mut().find(|(z, _)| *z == s.element.z()) {
                Some((_, n)) => *n += s.occupancy,
                None => v.push((s.element.z(), s.occupancy)),
            }
        }
        v.sort_by_key(|(z, _)| *z);
        v
    };
    let (x, y) = (amounts(a), amounts(b));
    x.len() == y.len()
        && x.iter()
            .zip(&y)
            .all(|((za, na), (zb, nb))| za == zb && (na - nb).abs() <= 1e-8)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "data_t\n_cell_length_a 4.0\n_cell_length_b 4.0\n_cell_length_c 4.0\n\
        _cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n";

    fn cif(symmetry: &str, atoms: &str) -> String {
        format!("{HEADER}{symmetry}\nloop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n{atoms}")
    }

    #[test]
    fn perovskite_from_its_symbol_has_five_atoms() {
        let text = cif(
            "_symmetry_space_group_name_H-M 'P m -3 m'",
            "Ba1 Ba2+ 0 0 0 1\nTi1 Ti4+ 0.5 0.5 0.5 1\nO1 O2- 0.5 0.5 0 1\n",
        );
        let s = &read_structures(&text).unwrap()[0];
        assert_eq!(s.sites.len(), 5);
        assert_eq!(s.reduced_formula(), "BaTiO3");
        assert_eq!(s.space_group.number, Some(221));
        let o = s.sites.iter().find(|x| x.label == "O1").unwrap();
        assert_eq!(o.oxidation_state, Some(-2.0));
    }

    #[test]
    fn mixed_sites_share_their_position() {
        let text = cif(
            "_symmetry_space_group_name_H-M 'F m -3 m'",
            "Fe1 Fe 0 0 0 0.6\nNi1 Ni 0 0 0 0.4\nO1 O 0.5 0.5 0.5 1\n",
        );
        let s = &read_structures(&text).unwrap()[0];
        assert_eq!(s.sites.len(), 12);
        assert_eq!(s.position_count(), 8);
        let fe: f64 = s
            .sites
            .iter()
            .filter(|x| x.label == "Fe1")
            .map(|x| x.occupancy)
            .sum();
        assert!((fe - 2.4).abs() < 1e-12);
    }

    #[test]
    fn wrong_origin_choice_is_avoided() {
        // Diamond Si at 8a: (1/8,1/8,1/8) in origin choice 2, (0,0,0) in origin choice 1.
        let o2 = cif(
            "_symmetry_space_group_name_H-M 'F d -3 m'",
            "Si1 Si 0.125 0.125 0.125 1\n",
        );
        assert_eq!(read_structures(&o2).unwrap()[0].sites.len(), 8);
        let o1 = cif(
            "_symmetry_space_group_name_H-M 'F d -3 m'",
            "Si1 Si 0 0 0 1\n",
        );
        assert_eq!(read_structures(&o1).unwrap()[0].sites.len(), 8);
        let number_only = cif("_space_group_IT_number 227", "Si1 Si 0.125 0.125 0.125 1\n");
        assert_eq!(read_structures(&number_only).unwrap()[0].sites.len(), 8);
    }

    #[test]
    fn explicit_operations_win_and_bad_ones_are_reported() {
        let text = cif(
            "loop_\n_symmetry_equiv_pos_site_id\n_symmetry_equiv_pos_as_xyz\n1 x,y,z\n2 -x,-y,-z",
            "C1 C 0.1 0.2 0.3 1\n",
        );
        assert_eq!(read_structures(&text).unwrap()[0].sites.len(), 2);
        let bad = cif(
            "loop_\n_symmetry_equiv_pos_as_xyz\nx,y,z\n'-x,-y'",
            "C1 C 0.1 0.2 0.3 1\n",
        );
        let err = read_structures(&bad).unwrap_err();
        assert!(matches!(err, CifError::Symmetry { line: 11, .. }), "{err}");
    }

    #[test]
    fn malformed_blocks_name_what_is_wrong() {
        let no_angle = "data_t\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nC1 0 0 0\n";
        let err = read_structures(no_angle).unwrap_err();
        assert!(
            matches!(&err, CifError::Missing { tag, .. } if tag == "_cell_angle_gamma"),
            "{err}"
        );
        let bad_x = cif("", "C1 C zero 0 0 1\n");
        let err = read_structures(&bad_x).unwrap_err();
        assert!(
            matches!(&err, CifError::BadNumber { line: 16, .. }),
            "{err}"
        );
        let bad_el = cif("", "Qq1 Qq 0 0 0 1\n");
        assert!(matches!(
            read_structures(&bad_el),
            Err(CifError::UnknownElement { .. })
        ));
        let too_full = cif("", "Fe1 Fe 0 0 0 0.8\nNi1 Ni 0 0 0 0.8\n");
        assert!(matches!(
            read_structures(&too_full),
            Err(CifError::Occupancy { .. })
        ));
        assert!(matches!(
            read_structures("data_x\n_a 1\n"),
            Err(CifError::NoStructure)
        ));
    }

    #[test]
    fn every_block_with_atoms_is_a_structure() {
        let one = cif(
            "_symmetry_space_group_name_H-M 'P m -3 m'",
            "Cs1 Cs 0 0 0 1\nCl1 Cl 0.5 0.5 0.5 1\n",
        );
        let two = one
            .replace("data_t", "data_second")
            .replace("Cs1 Cs", "Tl1 Tl");
        let text = format!("data_publication\n_journal_year 1999\n{one}{two}");
        let s = read_structures(&text).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].name.as_str(), s[0].reduced_formula().as_str()),
            ("t", "CsCl")
        );
        assert_eq!(
            (s[1].name.as_str(), s[1].reduced_formula().as_str()),
            ("second", "TlCl")
        );
    }

    #[test]
    fn rhombohedral_axes_follow_the_cell() {
        // R -3 m without a suffix on a hexagonal cell: hexagonal axes, 3 lattice points.
        let hex = "data_h\n_cell_length_a 2.8\n_cell_length_b 2.8\n_cell_length_c 14.0\n\
            _cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 120\n\
            _symmetry_space_group_name_H-M 'R -3 m'\n\
            loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nCo1 0 0 0\n";
        assert_eq!(read_structures(hex).unwrap()[0].sites.len(), 3);
        let explicit = hex.replace("'R -3 m'", "'R -3 m :H'");
        assert_eq!(read_structures(&explicit).unwrap()[0].sites.len(), 3);
        let rhombic = "data_r\n_cell_length_a 5.0\n_cell_length_b 5.0\n_cell_length_c 5.0\n\
            _cell_angle_alpha 33\n_cell_angle_beta 33\n_cell_angle_gamma 33\n\
            _symmetry_space_group_name_H-M 'R -3 m'\n\
            loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nCo1 0 0 0\n";
        assert_eq!(read_structures(rhombic).unwrap()[0].sites.len(), 1);
    }

    #[test]
    fn displacement_parameters_become_b() {
        let text = format!(
            "{HEADER}loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_U_iso_or_equiv\n\
             Na1 0 0 0 0.01\nCl1 0.5 0.5 0.5 ?\n\
             loop_\n_atom_site_aniso_label\n_atom_site_aniso_U_11\n_atom_site_aniso_U_22\n_atom_site_aniso_U_33\n\
             Cl1 0.01 0.02 0.03\n"
        );
        let s = &read_structures(&text).unwrap()[0];
        let b = |l: &str| {
            s.sites
                .iter()
                .find(|x| x.label == l)
                .and_then(|x| x.b_iso)
                .unwrap()
        };
        let eight_pi2 = 8.0 * std::f64::consts::PI.powi(2);
        assert!((b("Na1") - 0.01 * eight_pi2).abs() < 1e-12);
        assert!((b("Cl1") - 0.02 * eight_pi2).abs() < 1e-12);
    }
}
