//! Fuzz target `cif`: CIF parsing and structure building must never panic on any bytes; the
//! structures they accept are also simulated (small cells, narrow 2θ range, to stay fast).
#![no_main]

use athanor_xrd::cif::{parse, structure_from_block};
use athanor_xrd::{simulate, SimulationOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(file) = parse(&text) else {
        return;
    };
    for block in &file.blocks {
        let Ok(structure) = structure_from_block(block) else {
            continue;
        };
        let _ = structure.reduced_formula();
        let _ = structure.formula_units();
        let l = &structure.lattice;
        let small = [l.a, l.b, l.c].iter().all(|x| (0.5..=30.0).contains(x))
            && l.volume() > 1.0
            && structure.sites.len() <= 500;
        if small {
            let options = SimulationOptions::pymatgen(1.54184).with_range(10.0, 60.0);
            let _ = simulate(&structure, &options);
        }
    }
});
