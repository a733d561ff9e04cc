//! The furnace's thermal model: it holds a dwell, follows a ramp, overshoots a step under PID,
//! cannot reach a set point with a weak heater, trips its over-temperature alarm, and what it
//! delivers runs through a world like the program it was given.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

mod support;

use athanor_sim::thermal::{Furnace, FurnaceSpec, ProgramStatus, Reading, Segment};
use athanor_sim::World;
use support::{powder, program};

fn seg(target_c: f64, rate_c_per_min: f64, dwell_min: f64) -> Segment {
    Segment {
        target_c,
        rate_c_per_min,
        dwell_min,
    }
}

/// Steps `seconds` in one-second readings.
fn watch(f: &mut Furnace, seconds: u32) -> Vec<Reading> {
    (0..seconds).map(|_| f.step(1.0)).collect()
}

#[test]
fn holds_a_dwell_within_a_kelvin() {
    let mut f = Furnace::new(FurnaceSpec::default());
    f.load(vec![seg(700.0, 10.0, 600.0)]);
    f.run();
    watch(&mut f, 3 * 3600);
    let late = watch(&mut f, 3600);
    for r in &late {
        assert!((r.process_value_c - 700.0).abs() < 1.0, "{r:?}");
    }
}

#[test]
fn follows_a_ramp_and_finishes_on_time() {
    let mut f = Furnace::new(FurnaceSpec::default());
    let segments = vec![seg(525.0, 5.0, 10.0), seg(25.0, 50.0, 0.0)];
    f.load(segments);
    f.run();
    let ramp = watch(&mut f, 100 * 60);
    // Mid-ramp, the thermocouple trails the working set point by a few kelvin at most.
    let mid = ramp[50 * 60 - 1];
    assert!((mid.working_setpoint_c - 275.0).abs() < 1e-6);
    assert!(
        (mid.process_value_c - mid.working_setpoint_c).abs() < 5.0,
        "{mid:?}"
    );
    // 100 min of ramp, 10 of dwell, 10 of ramp down: complete after 120 min.
    watch(&mut f, 19 * 60);
    assert_eq!(f.reading().status, ProgramStatus::Run);
    watch(&mut f, 2 * 60);
    assert_eq!(f.reading().status, ProgramStatus::Complete);
    // The furnace itself cools far slower than 50 °C/min: it is still hot.
    assert!(f.reading().hot_zone_c > 200.0, "{:?}", f.reading());
}

#[test]
fn a_step_in_set_point_overshoots_under_pid() {
    let mut f = Furnace::new(FurnaceSpec::default());
    f.load(vec![seg(800.0, 0.0, 240.0)]);
    f.run();
    let trace = watch(&mut f, 4 * 3600);
    let peak = trace
        .iter()
        .map(|r| r.process_value_c)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(peak > 801.0 && peak < 850.0, "peak {peak}");
    assert!((trace.last().unwrap().process_value_c - 800.0).abs() < 1.0);
    // Flat out on the way up.
    assert_eq!(trace[60].output_pct, 100.0);
}

#[test]
fn a_weak_heater_cannot_reach_its_set_point() {
    let spec = FurnaceSpec::default();
    let mut f = Furnace::new(spec);
    f.set_heater_health(0.3);
    f.load(vec![seg(900.0, 10.0, 600.0)]);
    f.run();
    let trace = watch(&mut f, 6 * 3600);
    // It settles where 30 % of the heater balances the losses.
    let ceiling = spec.plant.room_c + 0.3 * spec.plant.heater_power_w / spec.plant.loss_w_per_k;
    let last = trace.last().unwrap();
    assert!(
        last.hot_zone_c <= ceiling + 1e-9 && last.hot_zone_c > ceiling - 5.0,
        "{last:?}"
    );
    assert!(last.working_setpoint_c - last.process_value_c > 400.0);
    assert_eq!(last.output_pct, 100.0);
}

#[test]
fn the_over_temperature_alarm_latches_and_cuts_the_heater() {
    let spec = FurnaceSpec {
        alarm_c: 500.0,
        ..FurnaceSpec::default()
    };
    let mut f = Furnace::new(spec);
    f.load(vec![seg(700.0, 20.0, 60.0)]);
    f.run();
    let trace = watch(&mut f, 3600);
    let first = trace.iter().position(|r| r.alarm).unwrap();
    assert!(trace[first].process_value_c > 500.0);
    // From the next control period on, the heater stays off.
    assert!(trace[first + 1..]
        .iter()
        .all(|r| r.alarm && r.output_pct == 0.0));
    let peak = trace
        .iter()
        .map(|r| r.hot_zone_c)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(peak < 520.0, "the heater was cut: peak {peak}");
    f.reset();
    assert!(!f.reading().alarm);
}

#[test]
fn what_the_furnace_delivers_runs_through_a_world_like_the_program() {
    let world = World::from_toml(support::YBCO).unwrap();
    let set = [("Y2O3", 0.5), ("BaO2", 2.0), ("CuO", 3.0)];
    let segments = vec![seg(900.0, 5.0, 240.0), seg(25.0, 2.0, 0.0)];
    let mut f = Furnace::new(FurnaceSpec::default());
    let delivered = f
        .deliver(segments.clone(), 30.0, 50.0, 48.0 * 3600.0)
        .unwrap();
    let again = Furnace::new(FurnaceSpec::default())
        .deliver(segments, 30.0, 50.0, 48.0 * 3600.0)
        .unwrap();
    assert_eq!(delivered, again, "the thermal model is deterministic");
    assert!((delivered.profile.peak_c() - 900.0).abs() < 10.0);
    let real = world
        .run_powder(&powder(&set, delivered.profile.clone(), "O2"), 1)
        .unwrap();
    let ideal = world
        .run_powder(&powder(&set, program(900.0, 4.0, 2.0), "O2"), 1)
        .unwrap();
    assert!(world.goal.is_met(&world, &real), "{:?}", real.phases);
    assert!((real.weight_fraction("YBa2Cu3O7") - ideal.weight_fraction("YBa2Cu3O7")).abs() < 0.05);
}
