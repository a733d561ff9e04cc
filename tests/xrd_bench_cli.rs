//! `athanor xrd bench-identify` end to end: the built binary scores the first synthetic mixtures
//! (pymatgen-made, see scripts/make_synthetic_mixtures.py) against their truth files, and says
//! what is wrong when the folder holds none.

use std::process::{Command, Output};

fn athanor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_athanor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the athanor binary runs")
}

#[test]
fn bench_identify_scores_the_first_mixtures_against_their_truth() {
    let o = athanor(&["xrd", "bench-identify", "--limit", "2", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON report");
    let overall = &report["overall"];
    // mix_0001 is one phase (K2CO3), mix_0002 two (Bi2O3 52 %, Bi2WO6 48 %).
    assert_eq!(overall["mixtures"], 2);
    assert_eq!(overall["true_phases"], 3);
    assert_eq!(overall["found"], 3, "{overall}");
    assert_eq!(overall["reported_phases"], 3, "{overall}");
    assert!(overall["weight_mae"].as_f64().expect("number") < 0.03);
    let mixtures = report["mixtures"].as_array().expect("mixtures");
    assert_eq!(mixtures[0]["id"], "mix_0001");
    assert_eq!(mixtures[1]["truth"][1]["id"], "Bi2WO6_29");
    let bins = report["reliability"].as_array().expect("bins");
    assert_eq!(bins.len(), 4);
    let counted: u64 = bins
        .iter()
        .map(|b| b["reported"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(counted, 3);
}

#[test]
fn bench_identify_names_a_folder_without_mixtures() {
    let dir = std::env::temp_dir().join(format!("athanor-bench-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let o = athanor(&[
        "xrd",
        "bench-identify",
        "--dir",
        dir.to_str().expect("utf-8"),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no mixtures"), "{err}");
    let _ = std::fs::remove_dir(&dir);
}
