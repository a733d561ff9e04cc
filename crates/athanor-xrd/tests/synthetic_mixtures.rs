//! Phase identification on ten of the 240 synthetic mixtures of tests/fixtures/synthetic (pymatgen
//! stick patterns with the generator's own profile, Kα2, strain, background and noise; see
//! scripts/make_synthetic_mixtures.py): the phases found and their weight fractions are checked
//! against the generator's truth. The whole benchmark (240 mixtures, timings, reliability
//! table) is `athanor xrd bench-identify`; this is its regression guard.

use std::io::Read;
use std::path::{Path, PathBuf};

use athanor_xrd::identify::{
    identify, Candidate, CandidateLibrary, IdentifyOptions, LibrarySettings,
};
use athanor_xrd::{formats, Element, Radiation};
use flate2::read::GzDecoder;
use serde::Deserialize;

/// Ten mixtures: two of one phase, three of two, two of three, three of four, with six minor
/// phases of 3.4–4.9 wt% among them. Chosen among those the engine identifies in under a second in
/// a release build, so that the test stays short.
const MIXTURES: [u32; 10] = [1, 13, 6, 10, 22, 11, 27, 4, 36, 40];

#[derive(Debug, Deserialize)]
struct Truth {
    pattern: String,
    elements: Vec<String>,
    phases: Vec<TruthPhase>,
}

#[derive(Debug, Deserialize)]
struct TruthPhase {
    id: String,
    weight_fraction: f64,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/synthetic")
}

fn read_truth(name: &str) -> Truth {
    let path = fixtures().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn read_pattern(truth: &Truth) -> athanor_xrd::Pattern {
    let path = fixtures().join(&truth.pattern);
    let gz = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut bytes = Vec::new();
    GzDecoder::new(gz.as_slice())
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let name = truth.pattern.trim_end_matches(".gz");
    formats::read(&bytes, name).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

#[test]
fn ten_synthetic_mixtures_are_identified_and_quantified() {
    let settings = LibrarySettings::new(Radiation::parse("CuKa").unwrap());
    let all = Candidate::builtin_library().unwrap();

    let (mut true_phases, mut found, mut reported, mut right) = (0usize, 0usize, 0usize, 0usize);
    let mut errors = Vec::new();
    let mut log = String::new();
    for k in MIXTURES {
        let name = format!("mix_{k:04}");
        let truth = read_truth(&name);
        let pattern = read_pattern(&truth);
        let elements: Vec<Element> = truth
            .elements
            .iter()
            .map(|s| Element::from_symbol(s).unwrap_or_else(|| panic!("{name}: element {s}")))
            .collect();
        // Only the candidates the element constraint admits are simulated (the engine would
        // drop the others anyway); this keeps the test fast in debug builds.
        let candidates: Vec<Candidate> = all
            .iter()
            .filter(|c| {
                c.structure
                    .cell_composition()
                    .iter()
                    .all(|(e, _)| elements.contains(e))
            })
            .cloned()
            .collect();
        let library = CandidateLibrary::build(candidates, &settings).unwrap();
        let options = IdentifyOptions {
            elements: Some(elements),
            ..IdentifyOptions::default()
        };
        let analysis = identify(&pattern, &library, &options)
            .unwrap_or_else(|e| panic!("{name}: identification failed: {e}"));

        true_phases += truth.phases.len();
        reported += analysis.phases.len();
        for p in &analysis.phases {
            if truth.phases.iter().any(|t| t.id == p.id) {
                right += 1;
            }
        }
        for t in &truth.phases {
            if let Some(p) = analysis.phases.iter().find(|p| p.id == t.id) {
                found += 1;
                errors.push((p.weight_fraction - t.weight_fraction).abs());
            }
        }
        let got: Vec<String> = analysis
            .phases
            .iter()
            .map(|p| format!("{} {:.3} (c {:.2})", p.id, p.weight_fraction, p.confidence))
            .collect();
        let want: Vec<String> = truth
            .phases
            .iter()
            .map(|t| format!("{} {:.3}", t.id, t.weight_fraction))
            .collect();
        log.push_str(&format!(
            "{name}: true [{}] got [{}]\n",
            want.join(", "),
            got.join(", ")
        ));
    }

    let recall = found as f64 / true_phases as f64;
    let precision = right as f64 / reported.max(1) as f64;
    let mae = errors.iter().sum::<f64>() / errors.len().max(1) as f64;
    // Looser than the benchmark's targets (recall and precision 95 %, MAE 3 wt%): ten mixtures
    // are a small sample; these bounds catch a broken engine, not a 1 % regression.
    assert!(recall >= 0.85, "recall {recall:.3}\n{log}");
    assert!(precision >= 0.85, "precision {precision:.3}\n{log}");
    assert!(mae <= 0.03, "weight-fraction MAE {mae:.4}\n{log}");
}
