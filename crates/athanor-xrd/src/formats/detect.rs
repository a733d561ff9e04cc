//! Deciding a pattern file's format from its extension and its first bytes, and naming the
//! formats that are recognised but not read.

use super::error::FormatError;
use super::text;

/// A pattern file format this crate reads (and, for the text formats, writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Two columns (2θ, intensity); a third column is not an uncertainty here and is ignored.
    Xy,
    /// Three columns: 2θ, intensity, standard uncertainty of the intensity.
    Xye,
    /// Comma- or semicolon-separated columns with an optional header line of names.
    Csv,
    /// PANalytical XRDML (XML), read only.
    Xrdml,
}

impl Format {
    /// The format named by a file's extension (case-insensitive). Known formats that are not
    /// read, and unknown extensions, are an [`FormatError::UnsupportedFormat`] naming the type.
    pub fn from_path_name(file_name: &str) -> Result<Format, FormatError> {
        let ext = extension(file_name);
        match ext.as_deref() {
            Some(e) => match known_extension(e) {
                Some(format) => Ok(format),
                None => Err(unsupported(
                    file_name,
                    foreign_kind(e).unwrap_or_else(|| format!("unrecognised extension .{e}")),
                )),
            },
            None => Err(unsupported(file_name, "no file extension".to_string())),
        }
    }

    /// The usual extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Xy => "xy",
            Format::Xye => "xye",
            Format::Csv => "csv",
            Format::Xrdml => "xrdml",
        }
    }
}

/// Decides the format of `bytes` named `file_name`. Content overrides a misleading name: binary
/// or archive content is never parsed as text, XRDML content is read as XRDML whatever its
/// extension. `.dat`, `.txt`, `.asc`, unknown or missing extensions are accepted only when the
/// content is XRDML or plain numeric columns.
pub fn detect(bytes: &[u8], file_name: &str) -> Result<Format, FormatError> {
    if let Some(kind) = binary_kind(bytes) {
        return Err(unsupported(file_name, kind.to_string()));
    }
    let ext = extension(file_name);
    if let Some(root) = xml_root(bytes) {
        return if root == "xrdMeasurements" {
            Ok(Format::Xrdml)
        } else {
            Err(unsupported(
                file_name,
                format!("an XML document with root <{root}>, not PANalytical XRDML"),
            ))
        };
    }
    if let Some(kind) = foreign_text_kind(bytes) {
        return Err(unsupported(file_name, kind.to_string()));
    }
    match ext.as_deref() {
        Some("xrdml") | Some("xml") => Err(FormatError::NotXrdml {
            root: "(none: the content is not XML)".to_string(),
        }),
        Some(e) => match (known_extension(e), foreign_kind(e)) {
            (Some(format), _) => Ok(format),
            (None, Some(kind)) => Err(unsupported(file_name, kind)),
            (None, None) => sniff_columns(bytes, file_name, &format!("a .{e} file")),
        },
        None => sniff_columns(bytes, file_name, "a file without extension"),
    }
}

/// Accepts content of an unspecific name when it reads as plain numeric columns.
fn sniff_columns(bytes: &[u8], file_name: &str, label: &str) -> Result<Format, FormatError> {
    match text::read(bytes, text::Dialect::Xy) {
        Ok(_) => Ok(Format::Xy),
        Err(e) => Err(unsupported(
            file_name,
            format!("{label} whose layout is not two or three numeric columns ({e})"),
        )),
    }
}

fn unsupported(file_name: &str, kind: String) -> FormatError {
    FormatError::UnsupportedFormat {
        file: base_name(file_name).to_string(),
        kind,
    }
}

fn base_name(file_name: &str) -> &str {
    file_name.rsplit(['/', '\\']).next().unwrap_or(file_name)
}

/// The lower-cased extension of the last path component, if any.
fn extension(file_name: &str) -> Option<String> {
    let base = base_name(file_name);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() || ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

fn known_extension(ext: &str) -> Option<Format> {
    match ext {
        "xy" => Some(Format::Xy),
        "xye" => Some(Format::Xye),
        "csv" => Some(Format::Csv),
        "xrdml" => Some(Format::Xrdml),
        _ => None,
    }
}

/// Extensions of diffraction and other formats that are recognised but not read.
fn foreign_kind(ext: &str) -> Option<String> {
    let kind = match ext {
        "raw" => "a diffractometer RAW binary (Bruker/Siemens, Philips or Rigaku)",
        "rasx" => "a Rigaku SmartLab .rasx archive",
        "ras" => "a Rigaku .ras file",
        "brml" => "a Bruker .brml archive",
        "uxd" => "a Bruker/Siemens .uxd file",
        "gsa" | "gsas" | "gss" | "fxye" | "fxy" | "esd" => "a GSAS powder data file",
        "udf" => "a Philips .udf file",
        "rd" | "sd" => "a Philips .rd/.sd binary",
        "cpi" => "a Sietronics .cpi file",
        "mdi" => "an MDI/Jade .mdi file",
        "chi" => "a Fit2D .chi file",
        "cif" | "mcif" => {
            "a CIF file (crystal structures go to the CIF reader; powder CIF is not read here)"
        }
        "h5" | "hdf5" | "hdf" | "nxs" => "an HDF5/NeXus file",
        "tif" | "tiff" | "edf" | "cbf" | "img" | "mar3450" => "a 2D detector image",
        "xls" | "xlsx" | "ods" => "a spreadsheet",
        "zip" | "gz" | "bz2" | "xz" | "7z" | "tar" => "a compressed archive",
        "pdf" | "png" | "jpg" | "jpeg" | "svg" => "a document or picture, not data",
        _ => return None,
    };
    Some(kind.to_string())
}

/// Names binary content by its signature; `None` for content that may be text.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    let signatures: [(&[u8], &'static str); 8] = [
        (
            b"PK\x03\x04",
            "a ZIP archive (as Bruker .brml and Rigaku .rasx files are)",
        ),
        (b"\x89HDF", "an HDF5 file"),
        (b"\x1f\x8b", "a gzip-compressed file"),
        (b"RAW1.01", "a Bruker RAW (version 3) binary"),
        (b"RAW4.00", "a Bruker RAW (version 4) binary"),
        (b"RAW2", "a Bruker RAW (version 2) binary"),
        (b"RAW ", "a Bruker RAW (version 1) binary"),
        (b"%PDF", "a PDF document"),
    ];
    for (magic, kind) in signatures {
        if bytes.starts_with(magic) {
            return Some(kind);
        }
    }
    let head = &bytes[..bytes.len().min(4096)];
    if head.contains(&0) {
        return Some("binary content (NUL bytes)");
    }
    None
}

/// Text formats recognised by their first line.
fn foreign_text_kind(bytes: &[u8]) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(256)];
    let text = String::from_utf8_lossy(head);
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())?;
    if first.starts_with("*RAS_") {
        Some("a Rigaku .ras file")
    } else if first.starts_with("_FILEVERSION") || first.starts_with(";RAW") {
        Some("a Bruker/Siemens .uxd file")
    } else {
        None
    }
}

/// The local name of the root element when the content looks like XML.
fn xml_root(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(8192)];
    let text = String::from_utf8_lossy(head);
    let mut rest = text.trim_start_matches('\u{feff}').trim_start();
    if !rest.starts_with('<') {
        return None;
    }
    // Skip the XML declaration, processing instructions, comments and a DOCTYPE.
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>").map(|(_, r)| r)?;
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").map(|(_, r)| r)?;
        } else if let Some(after) = rest.strip_prefix("<!") {
            rest = after.split_once('>').map(|(_, r)| r)?;
        } else {
            break;
        }
    }
    let after = rest.strip_prefix('<')?;
    let name: String = after
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .collect();
    if name.is_empty() {
        return None;
    }
    let local = name.rsplit(':').next().unwrap_or(&name).to_string();
    Some(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_pick_formats_case_insensitively() {
        assert_eq!(Format::from_path_name("a/b/LiMnO2.xy"), Ok(Format::Xy));
        assert_eq!(Format::from_path_name("C:\\data\\s.XYE"), Ok(Format::Xye));
        assert_eq!(Format::from_path_name("s.Csv"), Ok(Format::Csv));
        assert_eq!(Format::from_path_name("scan.xrdml"), Ok(Format::Xrdml));
        for name in ["x.raw", "x.rasx", "x.brml", "x.gsa", "x.dat", "x", ".xy"] {
            assert!(
                matches!(
                    Format::from_path_name(name),
                    Err(FormatError::UnsupportedFormat { .. })
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn binary_content_is_refused_whatever_the_name() {
        let raw = b"RAW1.01\x00\x00\x00\x01rest";
        let err = detect(raw, "scan.xy").unwrap_err();
        match err {
            FormatError::UnsupportedFormat { file, kind } => {
                assert_eq!(file, "scan.xy");
                assert!(kind.contains("Bruker RAW"), "{kind}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let zip = b"PK\x03\x04\x14\x00";
        assert!(matches!(
            detect(zip, "m.brml"),
            Err(FormatError::UnsupportedFormat { .. })
        ));
        assert!(matches!(
            detect(b"10 20\n\x0011 21\n", "m.dat"),
            Err(FormatError::UnsupportedFormat { .. })
        ));
    }

    #[test]
    fn content_decides_for_dat_and_xml() {
        assert_eq!(detect(b"10 1\n11 2\n", "p.dat"), Ok(Format::Xy));
        assert_eq!(detect(b"10 1\n11 2\n", "noext"), Ok(Format::Xy));
        let weird = b"Title line\nBANK 1 100 10 CONST 1000 5 0 0 ESD\n 1 2 3 4\n";
        match detect(weird, "p.dat") {
            Err(FormatError::UnsupportedFormat { kind, .. }) => {
                assert!(kind.starts_with("a .dat file whose layout"), "{kind}")
            }
            other => panic!("unexpected {other:?}"),
        }
        let xrdml = b"<?xml version=\"1.0\"?>\n<!-- c -->\n<xrdMeasurements xmlns=\"http://www.xrdml.com/XRDMeasurement/1.5\"></xrdMeasurements>";
        assert_eq!(detect(xrdml, "renamed.txt"), Ok(Format::Xrdml));
        let other = b"<?xml version=\"1.0\"?><plot><x>1</x></plot>";
        assert!(matches!(
            detect(other, "a.xrdml"),
            Err(FormatError::UnsupportedFormat { .. })
        ));
        assert!(matches!(
            detect(b"10 1\n", "a.xrdml"),
            Err(FormatError::NotXrdml { .. })
        ));
        assert!(matches!(
            detect(b"*RAS_DATA_START\n", "a.txt"),
            Err(FormatError::UnsupportedFormat { .. })
        ));
        assert!(matches!(
            detect(b"10 1\n", "a.raw"),
            Err(FormatError::UnsupportedFormat { .. })
        ));
    }
}
