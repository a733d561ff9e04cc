//! `athanor xrd` end to end: runs the built binary on real CIFs and pattern files and checks what
//! it prints and how it exits.

#[path = "../crates/athanor-xrd/tests/support/shared.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn athanor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_athanor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the athanor binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// Byte-original COD/AMCSD files shipped in the reference library (also in ../shared/data/cif).
const SI: &str = "crates/athanor-xrd/library/cif/Si_227.cif";
const NACL: &str = "crates/athanor-xrd/library/cif/NaCl_225.cif";

/// A scratch directory unique to this test run.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("athanor-xrd-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn simulate_prints_one_json_line_per_file_with_braggs_law_peaks() {
    let o = athanor(&["xrd", "simulate", SI, NACL, "--wavelength", "CuKa1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    let si: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON");
    assert_eq!(si["file"], SI);
    assert_eq!(si["formula"], "Si");
    assert_eq!(si["space_group_number"], 227);
    assert_eq!(si["wavelength"], 1.54056);
    // Si (111): d = a/√3 with the file's a = 5.4307 Å; 2θ from Bragg's law.
    let first = &si["peaks"][0];
    assert_eq!(first["hkl"], serde_json::json!([[1, 1, 1]]));
    assert_eq!(first["multiplicity"], 8);
    let d = 5.4307 / 3f64.sqrt();
    let two_theta = 2.0 * (1.54056 / (2.0 * d)).asin().to_degrees();
    assert!((first["two_theta"].as_f64().unwrap() - two_theta).abs() < 1e-6);
    let max = si["peaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["intensity"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!((max - 100.0).abs() < 1e-9);
    let nacl: serde_json::Value = serde_json::from_str(lines[1]).expect("JSON");
    assert_eq!(nacl["formula"], "NaCl");
}

#[test]
fn pymatgen_mode_reproduces_the_pymatgen_fixture() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("crates/athanor-xrd/tests/fixtures/pymatgen/Si_227.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let o = athanor(&["xrd", "simulate", SI, "--pymatgen", "--two-theta", "10:90"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ours: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let (a, b) = (
        ours["peaks"].as_array().unwrap(),
        fixture["peaks"].as_array().unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (p, q) in a.iter().zip(b) {
        let diff = |k: &str| (p[k].as_f64().unwrap() - q[k].as_f64().unwrap()).abs();
        assert!(
            diff("two_theta") < 1e-3 && diff("intensity") < 0.1,
            "{p} vs {q}"
        );
    }
    // The default (Waasmaier–Kirfel, dispersion, the CIF's B) differs from pymatgen's table.
    let o = athanor(&["xrd", "simulate", SI]);
    let default: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(default["scattering"], "waasmaier-kirfel");
    assert_eq!(default["anomalous_dispersion"], true);
}

#[test]
fn one_bad_file_is_reported_and_the_rest_still_processed() {
    let dir = scratch("bad");
    let broken = dir.join("broken.cif");
    std::fs::write(
        &broken,
        "data_x\n_cell_length_a 4\nloop_\n_atom_site_label\n_atom_site_fract_x\nA 1 2\n",
    )
    .unwrap();
    let broken = broken.to_string_lossy().into_owned();
    let o = athanor(&["xrd", "simulate", &broken, SI, "missing.cif"]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains(&broken) && err.contains("line 6"), "{err}");
    assert!(err.contains("missing.cif"), "{err}");
    assert_eq!(stdout(&o).lines().count(), 1, "Si still printed");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn profile_renders_a_grid_and_formats_are_selectable() {
    let o = athanor(&[
        "xrd",
        "simulate",
        SI,
        "--profile",
        "bragg-brentano-cu",
        "--two-theta",
        "20:40",
        "--step",
        "0.05",
        "--format",
        "xy",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<(f64, f64)> = stdout(&o)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut it = l.split_whitespace().map(|x| x.parse::<f64>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 401);
    // The strongest point of 20–40° is at Si (111), 2θ ≈ 28.44° for Cu Kα1.
    let (at, _) = rows
        .iter()
        .copied()
        .fold((0.0, f64::MIN), |a, b| if b.1 > a.1 { b } else { a });
    assert!((at - 28.45).abs() < 0.06, "{at}");

    let o = athanor(&[
        "xrd",
        "simulate",
        SI,
        "--format",
        "csv",
        "--two-theta",
        "20:50",
    ]);
    assert!(o.status.success());
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("file,block,two_theta,d,intensity,hkl,multiplicity")
    );
    assert_eq!(lines.count(), 2, "(111) and (220) lie in 20–50°");
}

#[test]
fn bad_options_are_refused_before_any_work() {
    for args in [
        vec!["xrd", "simulate", SI, "--wavelength", "XyKa"],
        vec!["xrd", "simulate", SI, "--two-theta", "90:10"],
        vec!["xrd", "simulate", SI, "--scattering", "nonsense"],
        vec!["xrd", "simulate", SI, "--profile", "no-such-profile"],
    ] {
        let o = athanor(&args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}");
        assert!(!stderr(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn convert_round_trips_a_measured_pattern() {
    let dir = scratch("convert");
    let Some(shared) = shared::shared_data("convert_round_trips_a_measured_pattern") else {
        return;
    };
    let input = shared.join("xrd/autoanalyzer-example/spectra/Li2MnO3+MnO+TiO2.xy");
    let csv = dir.join("p.csv");
    let xy = dir.join("p.xy");
    let o = athanor(&[
        "xrd",
        "convert",
        &input.to_string_lossy(),
        &csv.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = athanor(&[
        "xrd",
        "convert",
        &csv.to_string_lossy(),
        &xy.to_string_lossy(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let points = |p: &Path| -> Vec<(f64, f64)> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let v: Vec<f64> = l
                    .split(|c: char| c.is_whitespace() || c == ',')
                    .filter(|x| !x.is_empty())
                    .map(|x| x.parse().unwrap())
                    .collect();
                (v[0], v[1])
            })
            .collect()
    };
    let (a, b) = (points(&input), points(&xy));
    assert_eq!(a.len(), 9001);
    assert_eq!(a.len(), b.len());
    for (p, q) in a.iter().zip(&b) {
        assert!((p.0 - q.0).abs() < 1e-9 && (p.1 - q.1).abs() < 1e-9 * p.1.abs().max(1.0));
    }
    let o = athanor(&["xrd", "convert", &input.to_string_lossy(), "out.docx"]);
    assert!(!o.status.success());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn library_lists_and_shows_entries() {
    let o = athanor(&["xrd", "library", "list"]);
    assert!(o.status.success());
    let text = stdout(&o);
    assert!(text.lines().count() >= 200);
    assert!(text.lines().any(|l| l.starts_with("LiMn2O4_227\t")));
    let o = athanor(&["xrd", "library", "show", "Si_227"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("_cell_length_a"));
    let o = athanor(&["xrd", "simulate", "library:Si_227", "--format", "xy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = athanor(&["xrd", "library", "show", "Unobtainium_1"]);
    assert!(!o.status.success());
}
