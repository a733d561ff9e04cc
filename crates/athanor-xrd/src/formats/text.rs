//! Column text files (`.xy`, `.xye`, `.csv`): a tolerant reader that names the line of any
//! problem, and a writer whose output the reader turns back into the same pattern.
//!
//! Reading rules: blank lines and comment lines (first non-blank character `#`, `!` or `;`) are
//! skipped, comments becoming notes; one header line of column names may precede the data;
//! fields are separated by whitespace, by commas, or by semicolons (a line with a semicolon
//! may use decimal commas); `\n`, `\r\n` and lone `\r` line ends are accepted. Every data line
//! has the same two or three columns. A third column is the standard uncertainty in `.xye`, and
//! in `.csv` when its header names it so (`sigma`, `esd`, `error`, `uncertainty`, …); otherwise
//! it is ignored, and a note says so (an `.xy` third column is often a background estimate).

use super::error::FormatError;
use crate::pattern::{Pattern, PatternError, PatternMeta};

/// The text format being read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Xy,
    Xye,
    Csv,
}

/// The first comment line the writer emits; the reader skips lines that start with it.
const MARKER: &str = "athanor powder pattern";

/// Header names (lower-cased, letters and digits only) that mark a standard-uncertainty column.
const SIGMA_NAMES: [&str; 14] = [
    "sigma",
    "sigmai",
    "sigmaintensity",
    "esd",
    "error",
    "err",
    "uncertainty",
    "su",
    "stdev",
    "std",
    "stddev",
    "sd",
    "dy",
    "di",
];

pub(crate) fn read(bytes: &[u8], dialect: Dialect) -> Result<Pattern, FormatError> {
    let text = decode(bytes)?;
    let mut meta = PatternMeta::default();
    let mut header: Option<Vec<String>> = None;
    let mut columns: Option<usize> = None;
    let mut two_theta = Vec::new();
    let mut intensity = Vec::new();
    let mut third = Vec::new();
    let mut data_lines = Vec::new();

    for (index, raw) in split_lines(text).enumerate() {
        let line_no = index + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(body) = line
            .strip_prefix('#')
            .or_else(|| line.strip_prefix('!'))
            .or_else(|| line.strip_prefix(';'))
        {
            read_comment(body.trim(), &mut meta);
            continue;
        }
        let fields = split_fields(line);
        let numbers: Vec<Option<f64>> = fields
            .iter()
            .map(|f| parse_number(f.text, f.decimal_comma))
            .collect();
        if columns.is_none() && header.is_none() && numbers.iter().all(Option::is_none) {
            header = Some(fields.iter().map(|f| f.text.to_string()).collect());
            continue;
        }
        if let Some(col) = numbers.iter().position(Option::is_none) {
            if numbers.iter().all(Option::is_none) {
                return Err(FormatError::UnexpectedText {
                    line: line_no,
                    text: shorten(line),
                });
            }
            return Err(FormatError::BadNumber {
                line: line_no,
                column: col + 1,
                text: shorten(fields[col].text),
            });
        }
        let values: Vec<f64> = numbers.into_iter().flatten().collect();
        match columns {
            None => {
                if !(2..=3).contains(&values.len()) {
                    return Err(FormatError::ColumnCount {
                        line: line_no,
                        expected: "2 or 3",
                        found: values.len(),
                    });
                }
                columns = Some(values.len());
            }
            Some(n) if n != values.len() => {
                return Err(FormatError::InconsistentColumns {
                    line: line_no,
                    expected: n,
                    found: values.len(),
                });
            }
            Some(_) => {}
        }
        two_theta.push(values[0]);
        intensity.push(values[1]);
        if let Some(&v) = values.get(2) {
            third.push(v);
        }
        data_lines.push(line_no);
    }

    if two_theta.is_empty() {
        return Err(FormatError::NoData);
    }
    let sigma = if third.is_empty() {
        None
    } else if third_is_sigma(dialect, header.as_deref()) {
        Some(third)
    } else {
        meta.notes
            .push(ignored_third_column_note(dialect, header.as_deref()));
        None
    };
    let pattern = Pattern::new(two_theta, intensity, sigma).map_err(|e| {
        let line = pattern_error_index(&e)
            .and_then(|i| data_lines.get(i).copied())
            .unwrap_or(0);
        FormatError::InvalidPattern { line, source: e }
    })?;
    Ok(pattern.with_meta(meta))
}

pub(crate) fn write(pattern: &Pattern, dialect: Dialect) -> String {
    let with_sigma = match dialect {
        Dialect::Xy => None,
        Dialect::Xye | Dialect::Csv => pattern.sigma(),
    };
    let sep = if dialect == Dialect::Csv { "," } else { " " };
    let names = if with_sigma.is_some() {
        ["two_theta_deg", "intensity", "sigma"].join(sep)
    } else {
        ["two_theta_deg", "intensity"].join(sep)
    };
    let mut out = String::with_capacity(pattern.len() * 24 + 256);
    let meta = pattern.meta();
    if dialect == Dialect::Csv {
        out.push_str(&format!("# {MARKER}\n"));
    } else {
        out.push_str(&format!("# {MARKER}: {names}\n"));
    }
    if let Some(name) = &meta.sample_name {
        out.push_str(&format!("# sample: {}\n", one_line(name)));
    }
    if let Some(w) = meta.wavelength {
        out.push_str(&format!("# wavelength_angstrom: {w}\n"));
    }
    if let Some(w) = meta.wavelength_alpha2 {
        out.push_str(&format!("# wavelength_alpha2_angstrom: {w}\n"));
    }
    if let Some(r) = meta.alpha2_ratio {
        out.push_str(&format!("# alpha2_ratio: {r}\n"));
    }
    for note in &meta.notes {
        out.push_str(&format!("# note: {}\n", one_line(note)));
    }
    if dialect == Dialect::Csv {
        out.push_str(&names);
        out.push('\n');
    }
    for (i, (t, y)) in pattern
        .two_theta()
        .iter()
        .zip(pattern.intensity())
        .enumerate()
    {
        match with_sigma.and_then(|s| s.get(i)) {
            Some(s) => out.push_str(&format!("{t}{sep}{y}{sep}{s}\n")),
            None => out.push_str(&format!("{t}{sep}{y}\n")),
        }
    }
    out
}

/// UTF-8 text without a byte-order mark; invalid bytes are an error naming their line.
fn decode(bytes: &[u8]) -> Result<&str, FormatError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        FormatError::Encoding { line }
    })
}

/// Lines split on `\n` (dropping a trailing `\r`), or on lone `\r` when the text has no `\n`.
fn split_lines(text: &str) -> Box<dyn Iterator<Item = &str> + '_> {
    if text.contains('\n') {
        Box::new(text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)))
    } else {
        Box::new(text.split('\r'))
    }
}

struct Field<'a> {
    text: &'a str,
    decimal_comma: bool,
}

/// Splits on semicolons (then commas are decimal commas), else on commas, else on whitespace.
/// One trailing separator is tolerated; any other empty field stays empty and fails to parse.
fn split_fields(line: &str) -> Vec<Field<'_>> {
    let sep = if line.contains(';') {
        Some(';')
    } else if line.contains(',') {
        Some(',')
    } else {
        None
    };
    match sep {
        Some(sep) => {
            let body = line.strip_suffix(sep).unwrap_or(line);
            body.split(sep)
                .map(|t| Field {
                    text: t.trim(),
                    decimal_comma: sep == ';',
                })
                .collect()
        }
        None => line
            .split_whitespace()
            .map(|t| Field {
                text: t,
                decimal_comma: false,
            })
            .collect(),
    }
}

/// A finite number, or `None` (words, empty fields, `inf`, `NaN`).
fn parse_number(text: &str, decimal_comma: bool) -> Option<f64> {
    let value = if decimal_comma && text.contains(',') {
        text.replace(',', ".").parse::<f64>().ok()?
    } else {
        text.parse::<f64>().ok()?
    };
    value.is_finite().then_some(value)
}

fn read_comment(body: &str, meta: &mut PatternMeta) {
    if body.is_empty() || body.starts_with(MARKER) {
        return;
    }
    if let Some((key, value)) = body.split_once(':') {
        let value = value.trim();
        let number = value.parse::<f64>().ok().filter(|v| v.is_finite());
        match (key.trim().to_ascii_lowercase().as_str(), number) {
            ("sample", _) => {
                meta.sample_name = Some(value.to_string());
                return;
            }
            ("note", _) => {
                meta.notes.push(value.to_string());
                return;
            }
            ("wavelength_angstrom", Some(v)) => {
                meta.wavelength = Some(v);
                return;
            }
            ("wavelength_alpha2_angstrom", Some(v)) => {
                meta.wavelength_alpha2 = Some(v);
                return;
            }
            ("alpha2_ratio", Some(v)) => {
                meta.alpha2_ratio = Some(v);
                return;
            }
            _ => {}
        }
    }
    meta.notes.push(body.to_string());
}

fn third_is_sigma(dialect: Dialect, header: Option<&[String]>) -> bool {
    match dialect {
        Dialect::Xy => false,
        Dialect::Xye => true,
        Dialect::Csv => header
            .and_then(|h| h.get(2))
            .map(|name| {
                let key: String = name
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                SIGMA_NAMES.contains(&key.as_str())
            })
            .unwrap_or(false),
    }
}

fn ignored_third_column_note(dialect: Dialect, header: Option<&[String]>) -> String {
    let named = header
        .and_then(|h| h.get(2))
        .map(|n| format!(" ('{n}')"))
        .unwrap_or_default();
    match dialect {
        Dialect::Csv => {
            format!("column 3{named} ignored: its header does not name it a standard uncertainty")
        }
        _ => format!(
            "column 3{named} ignored: in .xy files a third column is not a standard uncertainty"
        ),
    }
}

fn pattern_error_index(e: &PatternError) -> Option<usize> {
    match e {
        PatternError::NotFinite { index, .. }
        | PatternError::NotIncreasing { index, .. }
        | PatternError::NegativeSigma { index, .. }
        | PatternError::AngleOutOfRange { index, .. } => Some(*index),
        _ => None,
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

fn shorten(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xy(text: &str) -> Result<Pattern, FormatError> {
        read(text.as_bytes(), Dialect::Xy)
    }

    #[test]
    fn comments_header_blank_lines_and_crlf_are_accepted() {
        let text = "# made by hand\r\n! another\r\n; third\r\n2theta  counts\r\n\r\n10.0\t5\r\n10.5  6\r\n  11.0 7  \r\n";
        let p = xy(text).unwrap();
        assert_eq!(p.two_theta(), &[10.0, 10.5, 11.0]);
        assert_eq!(p.intensity(), &[5.0, 6.0, 7.0]);
        assert_eq!(p.meta().notes, vec!["made by hand", "another", "third"]);
    }

    #[test]
    fn lone_carriage_returns_separate_lines() {
        let p = xy("10 1\r11 2\r12 3").unwrap();
        assert_eq!(p.len(), 3);
    }

    #[test]
    fn csv_separators_and_decimal_commas() {
        let p = read(b"two_theta,intensity\n10.0, 5\n10.5,6,\n", Dialect::Csv).unwrap();
        assert_eq!(p.intensity(), &[5.0, 6.0]);
        let p = read(b"2T;I\n10,25;5,5\n10,5;6\n", Dialect::Csv).unwrap();
        assert_eq!(p.two_theta(), &[10.25, 10.5]);
        assert_eq!(p.intensity(), &[5.5, 6.0]);
    }

    #[test]
    fn third_column_meaning_depends_on_the_format() {
        let body = "10 100 10\n11 400 20\n";
        let p = read(body.as_bytes(), Dialect::Xye).unwrap();
        assert_eq!(p.sigma(), Some(&[10.0, 20.0][..]));
        let p = read(body.as_bytes(), Dialect::Xy).unwrap();
        assert!(p.sigma().is_none());
        assert!(p.meta().notes[0].starts_with("column 3 ignored"));
        let p = read(b"2theta,I,esd\n10,100,10\n11,400,20\n", Dialect::Csv).unwrap();
        assert_eq!(p.sigma(), Some(&[10.0, 20.0][..]));
        let p = read(b"2theta,I,background\n10,100,10\n11,400,20\n", Dialect::Csv).unwrap();
        assert!(p.sigma().is_none());
        assert!(p.meta().notes[0].contains("'background'"));
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            xy("10 1\n11 x\n").unwrap_err(),
            FormatError::BadNumber {
                line: 2,
                column: 2,
                text: "x".into()
            }
        );
        assert_eq!(
            xy("10 1\nEND\n").unwrap_err(),
            FormatError::UnexpectedText {
                line: 2,
                text: "END".into()
            }
        );
        assert_eq!(
            xy("# c\n10 1 2 3\n").unwrap_err(),
            FormatError::ColumnCount {
                line: 2,
                expected: "2 or 3",
                found: 4
            }
        );
        assert_eq!(
            xy("10 1\n11 1 1\n").unwrap_err(),
            FormatError::InconsistentColumns {
                line: 2,
                expected: 2,
                found: 3
            }
        );
        assert!(matches!(
            xy("10 1\n\n12 1\n11 1\n").unwrap_err(),
            FormatError::InvalidPattern {
                line: 4,
                source: PatternError::NotIncreasing { .. }
            }
        ));
        assert!(matches!(
            xy("10 1\n11 inf\n").unwrap_err(),
            FormatError::BadNumber { line: 2, .. }
        ));
        assert_eq!(xy("# only\n\n").unwrap_err(), FormatError::NoData);
        assert_eq!(
            read(b"10 1\n11 \xff\n", Dialect::Xy).unwrap_err(),
            FormatError::Encoding { line: 2 }
        );
        assert!(matches!(
            read(b"10,,1\n", Dialect::Csv).unwrap_err(),
            FormatError::BadNumber {
                line: 1,
                column: 2,
                ..
            }
        ));
    }

    #[test]
    fn writing_then_reading_gives_the_same_pattern() {
        let meta = PatternMeta {
            wavelength: Some(1.5405929),
            wavelength_alpha2: Some(1.5444274),
            alpha2_ratio: Some(0.5),
            sample_name: Some("LaB6 SRM 660c".into()),
            notes: vec!["anode: Cu".into(), "ratio: kept as text".into()],
        };
        let p = Pattern::new(
            vec![10.0, 10.01, 10.02 + 1e-13],
            vec![1838.0, 0.1 + 0.2, -3.5e-7],
            Some(vec![42.87, 1.0, 0.0]),
        )
        .unwrap()
        .with_meta(meta);
        for dialect in [Dialect::Xye, Dialect::Csv] {
            let text = write(&p, dialect);
            assert_eq!(read(text.as_bytes(), dialect).unwrap(), p, "{dialect:?}");
        }
        let text = write(&p, Dialect::Xy);
        let back = read(text.as_bytes(), Dialect::Xy).unwrap();
        assert_eq!(back.two_theta(), p.two_theta());
        assert_eq!(back.intensity(), p.intensity());
        assert_eq!(back.meta(), p.meta());
        assert!(back.sigma().is_none());
    }
}
