//! Chemical formulas: "Y2(CO3)3", "YBa2Cu3O6.5", "Cu3(CO3)2(OH)2" read into element amounts,
//! with molar masses from athanor-xrd's table of standard atomic weights.

use athanor_xrd::identify::atomic_weight;
use athanor_xrd::Element;

/// Amount of each element per formula unit, in order of first appearance.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    text: String,
    amounts: Vec<(Element, f64)>,
}

/// Why a formula could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormulaError {
    #[error("empty formula")]
    Empty,
    #[error("unknown element '{0}'")]
    UnknownElement(String),
    #[error("unexpected character '{0}'")]
    Unexpected(char),
    #[error("unbalanced parentheses")]
    Parentheses,
    #[error("no atomic weight for {0}")]
    NoWeight(&'static str),
}

impl Formula {
    /// Reads a formula: element symbols with optional (decimal) counts, nested parentheses with
    /// counts.
    pub fn parse(text: &str) -> Result<Self, FormulaError> {
        let chars: Vec<char> = text.trim().chars().collect();
        if chars.is_empty() {
            return Err(FormulaError::Empty);
        }
        let mut stack: Vec<Vec<(Element, f64)>> = vec![Vec::new()];
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '(' {
                stack.push(Vec::new());
                i += 1;
            } else if c == ')' {
                let group = stack.pop().ok_or(FormulaError::Parentheses)?;
                let (count, next) = read_count(&chars, i + 1);
                let outer = stack.last_mut().ok_or(FormulaError::Parentheses)?;
                for (e, n) in group {
                    add(outer, e, n * count);
                }
                i = next;
            } else if c.is_ascii_uppercase() {
                let mut end = i + 1;
                while end < chars.len() && chars[end].is_ascii_lowercase() {
                    end += 1;
                }
                let symbol: String = chars[i..end].iter().collect();
                let element = Element::from_symbol(&symbol)
                    .ok_or_else(|| FormulaError::UnknownElement(symbol.clone()))?;
                let (count, next) = read_count(&chars, end);
                let top = stack.last_mut().ok_or(FormulaError::Parentheses)?;
                add(top, element, count);
                i = next;
            } else {
                return Err(FormulaError::Unexpected(c));
            }
        }
        if stack.len() != 1 {
            return Err(FormulaError::Parentheses);
        }
        let amounts = stack.pop().unwrap_or_default();
        for (e, _) in &amounts {
            atomic_weight(e.z()).ok_or(FormulaError::NoWeight(e.symbol()))?;
        }
        Ok(Self {
            text: text.trim().to_string(),
            amounts,
        })
    }

    /// The formula as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Amount of each element per formula unit.
    pub fn amounts(&self) -> &[(Element, f64)] {
        &self.amounts
    }

    /// Amount of one element per formula unit (0 when absent).
    pub fn amount_of(&self, element: Element) -> f64 {
        self.amounts
            .iter()
            .find(|(e, _)| *e == element)
            .map_or(0.0, |(_, n)| *n)
    }

    /// Atoms per formula unit.
    pub fn atoms(&self) -> f64 {
        self.amounts.iter().map(|(_, n)| n).sum()
    }

    /// Molar mass in g/mol.
    pub fn molar_mass(&self) -> f64 {
        self.amounts
            .iter()
            .map(|(e, n)| n * atomic_weight(e.z()).unwrap_or(0.0))
            .sum()
    }
}

fn add(list: &mut Vec<(Element, f64)>, element: Element, n: f64) {
    match list.iter_mut().find(|(e, _)| *e == element) {
        Some((_, m)) => *m += n,
        None => list.push((element, n)),
    }
}

/// The count starting at `start` (1 when none), and the index after it.
fn read_count(chars: &[char], start: usize) -> (f64, usize) {
    let mut end = start;
    while end < chars.len() && (chars[end].is_ascii_digit() || chars[end] == '.') {
        end += 1;
    }
    let text: String = chars[start..end].iter().collect();
    (text.parse().unwrap_or(1.0), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        Element::from_symbol(s).unwrap()
    }

    #[test]
    fn reads_groups_and_decimal_counts() {
        let f = Formula::parse("Cu3(CO3)2(OH)2").unwrap();
        assert_eq!(f.amount_of(el("Cu")), 3.0);
        assert_eq!(f.amount_of(el("C")), 2.0);
        assert_eq!(f.amount_of(el("O")), 8.0);
        assert_eq!(f.amount_of(el("H")), 2.0);
        let y = Formula::parse("YBa2Cu3O6.5").unwrap();
        assert_eq!(y.amount_of(el("O")), 6.5);
        assert_eq!(y.atoms(), 12.5);
    }

    #[test]
    fn molar_mass_is_the_sum_of_atomic_weights() {
        let f = Formula::parse("BaCO3").unwrap();
        let expected = 137.327 + 12.0107 + 3.0 * 15.9994;
        assert!((f.molar_mass() - expected).abs() < 1e-9);
    }

    #[test]
    fn refuses_nonsense() {
        assert_eq!(Formula::parse(""), Err(FormulaError::Empty));
        assert!(matches!(
            Formula::parse("Xx2O"),
            Err(FormulaError::UnknownElement(_))
        ));
        assert_eq!(Formula::parse("Y2(CO3"), Err(FormulaError::Parentheses));
        assert_eq!(Formula::parse("CuO)"), Err(FormulaError::Parentheses));
        assert_eq!(Formula::parse("Cu-O"), Err(FormulaError::Unexpected('-')));
    }
}
