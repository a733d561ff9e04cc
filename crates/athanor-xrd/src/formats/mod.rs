//! Powder-pattern files: reading `.xy`, `.xye`, `.csv` and PANalytical `.xrdml`, writing the
//! text formats, and telling a supported file from one that is not (which gets a named error,
//! never a guessed reading). Pure: bytes and a file name in, a [`Pattern`] out.

mod detect;
mod error;
mod text;
mod xrdml;

pub use detect::{detect, Format};
pub use error::FormatError;

use crate::pattern::Pattern;

/// Reads a pattern from a file's bytes; `file_name` (a path or bare name) supplies the extension
/// that, together with the content, decides the format.
pub fn read(bytes: &[u8], file_name: &str) -> Result<Pattern, FormatError> {
    let format = detect(bytes, file_name)?;
    read_as(bytes, format)
}

/// Reads a pattern whose format is already known.
pub fn read_as(bytes: &[u8], format: Format) -> Result<Pattern, FormatError> {
    match format {
        Format::Xy => text::read(bytes, text::Dialect::Xy),
        Format::Xye => text::read(bytes, text::Dialect::Xye),
        Format::Csv => text::read(bytes, text::Dialect::Csv),
        Format::Xrdml => xrdml::read(bytes),
    }
}

/// Writes a pattern as text in `format`. `.xy` drops the uncertainties; `.xye` needs them;
/// `.xrdml` is read-only here. Metadata travels in `#` comment lines that [`read`] understands.
pub fn write(pattern: &Pattern, format: Format) -> Result<String, FormatError> {
    match format {
        Format::Xy => Ok(text::write(pattern, text::Dialect::Xy)),
        Format::Xye => {
            if pattern.sigma().is_none() {
                return Err(FormatError::MissingSigma);
            }
            Ok(text::write(pattern, text::Dialect::Xye))
        }
        Format::Csv => Ok(text::write(pattern, text::Dialect::Csv)),
        Format::Xrdml => Err(FormatError::WriteUnsupported {
            format: "PANalytical XRDML",
        }),
    }
}
