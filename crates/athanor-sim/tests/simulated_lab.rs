//! The simulated lab through the daemon's real drivers: a synthesis on each shipped world
//! (prepare or deposit → load the furnace → the Eurotherm driver runs a program over Modbus RTU
//! on a pty → unload → scan over MQTT), checked against the world's truth and analysed by the
//! identification engine; the same seed gives the same pattern.

mod support;

use athanor_sim::lab::Material;
use athanor_xrd::identify::{self, Candidate, CandidateLibrary, IdentifyOptions, LibrarySettings};
use athanor_xrd::library;
use athanor_xrd::profile::InstrumentProfile;
use athanor_xrd::{Pattern, Radiation};
use serde_json::{json, Value};
use support::rig::{fire, program, Rig};

const SPEED: f64 = 20_000.0;

fn scan_params() -> Value {
    json!({"two_theta_start": 10.0, "two_theta_end": 80.0, "step_deg": 0.02,
           "time_per_step_s": 0.5, "sample_position": "xrd-1"})
}

async fn transfer(rig: &Rig, sample: &str, from: &str, to: &str) {
    let r = rig
        .command(
            "handler-1",
            "transfer",
            json!({"sample": sample, "from": from, "to": to}),
        )
        .await;
    assert!(r.is_ok(), "transfer {from} → {to}: {r:?}");
}

/// Prepares a powder, fires it with `program`, scans it; the scan's data.
async fn powder_synthesis(
    rig: &Rig,
    sample: &str,
    precursors: Value,
    atmosphere: &str,
    firing: &athanor_drivers::instrument::FurnaceProgram,
) -> Value {
    let prepared = rig
        .command(
            "handler-1",
            "prepare",
            json!({"sample": sample, "precursors": precursors, "atmosphere": atmosphere}),
        )
        .await;
    assert!(prepared.is_ok(), "{prepared:?}");
    transfer(rig, sample, "bench", "furnace-1").await;
    let mut furnace = rig.furnace_driver("furnace-1");
    fire(&mut furnace, firing).await;
    transfer(rig, sample, "furnace-1", "xrd-1").await;
    rig.command("xrd-1", "scan", scan_params())
        .await
        .expect("the scan succeeded")
}

fn pattern_of(data: &Value) -> Pattern {
    let col = |k: &str| -> Vec<f64> {
        data[k]
            .as_array()
            .unwrap_or_else(|| panic!("no {k}"))
            .iter()
            .map(|v| v.as_f64().expect("a number"))
            .collect()
    };
    Pattern::new(col("two_theta"), col("intensity"), Some(col("sigma"))).expect("a pattern")
}

/// Identifies `pattern` among the structures of the world's phases.
fn identify_among_world_phases(rig: &Rig, pattern: &Pattern) -> identify::Analysis {
    let ids: Vec<String> = rig.lab.with_lab(|l| {
        l.world()
            .phases
            .iter()
            .map(|p| p.library_id.clone())
            .collect()
    });
    let candidates = ids
        .iter()
        .map(|id| {
            Candidate::from_library_entry(&library::find(id).expect("in the library"))
                .expect("a candidate")
        })
        .collect();
    let settings = LibrarySettings::new(Radiation::parse("CuKa").expect("Cu"));
    let lib = CandidateLibrary::build(candidates, &settings).expect("the library builds");
    let options = IdentifyOptions {
        instrument: Some(InstrumentProfile::builtin("bragg-brentano-cu").expect("profile")),
        ..IdentifyOptions::default()
    };
    identify::identify(pattern, &lib, &options).expect("identification runs")
}

/// The phases above 10 wt% in the truth are found, with weight fractions within 8 wt%.
fn assert_recovers_truth(rig: &Rig, sample: &str, analysis: &identify::Analysis) {
    let truth = rig.lab.with_lab(|l| l.truth(sample)).expect("the truth");
    let major: Vec<_> = truth
        .phases
        .iter()
        .filter(|p| p.weight_fraction > 0.1)
        .collect();
    assert!(!major.is_empty(), "{truth:?}");
    for p in major {
        let found = analysis
            .phases
            .iter()
            .find(|r| r.id == p.library_id)
            .unwrap_or_else(|| {
                panic!(
                    "{} ({}, {:.2}) not found: {:?}",
                    p.name,
                    p.library_id,
                    p.weight_fraction,
                    analysis
                        .phases
                        .iter()
                        .map(|r| (&r.id, r.weight_fraction))
                        .collect::<Vec<_>>()
                )
            });
        assert!(
            (found.weight_fraction - p.weight_fraction).abs() < 0.08,
            "{}: identified {:.3}, true {:.3}",
            p.name,
            found.weight_fraction,
            p.weight_fraction
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ybco_from_a_carbonate_free_set_in_oxygen_gives_the_target_through_the_real_drivers() {
    let rig = Rig::start("ybco", "", SPEED, 11).await;
    let data = powder_synthesis(
        &rig,
        "s1",
        json!({"Y2O3": 0.5, "BaO2": 2.0, "CuO": 3.0}),
        "O2",
        &program(900.0, 5.0, 12.0, 2.0),
    )
    .await;
    assert_eq!(data["sample"], "s1");
    let truth = rig.lab.with_lab(|l| l.truth("s1")).unwrap();
    let goal_met = rig
        .lab
        .with_lab(|l| l.world().goal.is_met(l.world(), &truth));
    assert!(goal_met, "{truth:?}");
    // The sample went through what the furnace delivered: up to about 900 °C and back.
    let heat = rig.lab.with_lab(|l| l.sample("s1").unwrap().profile());
    assert!(
        (heat.peak_c() - 900.0).abs() < 15.0,
        "peak {}",
        heat.peak_c()
    );
    assert!(heat.duration() > 12.0 * 3600.0, "{} s", heat.duration());
    let analysis = identify_among_world_phases(&rig, &pattern_of(&data));
    assert_recovers_truth(&rig, "s1", &analysis);
    // Every physical action ran once.
    let log = rig.lab.with_lab(|l| l.log().clone());
    assert!(log.repeated_commands().is_empty());
    let runs = log
        .entries()
        .iter()
        .filter(|a| a.action == "run_program")
        .count();
    assert_eq!(runs, 1);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ybco_from_carbonates_in_air_is_trapped_and_the_pattern_shows_the_intermediates() {
    let rig = Rig::start("ybco", "", SPEED, 12).await;
    let data = powder_synthesis(
        &rig,
        "s2",
        json!({"Y2O3": 0.5, "BaCO3": 2.0, "CuO": 3.0}),
        "air",
        &program(800.0, 5.0, 4.0, 2.0),
    )
    .await;
    let truth = rig.lab.with_lab(|l| l.truth("s2")).unwrap();
    assert!(truth.weight_fraction("YBa2Cu3O7") < 0.5, "{truth:?}");
    let analysis = identify_among_world_phases(&rig, &pattern_of(&data));
    assert_recovers_truth(&rig, "s2", &analysis);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limnti_from_mn2o3_under_argon_gives_the_spinel_through_the_real_drivers() {
    let rig = Rig::start("limnti", "", SPEED, 13).await;
    let data = powder_synthesis(
        &rig,
        "m1",
        json!({"Li2CO3": 0.5, "Mn2O3": 0.5, "TiO2": 1.0}),
        "Ar",
        &program(800.0, 5.0, 8.0, 5.0),
    )
    .await;
    let truth = rig.lab.with_lab(|l| l.truth("m1")).unwrap();
    assert!(truth.weight_fraction("LiMnTiO4") > 0.9, "{truth:?}");
    let analysis = identify_among_world_phases(&rig, &pattern_of(&data));
    assert_recovers_truth(&rig, "m1", &analysis);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_co_sputtered_film_annealed_in_the_furnace_crystallises_into_the_diagram_s_phase() {
    let rig = Rig::start("znti-film", "", SPEED, 14).await;
    // Zn 0.050 and Ti 0.030 per W: 60 W and 100 W deposit equal amounts, x = 0.5.
    let run = json!({"sample": "f1", "run": {
        "sources": [{"source": "Zn", "power_w": 60.0}, {"source": "Ti", "power_w": 100.0}],
        "chamber_pressure_pa": 0.5, "gas_flows": [{"gas": "Ar", "sccm": 20.0}],
        "substrate_temperature_c": 25.0, "duration_s": 1800.0, "shutter": {"mode": "open_for_run"}}});
    let deposited = rig.command("sputter-1", "deposit", run).await;
    assert!(deposited.is_ok(), "{deposited:?}");
    let material = rig
        .lab
        .with_lab(|l| l.sample("f1").unwrap().material.clone());
    assert!(matches!(material, Material::Film(_)));
    transfer(&rig, "f1", "sputter-1", "furnace-1").await;
    let mut furnace = rig.furnace_driver("furnace-1");
    fire(&mut furnace, &program(750.0, 10.0, 4.0, 10.0)).await;
    transfer(&rig, "f1", "furnace-1", "xrd-1").await;
    let data = rig.command("xrd-1", "scan", scan_params()).await.unwrap();
    let truth = rig.lab.with_lab(|l| l.truth("f1")).unwrap();
    assert!(truth.weight_fraction("ZnTiO3") > 0.9, "{truth:?}");
    let analysis = identify_among_world_phases(&rig, &pattern_of(&data));
    assert_recovers_truth(&rig, "f1", &analysis);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_sample_and_pattern() {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let rig = Rig::start("ybco", "", SPEED, 99).await;
        let data = powder_synthesis(
            &rig,
            "d1",
            json!({"Y2O3": 0.5, "BaO": 2.0, "CuO": 3.0}),
            "air",
            &program(850.0, 10.0, 2.0, 5.0),
        )
        .await;
        let truth = rig.lab.with_lab(|l| l.truth("d1")).unwrap();
        runs.push((data["intensity"].clone(), truth));
        rig.stop().await;
    }
    assert_eq!(runs[0].0, runs[1].0, "the patterns differ");
    assert_eq!(runs[0].1, runs[1].1, "the outcomes differ");
}
