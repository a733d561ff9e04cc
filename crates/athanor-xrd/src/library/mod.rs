//! The built-in reference library: open-licence crystal structures (COD, AMCSD) embedded in the
//! binary, each with its manifest row (name, formula, space group, source, licence, reference).

mod index;

use serde::Serialize;

/// The library manifest, as shipped.
const MANIFEST: &str = include_str!("../../library/MANIFEST.tsv");

/// One structure of the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibraryEntry {
    /// File name, e.g. "LiMn2O4_227.cif"; its stem is the entry's id.
    pub file: &'static str,
    /// Mineral or common name.
    pub name: &'static str,
    /// Nominal formula.
    pub formula: &'static str,
    pub space_group: &'static str,
    pub space_group_number: Option<u16>,
    /// Database (COD, AMCSD).
    pub source: &'static str,
    pub source_id: &'static str,
    pub licence: &'static str,
    /// The original article.
    pub reference: &'static str,
    /// Caveats: temperature, idealised models, partial occupancy, missing H, …
    pub notes: &'static str,
    /// The CIF text.
    #[serde(skip)]
    pub cif: &'static str,
}

impl LibraryEntry {
    /// The entry's id: its file name without ".cif".
    pub fn id(&self) -> &'static str {
        self.file.strip_suffix(".cif").unwrap_or(self.file)
    }
}

/// Every library entry, in manifest order. Rows whose file is not embedded are left out (a test
/// keeps the two in step).
pub fn entries() -> Vec<LibraryEntry> {
    MANIFEST
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|line| {
            let f: Vec<&'static str> = line.split('\t').collect();
            let field = |i: usize| f.get(i).copied().unwrap_or("");
            let cif = index::FILES
                .iter()
                .find(|(name, _)| *name == field(0))
                .map(|(_, text)| *text)?;
            Some(LibraryEntry {
                file: field(0),
                name: field(1),
                formula: field(2),
                space_group: field(3),
                space_group_number: field(4).parse().ok(),
                source: field(5),
                source_id: field(6),
                licence: field(7),
                reference: field(8),
                notes: field(9),
                cif,
            })
        })
        .collect()
}

/// The entry with this id ("LiMn2O4_227") or file name ("LiMn2O4_227.cif").
pub fn find(id: &str) -> Option<LibraryEntry> {
    entries().into_iter().find(|e| e.id() == id || e.file == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cif::read_structures;

    /// Columns of `MANIFEST.tsv`, in order.
    const COLUMNS: [&str; 10] = [
        "file",
        "name",
        "formula",
        "space_group",
        "space_group_number",
        "source",
        "source_id",
        "licence",
        "reference",
        "notes",
    ];

    #[test]
    fn manifest_and_embedded_files_match() {
        let header: Vec<&str> = MANIFEST.lines().next().unwrap().split('\t').collect();
        assert_eq!(header, COLUMNS);
        let listed: Vec<&str> = MANIFEST
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split('\t').next().unwrap())
            .collect();
        let embedded: Vec<&str> = index::FILES.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            listed, embedded,
            "library/MANIFEST.tsv and src/library/index.rs differ; regenerate the index"
        );
        assert_eq!(entries().len(), listed.len());
    }

    #[test]
    fn every_entry_reads_as_a_structure_of_its_space_group() {
        for e in entries() {
            let s = read_structures(e.cif).unwrap_or_else(|err| panic!("{}: {err}", e.file));
            assert!(!s[0].sites.is_empty(), "{}", e.file);
            assert!(e.space_group_number.is_some(), "{}", e.file);
        }
        let lmo = find("LiMn2O4_227").unwrap();
        assert_eq!(lmo.space_group_number, Some(227));
        assert!(find("LiMn2O4_227.cif").is_some());
        assert!(find("no such entry").is_none());
    }
}
