//! Chemical formulas as compositions, so that one phase written two ways (`Y2C3O9` and
//! `Y2(CO3)3`, `Ba2Cu3O6` and `Ba2(CuO2)3`) is one phase.

use std::collections::BTreeMap;

/// Element → amount.
pub type Composition = BTreeMap<String, f64>;

/// Parses a formula with parentheses and decimal amounts (`Y Ba2 Cu3 O6.5` is allowed).
/// `None` for anything that is not a formula.
pub fn parse_formula(formula: &str) -> Option<Composition> {
    let chars: Vec<char> = formula.chars().filter(|c| !c.is_whitespace()).collect();
    let (comp, end) = parse_group(&chars, 0)?;
    (end == chars.len() && !comp.is_empty()).then_some(comp)
}

fn parse_number(chars: &[char], mut i: usize) -> (f64, usize) {
    let start = i;
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
        i += 1;
    }
    let n = chars[start..i]
        .iter()
        .collect::<String>()
        .parse()
        .unwrap_or(1.0);
    (n, i)
}

fn parse_group(chars: &[char], mut i: usize) -> Option<(Composition, usize)> {
    let mut comp = Composition::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '(' {
            let (inner, j) = parse_group(chars, i + 1)?;
            if chars.get(j) != Some(&')') {
                return None;
            }
            let (n, k) = parse_number(chars, j + 1);
            for (e, a) in inner {
                *comp.entry(e).or_insert(0.0) += a * n;
            }
            i = k;
        } else if c == ')' {
            return Some((comp, i));
        } else if c.is_ascii_uppercase() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_lowercase() {
                j += 1;
            }
            let element: String = chars[i..j].iter().collect();
            let (n, k) = parse_number(chars, j);
            *comp.entry(element).or_insert(0.0) += n;
            i = k;
        } else {
            return None;
        }
    }
    Some((comp, i))
}

/// A canonical key for a phase: its composition written in element order (`C3O9Y2`), or the
/// name itself when it is not a formula.
pub fn phase_key(name: &str) -> String {
    match parse_formula(name) {
        Some(c) => c
            .iter()
            .map(|(e, a)| {
                if (a - a.round()).abs() < 1e-9 {
                    format!("{e}{}", a.round() as i64)
                } else {
                    format!("{e}{a}")
                }
            })
            .collect(),
        None => name.trim().to_owned(),
    }
}

/// The metal (cation) elements of a phase: everything but O, C and H.
pub fn cations(name: &str) -> Vec<String> {
    parse_formula(name)
        .map(|c| {
            c.into_keys()
                .filter(|e| !matches!(e.as_str(), "O" | "C" | "H"))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_spellings_of_one_phase_share_a_key() {
        assert_eq!(phase_key("Y2C3O9"), phase_key("Y2(CO3)3"));
        assert_eq!(phase_key("Ba2Cu3O6"), phase_key("Ba2(CuO2)3"));
        assert_ne!(phase_key("BaCuO2"), phase_key("Ba2(CuO2)3"));
    }

    #[test]
    fn parses_decimal_amounts_and_spaces() {
        let c = parse_formula("Y Ba2 Cu3 O6.5").unwrap();
        assert_eq!(c.get("O"), Some(&6.5));
        assert_eq!(cations("BaCO3"), ["Ba"]);
        assert!(parse_formula("not a formula").is_none());
    }
}
