//! CIF numbers: `5.6402(3)` is 5.6402 with a standard uncertainty of 0.0003; `1.2E-3`, `+0.5`,
//! `.25` and integers are numbers too; `?` and `.` are not given.

/// A number read from a CIF value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub value: f64,
    /// Standard uncertainty in the units of `value`, when written in parentheses.
    pub su: Option<f64>,
}

/// Reads a CIF numeric value. `None` when the text is not a number.
pub fn parse_number(text: &str) -> Option<Measured> {
    let text = text.trim();
    let (mantissa_part, su_digits) = match text.find('(') {
        Some(open) => {
            let inner = text[open + 1..].strip_suffix(')')?;
            if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            (&text[..open], Some(inner))
        }
        None => (text, None),
    };
    if mantissa_part.is_empty()
        || !mantissa_part
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        || !mantissa_part.bytes().any(|b| b.is_ascii_digit())
    {
        return None;
    }
    let value: f64 = mantissa_part.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    let su = match su_digits {
        None => None,
        Some(digits) => {
            let su_int: f64 = digits.parse().ok()?;
            Some(su_int * last_digit_unit(mantissa_part))
        }
    };
    Some(Measured { value, su })
}

/// The value of one unit in the last written digit of a mantissa: "5.6402" → 1e-4, "12" → 1,
/// "1.25e-3" → 1e-5.
fn last_digit_unit(mantissa: &str) -> f64 {
    let (digits, exponent) = match mantissa.find(['e', 'E']) {
        Some(i) => (
            &mantissa[..i],
            mantissa[i + 1..].parse::<i32>().unwrap_or(0),
        ),
        None => (mantissa, 0),
    };
    let decimals = digits.find('.').map_or(0, |dot| digits.len() - dot - 1);
    let decimals = i32::try_from(decimals).unwrap_or(i32::MAX);
    10f64.powi(exponent.saturating_sub(decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn uncertainties_scale_with_the_last_digit() {
        let m = parse_number("5.6402(3)").unwrap();
        assert!(close(m.value, 5.6402));
        assert!(close(m.su.unwrap(), 0.0003));
        let m = parse_number("120(4)").unwrap();
        assert!(close(m.su.unwrap(), 4.0));
        let m = parse_number("1.25e-3(2)").unwrap();
        assert!(close(m.value, 0.00125));
        assert!(close(m.su.unwrap(), 2e-5));
    }

    #[test]
    fn plain_numbers_parse_and_words_do_not() {
        assert_eq!(parse_number("+.5").map(|m| m.value), Some(0.5));
        assert_eq!(parse_number("-3").map(|m| m.value), Some(-3.0));
        assert_eq!(parse_number("0.25").and_then(|m| m.su), None);
        for bad in [
            "?", ".", "", "inf", "NaN", "1/2", "x", "1.0(", "1.0(a)", "(3)", "1e999",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
