//! Space groups by name: the full list of operations for a Hall symbol, a Hermann–Mauguin symbol
//! (with `:1`/`:2` origin-choice and `:H`/`:R` axis suffixes) or an International Tables number,
//! from the 530-setting Hall database of the `moyo` crate.

use moyo::data::{hall_symbol_entry, HallSymbol, Setting};

use super::{SymOp, SymmetryError};

/// Hall numbers run from 1 to 530.
const HALL_NUMBERS: std::ops::RangeInclusive<i32> = 1..=530;

/// A space-group setting from the Hall database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceGroupInfo {
    /// Index of the setting in the Hall database (1–530).
    pub hall_number: i32,
    /// International Tables number (1–230).
    pub number: u16,
    /// Short Hermann–Mauguin symbol, with the setting suffix where the group has origin choices
    /// or rhombohedral axes (e.g. "F d -3 m:2", "R -3 m:H").
    pub symbol: String,
    /// The Hall symbol.
    pub hall_symbol: String,
}

/// Which kind of name a space group was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceGroupSource {
    Hall,
    HermannMauguin,
    Number,
}

/// The setting of a Hall number.
pub fn info(hall_number: i32) -> Option<SpaceGroupInfo> {
    let entry = hall_symbol_entry(hall_number)?;
    let symbol = match entry.setting {
        "1" | "2" | "H" | "R" => format!("{}:{}", entry.hm_short, entry.setting),
        _ => entry.hm_short.to_string(),
    };
    Some(SpaceGroupInfo {
        hall_number,
        number: u16::try_from(entry.number).ok()?,
        symbol: symbol.replace('_', ""),
        hall_symbol: entry.hall_symbol.to_string(),
    })
}

/// Every operation (centring translations included) of the setting with this Hall number.
pub fn operations(hall_number: i32) -> Option<Vec<SymOp>> {
    let entry = hall_symbol_entry(hall_number)?;
    operations_of_hall_symbol(entry.hall_symbol)
}

/// Every operation of a Hall symbol: moyo parses it into generators, the group is closed here.
/// A symbol whose generators do not close into a crystallographic point group (more than 48
/// rotations, as "-P 3 2 3" would) is rejected instead of traversed forever.
fn operations_of_hall_symbol(symbol: &str) -> Option<Vec<SymOp>> {
    let hall = HallSymbol::new(symbol)?;
    let generators: Vec<SymOp> = hall
        .generators
        .iter()
        .map(|op| SymOp {
            rotation: op.rotation_as_array(),
            translation: op.translation_as_array(),
        })
        .collect();
    let coset = close_group(&generators)?;
    let mut ops = coset.clone();
    for centring in &hall.centering_translations {
        for op in &coset {
            let t = op.translation;
            ops.push(SymOp {
                rotation: op.rotation,
                translation: [
                    reduce_translation(t[0] + centring[0]),
                    reduce_translation(t[1] + centring[1]),
                    reduce_translation(t[2] + centring[2]),
                ],
            });
        }
    }
    Some(ops)
}

/// The largest crystallographic point group has 48 operations.
const MAX_ROTATIONS: usize = 48;

/// A translation modulo one, snapped to twelfths (all space-group translations are multiples
/// of 1/12 in a conventional cell).
fn reduce_translation(t: f64) -> f64 {
    let twelfths = (t * 12.0).round().rem_euclid(12.0);
    twelfths / 12.0
}

fn compose(a: &SymOp, b: &SymOp) -> SymOp {
    let mut rotation = [[0i32; 3]; 3];
    for (i, row) in rotation.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = (0..3).fold(0i32, |acc, k| {
                acc.saturating_add(a.rotation[i][k].saturating_mul(b.rotation[k][j]))
            });
        }
    }
    let moved = a.apply(b.translation);
    SymOp {
        rotation,
        translation: moved.map(reduce_translation),
    }
}

/// All products of the generators, one operation per rotation (translations modulo lattice
/// vectors); `None` when more than [`MAX_ROTATIONS`] rotations appear.
fn close_group(generators: &[SymOp]) -> Option<Vec<SymOp>> {
    let mut group = vec![SymOp::IDENTITY];
    let mut next = 0;
    while next < group.len() {
        let current = group[next];
        next += 1;
        for g in generators {
            let product = compose(&current, g);
            if !group.iter().any(|op| op.rotation == product.rotation) {
                if group.len() >= MAX_ROTATIONS {
                    return None;
                }
                group.push(product);
            }
        }
    }
    Some(group)
}

/// Hall symbols as written in CIFs use `"` and `'` for the double and single prime; moyo writes
/// `=` and `^`. Whitespace is collapsed.
fn normalize_hall(symbol: &str) -> String {
    symbol
        .replace('"', "=")
        .replace('\'', "^")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The setting and operations named by a Hall symbol (`-P 2ac 2n`, `-R 3 2"`, `F 4d 2 3 -1d`),
/// optionally followed by an origin shift in twelfths, `-P 4 2 3 (1 0 0)`.
///
/// Only the 530 Hall symbols of the International Tables settings are accepted (spelled with
/// any spacing and `"`/`'` or `=`/`^` primes): moyo's Hall-symbol parser asserts on malformed
/// text, so arbitrary strings never reach it.
pub fn from_hall(symbol: &str) -> Result<(Option<SpaceGroupInfo>, Vec<SymOp>), SymmetryError> {
    let unknown = || SymmetryError::UnknownHall(symbol.to_string());
    let normalized = normalize_hall(symbol);
    let (base, shift) = match normalized.find('(') {
        Some(open) => {
            let inner = normalized[open + 1..]
                .strip_suffix(')')
                .ok_or_else(unknown)?;
            let v: Vec<i32> = inner
                .split_whitespace()
                .map(|t| t.parse::<i32>().ok().filter(|x| x.abs() < 12))
                .collect::<Option<_>>()
                .ok_or_else(unknown)?;
            if v.len() != 3 {
                return Err(unknown());
            }
            (
                normalized[..open].trim().to_string(),
                Some([v[0], v[1], v[2]].map(|x| f64::from(x) / 12.0)),
            )
        }
        None => (normalized.clone(), None),
    };
    let hall_number = HALL_NUMBERS
        .clone()
        .find(|&n| {
            hall_symbol_entry(n)
                .is_some_and(|e| normalize_hall(e.hall_symbol).eq_ignore_ascii_case(&base))
        })
        .ok_or_else(unknown)?;
    let mut ops = operations(hall_number).ok_or_else(unknown)?;
    if let Some(v) = shift {
        // Change of origin by v: (R, t) → (R, t + v − R v).
        for op in &mut ops {
            let rv = SymOp {
                rotation: op.rotation,
                translation: [0.0; 3],
            }
            .apply(v);
            for i in 0..3 {
                op.translation[i] = reduce_translation(op.translation[i] + v[i] - rv[i]);
            }
        }
    }
    Ok((info(hall_number), ops))
}

/// Letters, digits, `/` and `-` of a Hermann–Mauguin symbol, without spaces or underscores.
fn compact(symbol: &str) -> String {
    symbol
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect()
}

/// Ways a Hall-database entry may be written: full and short symbol, the short form of a
/// monoclinic full symbol ("P 1 21/n 1" → "P21/n"), and the pre-1983 cubic form without the
/// bar ("F d 3 m").
fn spellings(hm_short: &str, hm_full: &str, number: i32) -> Vec<String> {
    let mut out = vec![compact(hm_full), compact(hm_short)];
    if (3..=15).contains(&number) {
        let parts: Vec<&str> = hm_full.split_whitespace().collect();
        if parts.len() == 4 {
            let unique: Vec<&str> = parts[1..].iter().copied().filter(|p| *p != "1").collect();
            if unique.len() == 1 {
                out.push(compact(&format!("{}{}", parts[0], unique[0])));
            }
        }
    }
    if number >= 195 {
        out.push(compact(hm_short).replace('-', ""));
    }
    out
}

/// Hall numbers whose Hermann–Mauguin symbol matches (suffix such as ":2", ":H" or
/// origin-choice letters "S"/"Z" honoured), in database order.
pub fn hall_numbers_for_hm(symbol: &str) -> Result<Vec<i32>, SymmetryError> {
    let (body, suffix) = match symbol.rsplit_once(':') {
        Some((b, s)) => (b, Some(s.trim())),
        None => (symbol, None),
    };
    let wanted = compact(body);
    if wanted.is_empty() {
        return Err(SymmetryError::UnknownHermannMauguin(symbol.to_string()));
    }
    let suffix = suffix.map(|s| match s.to_ascii_uppercase().as_str() {
        "S" => "1".to_string(),
        "Z" => "2".to_string(),
        other => other.to_string(),
    });
    let mut matches = Vec::new();
    for n in HALL_NUMBERS {
        let Some(entry) = hall_symbol_entry(n) else {
            continue;
        };
        let names = spellings(entry.hm_short, entry.hm_full, entry.number);
        if !names.contains(&wanted) {
            continue;
        }
        if let Some(s) = &suffix {
            if !entry.setting.eq_ignore_ascii_case(s) {
                continue;
            }
        }
        matches.push(n);
    }
    // A symbol written without its setting letters may match several settings of one group
    // (e.g. "P 21/c" for every monoclinic cell choice); keep those of the first group only.
    if let Some(first) = matches.first().and_then(|&n| hall_symbol_entry(n)) {
        matches.retain(|&n| hall_symbol_entry(n).is_some_and(|e| e.number == first.number));
    }
    if matches.is_empty() {
        Err(SymmetryError::UnknownHermannMauguin(symbol.to_string()))
    } else {
        Ok(matches)
    }
}

/// Settings of a group given by number: the standard one first (origin choice 2, hexagonal axes),
/// then its alternative origin or axes, if any.
pub fn hall_numbers_for_number(number: i64) -> Result<Vec<i32>, SymmetryError> {
    let n = i32::try_from(number)
        .ok()
        .filter(|n| (1..=230).contains(n))
        .ok_or(SymmetryError::BadNumber(number))?;
    let standard = Setting::Standard
        .hall_number(n)
        .ok_or(SymmetryError::BadNumber(number))?;
    let mut out = vec![standard];
    if let Some(entry) = hall_symbol_entry(standard) {
        if matches!(entry.setting, "1" | "2" | "H" | "R") {
            for other in HALL_NUMBERS {
                if other != standard
                    && hall_symbol_entry(other).is_some_and(|e| {
                        e.number == n && matches!(e.setting, "1" | "2" | "H" | "R")
                    })
                {
                    out.push(other);
                }
            }
        }
    }
    Ok(out)
}

/// The setting letter (`"1"`, `"2"`, `"H"`, `"R"`, or a monoclinic/orthorhombic code).
pub fn setting_of(hall_number: i32) -> Option<&'static str> {
    hall_symbol_entry(hall_number).map(|e| e.setting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_inversion_at_origin(ops: &[SymOp]) -> bool {
        ops.iter().any(|op| {
            op.rotation == [[-1, 0, 0], [0, -1, 0], [0, 0, -1]]
                && op.translation.iter().all(|t| t.abs() < 1e-12)
        })
    }

    #[test]
    fn group_orders_match_international_tables() {
        // Order of the full group in the conventional cell: point-group order × centring.
        let cases = [
            ("P m -3 m", 48),
            ("F m -3 m", 192),
            ("F d -3 m:1", 192),
            ("R -3 m:H", 36),
            ("R -3 m:R", 12),
            ("P 63 m c", 12),
            ("P n m a", 8),
            ("C 1 2/c 1", 8),
            ("I 41/a m d:2", 32),
        ];
        for (symbol, order) in cases {
            let numbers = hall_numbers_for_hm(symbol).unwrap();
            let ops = operations(numbers[0]).unwrap();
            assert_eq!(ops.len(), order, "{symbol}");
        }
    }

    #[test]
    fn origin_choices_differ_by_the_inversion_centre() {
        let o1 = operations(hall_numbers_for_hm("F d -3 m:1").unwrap()[0]).unwrap();
        let o2 = operations(hall_numbers_for_hm("F d -3 m:2").unwrap()[0]).unwrap();
        assert!(!has_inversion_at_origin(&o1));
        assert!(has_inversion_at_origin(&o2));
        // Without a suffix both origin choices are candidates.
        assert_eq!(hall_numbers_for_hm("F d -3 m").unwrap().len(), 2);
        assert_eq!(hall_numbers_for_hm("Fd3m").unwrap().len(), 2);
    }

    #[test]
    fn symbols_are_matched_in_their_common_spellings() {
        let number = |s: &str| {
            hall_numbers_for_hm(s)
                .ok()
                .and_then(|n| info(n[0]))
                .map(|i| i.number)
        };
        assert_eq!(number("P 1 21/c 1"), Some(14));
        assert_eq!(number("P21/n"), Some(14));
        assert_eq!(number("P b n m"), Some(62));
        assert_eq!(number("P 42/m n m"), Some(136));
        assert_eq!(number("P4_2/mnm"), Some(136));
        assert_eq!(number("F m 3 m"), Some(225));
        assert_eq!(number("I 1 1 2/b"), Some(15));
        assert_eq!(number("Q 9"), None);
    }

    #[test]
    fn hall_symbols_from_cifs_are_understood() {
        let (info, ops) = from_hall("-R 3 2\"").unwrap();
        assert_eq!(info.map(|i| i.number), Some(166));
        assert_eq!(ops.len(), 36);
        let (info, ops) = from_hall("F 4d 2 3 -1d").unwrap();
        assert_eq!(info.map(|i| i.symbol), Some("F d -3 m:1".to_string()));
        assert_eq!(ops.len(), 192);
        assert!(from_hall("not a hall symbol").is_err());
        // Generators of no crystallographic group: refused, not traversed forever.
        assert!(from_hall("-P 3 2 3").is_err());
        // Malformed symbols that make moyo's parser assert are refused before reaching it.
        for bad in [
            "P 4 2 3 -",
            "-P 4 2 3 (1 2)",
            "-P 4 2 3 (1 2 3",
            "P 6c -2c (a b c)",
            "-P 999",
        ] {
            assert!(from_hall(bad).is_err(), "{bad}");
        }
        // An origin shift moves the inversion centre: -P 1 shifted by (3 0 0)/12 inverts
        // through (1/4, 0, 0), i.e. x → 1/2 − x.
        let (_, ops) = from_hall("-P 1 (3 0 0)").unwrap();
        let inversion = ops.iter().find(|o| o.rotation[0][0] == -1).unwrap();
        assert!((inversion.translation[0] - 0.5).abs() < 1e-12);
    }

    #[test]
    fn every_database_setting_closes_to_moyos_group() {
        for n in HALL_NUMBERS {
            let ours = operations(n).unwrap_or_else(|| panic!("Hall number {n}"));
            let hall = HallSymbol::from_hall_number(n).unwrap();
            let theirs = hall.traverse();
            assert_eq!(
                ours.len(),
                theirs.len() * (1 + hall.centering_translations.len()),
                "{n}"
            );
            for op in &theirs {
                let t = op.translation_as_array();
                assert!(
                    ours.iter().any(|o| o.rotation == op.rotation_as_array()
                        && (0..3).all(|i| {
                            let d = o.translation[i] - t[i];
                            (d - d.round()).abs() < 1e-9
                        })),
                    "Hall number {n}: {op:?} missing"
                );
            }
        }
    }

    #[test]
    fn numbers_list_the_standard_setting_first() {
        let n = hall_numbers_for_number(227).unwrap();
        assert_eq!(n.len(), 2);
        assert_eq!(setting_of(n[0]), Some("2"));
        assert_eq!(hall_numbers_for_number(62).unwrap().len(), 1);
        assert!(hall_numbers_for_number(231).is_err());
        assert!(hall_numbers_for_number(0).is_err());
    }
}
