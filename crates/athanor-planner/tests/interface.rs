//! The ask/tell interface over a typed search space: proposals stay inside the space and the
//! safety envelope, carry a rationale and a prediction, and are the same for the same seed.

use athanor_core::{Goal, Parameter, SafetyLimits, SearchSpace};
use athanor_planner::bench::scalar_planner;
use athanor_planner::observation::{Observation, PhaseAmount};
use athanor_planner::planner::Planner;
use athanor_planner::space::SpacePlanner;

fn space() -> SearchSpace {
    SearchSpace {
        parameters: vec![
            Parameter::Temperature {
                name: "temperature_c".into(),
                low: 500.0,
                high: 1200.0,
            },
            Parameter::Time {
                name: "dwell_min".into(),
                low: 10.0,
                high: 600.0,
            },
            Parameter::Integer {
                name: "regrinds".into(),
                low: 0,
                high: 3,
            },
            Parameter::Continuous {
                name: "ratio".into(),
                low: 0.1,
                high: 0.9,
                unit: None,
            },
            Parameter::Categorical {
                name: "atmosphere".into(),
                choices: vec!["air".into(), "O2".into()],
            },
            Parameter::PrecursorSet {
                name: "precursors".into(),
                precursors: vec!["BaCO3".into(), "BaO2".into(), "CuO".into(), "Y2O3".into()],
                size: 2,
            },
        ],
    }
}

fn limits() -> SafetyLimits {
    SafetyLimits {
        max_temperature_c: 950.0,
        max_ramp_c_per_min: 10.0,
        max_duration_min: Some(300.0),
        allowed_atmospheres: vec![],
    }
}

fn goal() -> Goal {
    Goal::PhasePure {
        target_phase: "Ba2YCu3O7".into(),
        min_weight_fraction: 0.95,
    }
}

/// A made-up outcome: more target at higher temperature and with BaO2.
fn outcome(p: &athanor_core::Parameters) -> Observation {
    let t = p["temperature_c"]
        .as_f64()
        .expect("helper input is well-formed");
    let has_peroxide = p["precursors"]
        .as_array()
        .expect("helper input is well-formed")
        .iter()
        .any(|v| v == "BaO2");
    let f = ((t - 500.0) / 450.0 * if has_peroxide { 1.0 } else { 0.6 }).clamp(0.0, 1.0);
    Observation {
        parameters: p.clone(),
        phases: vec![
            PhaseAmount {
                phase: "Ba2YCu3O7".into(),
                weight_fraction: f,
            },
            PhaseAmount {
                phase: "BaCO3".into(),
                weight_fraction: 1.0 - f,
            },
        ],
        ..Observation::default()
    }
}

fn run(name: &str, seed: u64) -> Vec<athanor_planner::planner::Proposal> {
    let mut planner = SpacePlanner::new(
        &space(),
        Some(&limits()),
        goal(),
        scalar_planner(name).expect("helper input is well-formed"),
        seed,
    )
    .expect("helper input is well-formed");
    let mut all = Vec::new();
    for _ in 0..6 {
        let batch = planner.ask(3).expect("helper input is well-formed");
        for p in &batch {
            planner
                .tell(outcome(&p.parameters))
                .expect("helper input is well-formed");
        }
        all.extend(batch);
    }
    all
}

#[test]
fn proposals_lie_inside_the_space_and_the_envelope() {
    for name in ["random", "space-filling", "gp-ard-ei", "athanor-gp"] {
        for p in run(name, 7) {
            p.to_new_experiment().validate(&space()).unwrap();
            let t = p.parameters["temperature_c"].as_f64().unwrap();
            let d = p.parameters["dwell_min"].as_f64().unwrap();
            assert!(t <= 950.0 && d <= 300.0, "{name}: {t} °C, {d} min");
            assert!(!p.rationale.is_empty());
        }
    }
}

#[test]
fn model_based_proposals_predict_with_uncertainty() {
    let proposals = run("gp-ard-ei", 3);
    let last = proposals.last().unwrap();
    let pred = last
        .predicted
        .as_ref()
        .expect("a GP proposal predicts its outcome");
    assert!(pred.sd > 0.0 && pred.mean.is_finite());
    assert!(last.to_new_experiment().predicted.is_some());
}

#[test]
fn the_same_seed_gives_the_same_proposals() {
    for name in ["random", "gp-iso-lcb"] {
        assert_eq!(run(name, 11), run(name, 11), "{name}");
        assert_ne!(run(name, 11), run(name, 12), "{name}");
    }
}

#[test]
fn a_space_entirely_above_the_limit_is_refused() {
    let space = SearchSpace {
        parameters: vec![Parameter::Temperature {
            name: "t".into(),
            low: 1000.0,
            high: 1200.0,
        }],
    };
    let err = SpacePlanner::new(
        &space,
        Some(&limits()),
        goal(),
        scalar_planner("random").unwrap(),
        1,
    )
    .unwrap_err();
    assert!(err.to_string().contains("above the limit"), "{err}");
}
