//! Agreement with pymatgen: for every fixture written by `scripts/pymatgen_reference.py`, read
//! the same CIF with our parser, simulate with pymatgen's scattering table and options, and
//! require the same peaks: same count, |Δ2θ| ≤ 0.001°, intensities (max = 100) within 0.1 for
//! every peak above 1, the same hkl families and multiplicities, the same number of atomic
//! positions and, where pymatgen's formula is integral, the same reduced formula.

#[path = "support/shared.rs"]
mod shared;

use std::fs;
use std::path::{Path, PathBuf};

use athanor_xrd::cif::read_structures;
use athanor_xrd::{simulate, SimulationOptions};
use serde::Deserialize;

/// Fixtures our reading deliberately differs on, with the reason. Empty: every fixture agrees.
const EXCLUDED: &[(&str, &str)] = &[];

const TWO_THETA_TOL: f64 = 0.001;
const INTENSITY_TOL: f64 = 0.1;
const INTENSITY_CHECKED_ABOVE: f64 = 1.0;

#[derive(Debug, Deserialize)]
struct Fixture {
    cif: String,
    wavelength: f64,
    two_theta_range: [f64; 2],
    formula: String,
    num_sites: usize,
    hkl_form: String,
    peaks: Vec<Peak>,
}

#[derive(Debug, Deserialize)]
struct Peak {
    two_theta: f64,
    intensity: f64,
    d: f64,
    hkls: Vec<Family>,
}

#[derive(Debug, Deserialize)]
struct Family {
    hkl: Vec<i32>,
    multiplicity: u32,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pymatgen");
    let mut out = Vec::new();
    for sub in [dir.clone(), dir.join("moka")] {
        let Ok(entries) = fs::read_dir(&sub) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Compares one fixture; returns the list of disagreements.
fn check(path: &Path) -> Result<Vec<String>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read fixture: {e}"))?;
    let fx: Fixture = serde_json::from_str(&text).map_err(|e| format!("bad fixture: {e}"))?;
    let cif_path = repo_root().join(&fx.cif);
    let cif = fs::read_to_string(&cif_path)
        .map_err(|e| format!("cannot read {}: {e}", cif_path.display()))?;
    let structures = read_structures(&cif).map_err(|e| format!("{}: {e}", fx.cif))?;
    let s = &structures[0];
    let options = SimulationOptions::pymatgen(fx.wavelength)
        .with_range(fx.two_theta_range[0], fx.two_theta_range[1]);
    let ours = simulate(s, &options).map_err(|e| format!("{}: {e}", fx.cif))?;

    let mut problems = Vec::new();
    if s.position_count() != fx.num_sites {
        problems.push(format!(
            "{} atomic positions, pymatgen has {}",
            s.position_count(),
            fx.num_sites
        ));
    }
    let integral = !fx.formula.contains('.');
    if integral && s.reduced_formula() != fx.formula {
        problems.push(format!(
            "formula {} , pymatgen {}",
            s.reduced_formula(),
            fx.formula
        ));
    }
    if ours.len() != fx.peaks.len() {
        problems.push(format!(
            "{} peaks, pymatgen has {}",
            ours.len(),
            fx.peaks.len()
        ));
    }
    for (i, (a, b)) in ours.iter().zip(&fx.peaks).enumerate() {
        if (a.two_theta - b.two_theta).abs() > TWO_THETA_TOL {
            problems.push(format!(
                "peak {i}: 2θ {:.5} vs pymatgen {:.5}",
                a.two_theta, b.two_theta
            ));
            break;
        }
        if (a.d - b.d).abs() > 1e-6 * b.d {
            problems.push(format!("peak {i}: d {:.6} vs pymatgen {:.6}", a.d, b.d));
        }
        if b.intensity > INTENSITY_CHECKED_ABOVE
            && (a.intensity - b.intensity).abs() > INTENSITY_TOL
        {
            problems.push(format!(
                "peak {i} at 2θ {:.3}: intensity {:.3} vs pymatgen {:.3}",
                b.two_theta, a.intensity, b.intensity
            ));
        }
        let mut theirs: Vec<([i32; 3], u32)> = b
            .hkls
            .iter()
            .map(|f| {
                let h = if fx.hkl_form == "hkil" && f.hkl.len() == 4 {
                    [f.hkl[0], f.hkl[1], f.hkl[3]]
                } else {
                    [f.hkl[0], f.hkl[1], f.hkl[2]]
                };
                (h, f.multiplicity)
            })
            .collect();
        let mut mine: Vec<([i32; 3], u32)> = a
            .hkls
            .iter()
            .copied()
            .zip(a.multiplicities.iter().copied())
            .collect();
        theirs.sort_unstable();
        mine.sort_unstable();
        if mine != theirs {
            problems.push(format!(
                "peak {i} at 2θ {:.3}: families {mine:?} vs pymatgen {theirs:?}",
                b.two_theta
            ));
        }
    }
    Ok(problems)
}

/// True for fixtures whose CIF lives in the shared data rather than in this repository.
fn fixture_needs_shared_data(path: &Path) -> bool {
    fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Fixture>(&t).ok())
        .is_some_and(|fx| fx.cif.starts_with("../shared/"))
}

#[test]
fn stick_patterns_agree_with_pymatgen() {
    let files = fixture_files();
    assert!(!files.is_empty(), "no pymatgen fixtures found");
    let shared_present =
        shared::shared_data("stick_patterns_agree_with_pymatgen (shared CIFs)").is_some();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut skipped = 0;
    for path in &files {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if EXCLUDED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        if !shared_present && fixture_needs_shared_data(path) {
            skipped += 1;
            continue;
        }
        checked += 1;
        match check(path) {
            Ok(problems) if problems.is_empty() => {}
            Ok(problems) => failures.push(format!("{name}: {}", problems.join("; "))),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    eprintln!(
        "pymatgen agreement: {} of {checked} fixtures agree ({} excluded, {skipped} skipped without ../shared/data)",
        checked - failures.len(),
        EXCLUDED.len()
    );
    assert!(checked > 0, "no fixture was checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} fixtures disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
