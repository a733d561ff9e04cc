//! The one error type of the pattern-file readers and writers; parser errors name the line.

use crate::pattern::PatternError;

/// Why a file could not be read (or a pattern written) as a powder pattern.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FormatError {
    #[error("unsupported file type for '{file}': {kind}; Athanor reads .xy, .xye, .csv and PANalytical .xrdml")]
    UnsupportedFormat { file: String, kind: String },
    #[error("line {line}: the text is not valid UTF-8")]
    Encoding { line: usize },
    #[error("line {line}, column {column}: expected a number, found '{text}'")]
    BadNumber {
        line: usize,
        column: usize,
        text: String,
    },
    #[error("line {line}: expected {expected} columns, found {found}")]
    ColumnCount {
        line: usize,
        expected: &'static str,
        found: usize,
    },
    #[error("line {line}: {found} columns where the first data line had {expected}")]
    InconsistentColumns {
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("line {line}: expected numeric data, found text '{text}'")]
    UnexpectedText { line: usize, text: String },
    #[error("the file holds no data lines")]
    NoData,
    #[error("line {line}: {source}")]
    InvalidPattern {
        line: usize,
        #[source]
        source: PatternError,
    },
    #[error("XRDML: the points do not form a valid pattern: {0}")]
    InvalidXrdmlPattern(#[source] PatternError),
    #[error("line {line}, column {column}: malformed XML: {message}")]
    Xml {
        line: u32,
        column: u32,
        message: String,
    },
    #[error(
        "the XML root element is <{root}>, not <xrdMeasurements>: not a PANalytical XRDML file"
    )]
    NotXrdml { root: String },
    #[error("line {line}: XRDML element <{parent}> has no <{element}>")]
    MissingElement {
        line: u32,
        parent: &'static str,
        element: &'static str,
    },
    #[error("line {line}: XRDML <{element}> value {index} is '{text}', not a finite number")]
    XrdmlNumber {
        line: u32,
        element: String,
        index: usize,
        text: String,
    },
    #[error("line {line}: XRDML <{element}> has {found} values for {expected} data points")]
    XrdmlCount {
        line: u32,
        element: String,
        expected: usize,
        found: usize,
    },
    #[error("line {line}: XRDML scan holds 2θ fixed at {position}° (scan axis {axis}): not a powder pattern over 2θ")]
    NotTwoThetaScan {
        line: u32,
        axis: String,
        position: f64,
    },
    #[error("line {line}: XRDML scan status is '{status}' and its 2θ positions are given only as start and end, so the points measured cannot be placed")]
    IncompleteScan { line: u32, status: String },
    #[error("line {line}: XRDML counting time {value} s must be positive")]
    BadCountingTime { line: u32, value: f64 },
    #[error("the .xye format needs standard uncertainties and this pattern has none")]
    MissingSigma,
    #[error("writing {format} files is not supported")]
    WriteUnsupported { format: &'static str },
}
