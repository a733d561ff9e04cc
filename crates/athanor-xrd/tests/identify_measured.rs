//! Phase identification of XRD-AutoAnalyzer's eight measured patterns (Szymanski et al., Chem.
//! Mater. 2021; data this project did not make): each must be explained by exactly the phases of
//! its file name (by formula; for TiO2 either polymorph), first with that folder's 56 reference
//! CIFs (P1 cells written by pymatgen) as candidates, then with the built-in library, the
//! elements of the label given as the constraint in both cases.

#![allow(clippy::unwrap_used)]

#[path = "support/shared.rs"]
mod shared;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use athanor_xrd::identify::{
    identify, Candidate, CandidateLibrary, IdentifyOptions, LibrarySettings,
};
use athanor_xrd::{cif, formats, Element, Pattern, Radiation};

const PATTERNS: [&str; 8] = [
    "Li2MnO3+MnO+TiO2",
    "LiMnO2",
    "Mn2O3+LiF",
    "Mn2O3",
    "MnO",
    "MnO2",
    "TiO2+MnO",
    "TiO2",
];

fn example_dir() -> Option<PathBuf> {
    shared::shared_data("identify_measured").map(|d| d.join("xrd/autoanalyzer-example"))
}

/// The pattern's 2θ and intensity columns (the third column, that tool's background, ignored).
fn read_pattern(dir: &Path, label: &str) -> Pattern {
    let path = dir.join("spectra").join(format!("{label}.xy"));
    let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let (x, y, _, meta) = formats::read(&bytes, &name)
        .unwrap_or_else(|e| panic!("{label}: {e}"))
        .into_parts();
    Pattern::new(x, y, None).unwrap().with_meta(meta)
}

/// The elements of a label such as "Li2MnO3+MnO+TiO2" → Li, Mn, O, Ti.
fn label_elements(label: &str) -> Vec<Element> {
    let mut out: Vec<Element> = Vec::new();
    let chars: Vec<char> = label.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_uppercase() {
            let mut sym = chars[i].to_string();
            if i + 1 < chars.len() && chars[i + 1].is_ascii_lowercase() {
                sym.push(chars[i + 1]);
                i += 1;
            }
            let e = Element::from_symbol(&sym).unwrap_or_else(|| panic!("element {sym}"));
            if !out.contains(&e) {
                out.push(e);
            }
        }
        i += 1;
    }
    out
}

fn label_formulas(label: &str) -> BTreeSet<String> {
    label.split('+').map(str::to_string).collect()
}

fn settings() -> LibrarySettings {
    LibrarySettings::new(Radiation::parse("CuKa").unwrap())
}

fn reference_library(dir: &Path) -> &'static CandidateLibrary {
    static LIB: OnceLock<CandidateLibrary> = OnceLock::new();
    LIB.get_or_init(|| {
        let mut files: Vec<PathBuf> = fs::read_dir(dir.join("references"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "cif"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 56);
        let candidates = files
            .iter()
            .map(|p| {
                let text = fs::read_to_string(p).unwrap();
                let s = cif::read_structures(&text).unwrap().remove(0);
                let id = p.file_stem().unwrap().to_string_lossy().into_owned();
                Candidate::from_structure(id, s)
            })
            .collect();
        CandidateLibrary::build(candidates, &settings()).unwrap()
    })
}

fn builtin_library() -> &'static CandidateLibrary {
    static LIB: OnceLock<CandidateLibrary> = OnceLock::new();
    LIB.get_or_init(|| CandidateLibrary::builtin(&settings()).unwrap())
}

/// Identifies one pattern and returns a description of any mismatch.
fn check(dir: &Path, label: &str, library: &CandidateLibrary) -> Option<String> {
    let pattern = read_pattern(dir, label);
    let options = IdentifyOptions {
        elements: Some(label_elements(label)),
        ..IdentifyOptions::default()
    };
    let analysis = identify(&pattern, library, &options).unwrap();
    let found: BTreeSet<String> = analysis.phases.iter().map(|p| p.formula.clone()).collect();
    let summary: Vec<String> = analysis
        .phases
        .iter()
        .map(|p| {
            format!(
                "{} {:.1}±{:.1}% conf {:.2} lat {:.3} {:.3} {:.3} {:.2} {:.2} {:.2}",
                p.id,
                100.0 * p.weight_fraction,
                100.0 * p.weight_fraction_sigma,
                p.confidence,
                p.lattice.a,
                p.lattice.b,
                p.lattice.c,
                p.lattice.alpha,
                p.lattice.beta,
                p.lattice.gamma
            )
        })
        .collect();
    eprintln!(
        "{label}: {} | Rwp {:.3} | unexplained {} | humps {}",
        summary.join(", "),
        analysis.rwp,
        analysis.unexplained_peaks.len(),
        analysis.amorphous.len()
    );
    // Weight fractions add up to one and confidences lie in [0, 1].
    let total: f64 = analysis.phases.iter().map(|p| p.weight_fraction).sum();
    assert!((total - 1.0).abs() < 1e-9 || analysis.phases.is_empty());
    assert!(analysis
        .phases
        .iter()
        .all(|p| (0.0..=1.0).contains(&p.confidence)));
    (found != label_formulas(label)).then(|| format!("{label}: found {found:?}"))
}

#[test]
fn eight_patterns_with_their_56_references() {
    let Some(dir) = example_dir() else { return };
    let library = reference_library(&dir);
    let failures: Vec<String> = PATTERNS
        .iter()
        .filter_map(|label| check(&dir, label, library))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The built-in library holds every phase of these labels (LiMnO2 is not in it, so the LiMnO2
/// pattern is left out).
#[test]
fn seven_patterns_with_the_builtin_library() {
    let Some(dir) = example_dir() else { return };
    let library = builtin_library();
    let have: BTreeSet<String> = library.candidates().map(|c| c.formula.clone()).collect();
    let covered: Vec<&str> = PATTERNS
        .iter()
        .copied()
        .filter(|l| label_formulas(l).iter().all(|f| have.contains(f)))
        .collect();
    assert_eq!(covered.len(), 7, "{covered:?}");
    assert!(!covered.contains(&"LiMnO2"));
    let failures: Vec<String> = covered
        .iter()
        .filter_map(|label| check(&dir, label, library))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}
