//! `athanor bench planners` end to end: the JSON has exactly the issue's shape, and a world
//! file is refused honestly (a notice, no figures). Skips without ../shared/data.

#[path = "../crates/athanor-xrd/tests/support/shared.rs"]
mod shared;

use std::process::Command;

fn bench(args: &[&str]) -> Option<std::process::Output> {
    let data = shared::shared_data("planner_bench_cli")?.join("planning");
    let data = data.to_str().expect("utf-8 path").to_owned();
    Some(
        Command::new(env!("CARGO_BIN_EXE_athanor"))
            .args(["bench", "planners", "--data", &data])
            .args(args)
            .output()
            .expect("the binary runs"),
    )
}

#[test]
fn json_has_the_issue_shape() {
    let Some(out) = bench(&[
        "--seeds",
        "2",
        "--json",
        "--planners",
        "random,rule-900c",
        "--world",
        "Cargo.toml",
    ]) else {
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["bo_benchmarks", "worlds", "ybco"]);
    let bo = v["bo_benchmarks"].as_object().unwrap();
    assert_eq!(bo.len(), 5);
    for (_, planners) in bo {
        let r = &planners["random"];
        assert!(r["af_80"].as_f64().unwrap() > 0.0 && r["ef_50"].as_f64().is_some());
        assert_eq!(r.as_object().unwrap().len(), 2);
    }
    let rule = &v["ybco"]["rule-900c"];
    assert!(rule["first_success_median"].as_f64().unwrap() >= 1.0);
    assert!(rule["all_success_median"].as_f64().unwrap() >= 7.0);
    // The world was not run, and nothing pretends it was.
    assert_eq!(v["worlds"], serde_json::json!({}));
    assert!(String::from_utf8_lossy(&out.stderr).contains("need the simulated lab"));
}

#[test]
fn an_unreadable_world_file_is_an_error() {
    let Some(out) = bench(&[
        "--seeds",
        "1",
        "--planners",
        "random",
        "--world",
        "/nonexistent/world.toml",
    ]) else {
        return;
    };
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/world.toml"));
}
