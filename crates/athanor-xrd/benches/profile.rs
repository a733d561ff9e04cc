//! Benchmark: rendering an 8,001-point Cu Kα1/Kα2 pattern from 200 reflections of one phase.

use std::hint::black_box;

use athanor_xrd::pattern::uniform_grid;
use athanor_xrd::profile::{
    render, render_phases, ChebyshevBackground, InstrumentProfile, MarchDollase, Measurement,
    Phase, SampleEffects,
};
use athanor_xrd::{Lattice, Reflection};
use criterion::{criterion_group, criterion_main, Criterion};

/// The 200 lowest-angle reflections (one per hkl with h ≥ 0) of an orthorhombic cell inside
/// 10–90° 2θ for Cu Kα1, with intensities falling off with angle.
fn reflections(lattice: &Lattice, wavelength: f64) -> Vec<Reflection> {
    let mut out = Vec::new();
    for h in 0..=8 {
        for k in -10..=10 {
            for l in -12..=12 {
                if (h, k, l) == (0, 0, 0) || (h == 0 && (k < 0 || (k == 0 && l < 0))) {
                    continue;
                }
                let d = lattice.d_spacing([h, k, l]);
                let s = wavelength / (2.0 * d);
                if s >= 1.0 {
                    continue;
                }
                let two_theta = 2.0 * s.asin().to_degrees();
                if !(10.0..=90.0).contains(&two_theta) {
                    continue;
                }
                out.push(Reflection {
                    two_theta,
                    d,
                    intensity: 1000.0 / (1.0 + 0.05 * two_theta),
                    hkls: vec![[h, k, l]],
                    multiplicity: 2,
                    multiplicities: vec![2],
                });
            }
        }
    }
    out.sort_by(|a, b| a.two_theta.total_cmp(&b.two_theta));
    out.truncate(200);
    out
}

fn bench(c: &mut Criterion) {
    let lattice = Lattice::new(5.1, 7.3, 9.7, 90.0, 90.0, 90.0).expect("cell");
    let instrument = InstrumentProfile::builtin("bragg-brentano-cu").expect("profile");
    let refl = reflections(&lattice, instrument.wavelength_angstrom);
    assert_eq!(refl.len(), 200, "cell gives 200 reflections in range");
    let grid = uniform_grid(10.0, 90.0, 0.01).expect("grid");
    assert_eq!(grid.len(), 8001);
    let plain = SampleEffects::default();

    c.bench_function("render 200 reflections, 8001 points, Cu Ka1+Ka2", |b| {
        b.iter(|| render(black_box(&refl), &lattice, &instrument, &plain, &grid))
    });

    let sample = SampleEffects {
        crystallite_size_nm: Some(40.0),
        microstrain: 1e-3,
        preferred_orientation: Some(MarchDollase {
            axis: [0.0, 0.0, 1.0],
            r: 0.8,
        }),
        displacement_mm: 0.05,
        ..SampleEffects::default()
    };
    let measurement = Measurement {
        background: Some(
            ChebyshevBackground::over_grid(&grid, vec![200.0, -50.0, 10.0]).expect("bg"),
        ),
        noise_seed: Some(1),
        ..Measurement::default()
    };
    c.bench_function(
        "render 200 reflections, 8001 points, size+strain+texture+background+noise",
        |b| {
            b.iter(|| {
                render_phases(
                    &[Phase::new(black_box(&refl), &lattice, &sample)],
                    &instrument,
                    &measurement,
                    &grid,
                )
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
