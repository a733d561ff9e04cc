//! Chemical elements: symbol ↔ atomic number, electronegativity, and reading an element out of a
//! CIF type symbol or site label.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::element_table::ELEMENTS;

/// A chemical element, identified by its atomic number (1 = H … 118 = Og).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Element(u8);

impl Element {
    /// The element of atomic number `z`, if 1 ≤ z ≤ 118.
    pub fn from_z(z: u8) -> Option<Self> {
        (1..=118).contains(&z).then_some(Self(z))
    }

    /// The element with exactly this symbol (case-sensitive: "Co" is cobalt, "CO" is nothing).
    /// Deuterium and tritium ("D", "T") are read as hydrogen.
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        if symbol == "D" || symbol == "T" {
            return Some(Self(1));
        }
        ELEMENTS
            .iter()
            .position(|(s, _)| *s == symbol)
            .and_then(|i| u8::try_from(i + 1).ok())
            .map(Self)
    }

    /// Atomic number Z.
    pub fn z(self) -> u8 {
        self.0
    }

    /// Chemical symbol, e.g. "Mn".
    pub fn symbol(self) -> &'static str {
        ELEMENTS[usize::from(self.0) - 1].0
    }

    /// Pauling electronegativity, where one is tabulated.
    pub fn electronegativity(self) -> Option<f64> {
        ELEMENTS[usize::from(self.0) - 1].1
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl From<Element> for String {
    fn from(e: Element) -> Self {
        e.symbol().to_string()
    }
}

impl TryFrom<String> for Element {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Element::from_symbol(&s).ok_or_else(|| format!("'{s}' is not a chemical element symbol"))
    }
}

/// What a CIF type symbol or label says about the atom: its element (if any) and, when the
/// symbol carries one, its oxidation state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SymbolReading {
    /// An atom of this element.
    Atom(Element),
    /// A placeholder that stands for no scatterer of its own (pymatgen drops "OH", "OH2").
    Nothing,
}

/// Reads the element out of a CIF `_atom_site_type_symbol` or `_atom_site_label` the way
/// pymatgen's `CifParser._parse_symbol` does, so that both read the same atoms:
/// water and hydroxyl markers first ("Hw"→H, "Ow"/"Wat"/"wat"→O, "OH"/"OH2"→nothing, "NO3"→N),
/// then the first two characters title-cased if they are an element ("Mn3+"→Mn, "SI1"→Si),
/// then the first character upper-cased ("O2-"→O, "C12"→C). `None` if nothing fits.
pub fn read_symbol(text: &str) -> Option<SymbolReading> {
    const SPECIAL: [(&str, Option<&str>); 7] = [
        ("Hw", Some("H")),
        ("Ow", Some("O")),
        ("Wat", Some("O")),
        ("wat", Some("O")),
        ("OH", None),
        ("OH2", None),
        ("NO3", Some("N")),
    ];
    for (prefix, meaning) in SPECIAL {
        if text.starts_with(prefix) {
            return Some(match meaning.and_then(Element::from_symbol) {
                Some(e) => SymbolReading::Atom(e),
                None => SymbolReading::Nothing,
            });
        }
    }
    let mut chars = text.chars();
    let first = chars.next()?;
    if let Some(second) = chars.next() {
        let two: String = first
            .to_uppercase()
            .chain(second.to_lowercase())
            .collect::<String>();
        if let Some(e) = Element::from_symbol(&two) {
            return Some(SymbolReading::Atom(e));
        }
    }
    let one: String = first.to_uppercase().collect();
    Element::from_symbol(&one).map(SymbolReading::Atom)
}

/// The oxidation state written into a type symbol: "Mn3+" → 3, "O2-" → −2, "Fe2.5+" → 2.5,
/// "Na+" → 1, "O-2" → −2. `None` when the symbol carries no charge ("Mn", "O1").
pub fn oxidation_state_in_symbol(text: &str) -> Option<f64> {
    let letters = text
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(text.len(), |(i, _)| i);
    if letters == 0 {
        return None;
    }
    let rest = &text[letters..];
    let (magnitude, sign) = if let Some(body) = rest.strip_suffix('+') {
        (body, 1.0)
    } else if let Some(body) = rest.strip_suffix('-') {
        (body, -1.0)
    } else if let Some(body) = rest.strip_prefix('+') {
        (body, 1.0)
    } else if let Some(body) = rest.strip_prefix('-') {
        (body, -1.0)
    } else {
        return None;
    };
    if magnitude.is_empty() {
        return Some(sign);
    }
    if !magnitude.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = magnitude.parse().ok()?;
    value.is_finite().then_some(sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_round_trip_through_atomic_numbers() {
        for z in 1..=118u8 {
            let e = Element::from_z(z).unwrap();
            assert_eq!(Element::from_symbol(e.symbol()), Some(e));
        }
        assert_eq!(Element::from_symbol("Mn").map(Element::z), Some(25));
        assert_eq!(Element::from_symbol("Og").map(Element::z), Some(118));
        assert_eq!(Element::from_symbol("CO"), None);
        assert_eq!(Element::from_z(0), None);
        assert_eq!(Element::from_z(119), None);
    }

    #[test]
    fn type_symbols_and_labels_name_their_element() {
        let atom = |s: &str| match read_symbol(s) {
            Some(SymbolReading::Atom(e)) => Some(e.symbol()),
            _ => None,
        };
        assert_eq!(atom("Mn3+"), Some("Mn"));
        assert_eq!(atom("O2-"), Some("O"));
        assert_eq!(atom("Fe2.5+"), Some("Fe"));
        assert_eq!(atom("O1"), Some("O"));
        assert_eq!(atom("SI1"), Some("Si"));
        assert_eq!(atom("Co"), Some("Co"));
        assert_eq!(atom("C12"), Some("C"));
        assert_eq!(atom("Ow3"), Some("O"));
        assert_eq!(read_symbol("OH2"), Some(SymbolReading::Nothing));
        assert_eq!(read_symbol("?"), None);
        assert_eq!(read_symbol(""), None);
    }

    #[test]
    fn oxidation_states_are_read_from_charged_symbols() {
        assert_eq!(oxidation_state_in_symbol("Mn3+"), Some(3.0));
        assert_eq!(oxidation_state_in_symbol("O2-"), Some(-2.0));
        assert_eq!(oxidation_state_in_symbol("Fe2.5+"), Some(2.5));
        assert_eq!(oxidation_state_in_symbol("Na+"), Some(1.0));
        assert_eq!(oxidation_state_in_symbol("O-2"), Some(-2.0));
        assert_eq!(oxidation_state_in_symbol("Mn"), None);
        assert_eq!(oxidation_state_in_symbol("O1"), None);
    }

    #[test]
    fn electronegativity_orders_formula_elements() {
        let x = |s: &str| Element::from_symbol(s).and_then(Element::electronegativity);
        assert_eq!(x("O"), Some(3.44));
        assert_eq!(x("Li"), Some(0.98));
        assert_eq!(x("He"), None);
    }
}
