//! How long the simulated lab takes to run a sample's history (the target: a 12-hour program
//! well under 10 ms). Results are recorded in docs/benchmarks.md.

use athanor_sim::thermal::{Furnace, FurnaceSpec, Segment};
use athanor_sim::{Deposit, FilmHistory, PowderHistory, TemperatureProfile, World};
use criterion::{criterion_group, criterion_main, Criterion};

const YBCO: &str = include_str!("../../../config/worlds/ybco.toml");
const LIMNTI: &str = include_str!("../../../config/worlds/limnti.toml");
const ZNTI_FILM: &str = include_str!("../../../config/worlds/znti-film.toml");

/// Ramp 5 °C/min from 25 °C, hold 12 h, cool 5 °C/min.
fn twelve_hours_at(peak_c: f64) -> TemperatureProfile {
    TemperatureProfile::ramp_dwell_cool(25.0, peak_c, 5.0, 12.0 * 3600.0, 5.0)
        .expect("a valid program")
}

fn powder(c: &mut Criterion, name: &str, text: &str, set: &[(&str, f64)], peak: f64, gas: &str) {
    let world = World::from_toml(text).expect("the shipped world loads");
    let history = PowderHistory {
        precursors: set.iter().map(|(n, m)| ((*n).to_string(), *m)).collect(),
        profile: twelve_hours_at(peak),
        atmosphere: gas.into(),
    };
    c.bench_function(name, |b| {
        b.iter(|| world.run_powder(&history, 7).expect("runs"))
    });
}

fn worlds(c: &mut Criterion) {
    powder(
        c,
        "ybco: 12 h at 900 °C in air",
        YBCO,
        &[("Y2O3", 0.5), ("BaCO3", 2.0), ("CuO", 3.0)],
        900.0,
        "air",
    );
    powder(
        c,
        "limnti: 12 h at 800 °C under Ar",
        LIMNTI,
        &[("Li2CO3", 0.5), ("Mn2O3", 0.5), ("TiO2", 1.0)],
        800.0,
        "Ar",
    );
    let film = World::from_toml(ZNTI_FILM).expect("the shipped world loads");
    let history = FilmHistory {
        deposit: Deposit::SourcePowers(vec![("Zn".into(), 60.0), ("Ti".into(), 100.0)]),
        anneal: twelve_hours_at(700.0),
    };
    c.bench_function("znti-film: 12 h anneal at 700 °C", |b| {
        b.iter(|| film.run_film(&history, 7).expect("runs"))
    });
}

fn furnace(c: &mut Criterion) {
    let program = vec![
        Segment {
            target_c: 900.0,
            rate_c_per_min: 5.0,
            dwell_min: 720.0,
        },
        Segment {
            target_c: 25.0,
            rate_c_per_min: 5.0,
            dwell_min: 0.0,
        },
    ];
    c.bench_function("furnace: 12 h program delivered, 1 s control period", |b| {
        b.iter(|| {
            Furnace::new(FurnaceSpec::default())
                .deliver(program.clone(), 30.0, 50.0, 48.0 * 3600.0)
                .expect("delivers")
        })
    });
}

criterion_group!(benches, worlds, furnace);
criterion_main!(benches);
