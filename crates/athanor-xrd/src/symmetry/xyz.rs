//! Reads symmetry operations written as coordinate triplets: `x,y,z`, `-x+1/2,y,-z`,
//! `x-y,+x,z+1/2`, `1/2+x`, `x+0.5`, `2x`, upper or lower case, with or without spaces.

use super::{SymOp, SymmetryError};

/// Parses one operation such as `-y+1/2, x-y, z+1/4`.
pub fn parse_xyz(text: &str) -> Result<SymOp, SymmetryError> {
    let parts: Vec<&str> = text.split(',').collect();
    if parts.len() != 3 {
        return Err(SymmetryError::BadOperation {
            op: text.to_string(),
            reason: format!(
                "expected three comma-separated components, found {}",
                parts.len()
            ),
        });
    }
    let mut rotation = [[0i32; 3]; 3];
    let mut translation = [0.0f64; 3];
    for (row, part) in parts.iter().enumerate() {
        let (coefficients, shift) =
            parse_component(part).map_err(|reason| SymmetryError::BadOperation {
                op: text.to_string(),
                reason: format!("component {} ('{}'): {reason}", row + 1, part.trim()),
            })?;
        rotation[row] = coefficients;
        translation[row] = shift;
    }
    Ok(SymOp {
        rotation,
        translation,
    })
}

/// One component: integer coefficients of x, y, z and a constant shift.
fn parse_component(text: &str) -> Result<([i32; 3], f64), String> {
    let compact: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("empty".into());
    }
    let mut coefficients = [0i32; 3];
    let mut shift = 0.0;
    let mut i = 0;
    let mut terms = 0;
    while i < compact.len() {
        let mut sign = 1.0;
        if compact[i] == '+' || compact[i] == '-' {
            if compact[i] == '-' {
                sign = -1.0;
            }
            i += 1;
        } else if terms > 0 {
            return Err(format!("expected '+' or '-' before '{}'", compact[i]));
        }
        // Optional number, optionally a fraction, optionally followed by '*' and a variable.
        let number_start = i;
        while i < compact.len() && (compact[i].is_ascii_digit() || compact[i] == '.') {
            i += 1;
        }
        let mut value = if i > number_start {
            let s: String = compact[number_start..i].iter().collect();
            Some(
                s.parse::<f64>()
                    .map_err(|_| format!("'{s}' is not a number"))?,
            )
        } else {
            None
        };
        if i < compact.len() && compact[i] == '/' {
            let Some(numerator) = value else {
                return Err("'/' without a numerator".into());
            };
            i += 1;
            let den_start = i;
            while i < compact.len() && (compact[i].is_ascii_digit() || compact[i] == '.') {
                i += 1;
            }
            let s: String = compact[den_start..i].iter().collect();
            let denominator: f64 = s
                .parse()
                .map_err(|_| "expected a denominator after '/'".to_string())?;
            if denominator == 0.0 {
                return Err("division by zero".into());
            }
            value = Some(numerator / denominator);
        }
        if value.is_some() && i < compact.len() && compact[i] == '*' {
            i += 1;
        }
        let axis = match compact.get(i).map(|c| c.to_ascii_lowercase()) {
            Some('x') => Some(0),
            Some('y') => Some(1),
            Some('z') => Some(2),
            _ => None,
        };
        match (axis, value) {
            (Some(axis), coefficient) => {
                i += 1;
                let c = sign * coefficient.unwrap_or(1.0);
                if c.fract() != 0.0 || c.abs() > 12.0 {
                    return Err(format!(
                        "coefficient {c} of a coordinate is not a small integer"
                    ));
                }
                // Checked above: a small whole number.
                coefficients[axis] += c as i32;
            }
            (None, Some(v)) => shift += sign * v,
            (None, None) => {
                return Err(match compact.get(i) {
                    Some(c) => format!("unexpected character '{c}' (expected x, y, z or a number)"),
                    None => "ends after a sign (expected x, y, z or a number)".into(),
                })
            }
        }
        terms += 1;
    }
    if !shift.is_finite() {
        return Err("translation is not finite".into());
    }
    Ok((coefficients, shift))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_forms_parse() {
        let op = parse_xyz("x-y,+x,z+1/2").unwrap();
        assert_eq!(op.rotation, [[1, -1, 0], [1, 0, 0], [0, 0, 1]]);
        assert_eq!(op.translation, [0.0, 0.0, 0.5]);
        let op = parse_xyz("-x+1/2, 1/2+Y, z+0.25").unwrap();
        assert_eq!(op.rotation, [[-1, 0, 0], [0, 1, 0], [0, 0, 1]]);
        assert_eq!(op.translation, [0.5, 0.5, 0.25]);
        let op = parse_xyz("3/4-z,1/4+x,1/2-y").unwrap();
        assert_eq!(op.rotation, [[0, 0, -1], [1, 0, 0], [0, -1, 0]]);
        assert_eq!(op.translation, [0.75, 0.25, 0.5]);
        let op = parse_xyz("2x, -y, z").unwrap();
        assert_eq!(op.rotation[0], [2, 0, 0]);
    }

    #[test]
    fn malformed_operations_say_why() {
        for bad in [
            "x,y", "x,y,z,1", "x,,z", "x,y,w", "x y,y,z", "x,y,1/0", "0.5x,y,z", "x,y,+",
        ] {
            let err = parse_xyz(bad).unwrap_err();
            assert!(
                matches!(err, SymmetryError::BadOperation { .. }),
                "{bad}: {err}"
            );
        }
    }
}
