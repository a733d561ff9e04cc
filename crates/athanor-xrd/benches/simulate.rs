//! Benchmarks of CIF reading and stick-pattern simulation on real structures (pymatgen mode,
//! Cu Kα, 2θ 10–90°), for comparison with pymatgen's XRDCalculator.get_pattern.

use athanor_xrd::cif::read_structures;
use athanor_xrd::{simulate, SimulationOptions};
use criterion::{criterion_group, criterion_main, Criterion};

const CASES: [(&str, &str); 4] = [
    ("Si", include_str!("../library/cif/Si_227.cif")),
    ("LiFePO4", include_str!("../library/cif/LiFePO4_62.cif")),
    ("LiMn2O4", include_str!("../library/cif/LiMn2O4_227.cif")),
    ("Y2O3", include_str!("../library/cif/Y2O3_206.cif")),
];

fn bench(c: &mut Criterion) {
    let options = SimulationOptions::pymatgen(1.54184).with_range(10.0, 90.0);
    for (name, text) in CASES {
        let Ok(structures) = read_structures(text) else {
            continue;
        };
        let s = &structures[0];
        c.bench_function(&format!("read_cif/{name}"), |b| {
            b.iter(|| read_structures(std::hint::black_box(text)))
        });
        c.bench_function(&format!("simulate/{name}"), |b| {
            b.iter(|| simulate(std::hint::black_box(s), &options))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
