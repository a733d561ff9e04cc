//! `athanor bench planners` end to end: the JSON has exactly the issue's shape, with a figure
//! for every shipped world (powder and film); a file that is not a world is an error. Skips
//! without ../shared/data.

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
        "--world-budget",
        "40",
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
    // Every shipped world ran, for the world planner asked for only.
    let worlds = v["worlds"].as_object().unwrap();
    let names: Vec<&String> = worlds.keys().collect();
    assert_eq!(names, ["limnti", "ybco", "znti-film"]);
    for (name, planners) in worlds {
        let keys: Vec<&String> = planners.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["random"], "{name}: only the planners asked for");
        let r = &planners["random"];
        let median = r["experiments_to_goal_median"].as_f64().unwrap();
        let share = r["goal_reached_share"].as_f64().unwrap();
        assert!((1.0..=41.0).contains(&median), "{name}: {median}");
        assert!((0.0..=1.0).contains(&share), "{name}: {share}");
        assert_eq!(r.as_object().unwrap().len(), 2);
    }
}

#[test]
fn an_unreadable_world_file_and_a_file_that_is_not_a_world_are_errors() {
    for file in ["/nonexistent/world.toml", "Cargo.toml"] {
        let Some(out) = bench(&["--seeds", "1", "--planners", "random", "--world", file]) else {
            return;
        };
        assert!(!out.status.success(), "{file}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("world file {file}")), "{stderr}");
    }
}
