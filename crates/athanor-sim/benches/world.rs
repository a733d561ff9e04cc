//! How long a world takes to run a sample's history (the target: a 12-hour program well under
//! 10 ms). Results are recorded in docs/benchmarks.md.

use athanor_sim::{PowderHistory, TemperatureProfile, World};
use criterion::{criterion_group, criterion_main, Criterion};

const YBCO: &str = include_str!("../../../config/worlds/ybco.toml");

fn twelve_hour_program(c: &mut Criterion) {
    let world = World::from_toml(YBCO).expect("the shipped world loads");
    let history = PowderHistory {
        precursors: vec![
            ("Y2O3".into(), 0.5),
            ("BaCO3".into(), 2.0),
            ("CuO".into(), 3.0),
        ],
        profile: TemperatureProfile::ramp_dwell_cool(25.0, 900.0, 5.0, 12.0 * 3600.0, 5.0)
            .expect("a valid program"),
        atmosphere: "air".into(),
    };
    c.bench_function("ybco: 12 h dwell at 900 °C", |b| {
        b.iter(|| world.run_powder(&history, 7).expect("runs"))
    });
}

criterion_group!(benches, twelve_hour_program);
criterion_main!(benches);
