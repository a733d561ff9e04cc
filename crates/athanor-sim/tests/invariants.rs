//! Invariants every world keeps: mass balance, nothing below an onset, kinetics monotone in time
//! and temperature, crystallites that only grow, the same outcome for the same seed, and world
//! files refused with the key at fault.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

mod support;

use athanor_sim::world::{kinetics::ZERO_CELSIUS, Outcome};
use athanor_sim::{TemperatureProfile, World};
use athanor_xrd::Element;
use support::{powder, program, shipped};

/// A one-reaction world: MgO + Al2O3 → MgAl2O4 from 1000 °C, plus MgCO3 losing CO2 from 400 °C.
const SPINEL: &str = r#"
name = "spinel"
precursors = ["MgO", "Al2O3", "MgCO3"]

[gases]
CO2 = "CO2"

[atmospheres]
air = { CO2 = 0.0004 }

[phases.MgO]
formula = "MgO"
library = "MgO_225"
size_nm = 40.0

[phases.Al2O3]
formula = "Al2O3"
library = "Al2O3_167"
size_nm = 60.0

[phases.MgCO3]
formula = "MgCO3"
library = "MgCO3_167"

[phases.MgAl2O4]
formula = "MgAl2O4"
library = "MgAl2O4_227"
size_nm = 20.0

[[reactions]]
reactants = { MgO = 1, Al2O3 = 1 }
products = { MgAl2O4 = 1 }
onset_c = 1000
prefactor_per_s = 1.0e8
activation_kj_mol = 300

[[reactions]]
reactants = { MgCO3 = 1 }
products = { MgO = 1, CO2 = 1 }
onset_c = 400
prefactor_per_s = 1.0e8
activation_kj_mol = 150

[goal]
phase = "MgAl2O4"
min_weight_fraction = 0.95

[search_space]
temperatures_c = [1100, 1200, 1300]
dwell_hours = [2, 8]
atmospheres = ["air"]

[[search_space.precursor_sets]]
amounts = { MgO = 1.0, Al2O3 = 1.0 }
"#;

fn spinel() -> World {
    World::from_toml(SPINEL).unwrap()
}

/// Holds `t_c` for `hours` (no ramp): isolates the temperature dependence.
fn isothermal(t_c: f64, hours: f64) -> TemperatureProfile {
    TemperatureProfile::new(vec![(0.0, t_c), (hours * 3600.0, t_c)]).unwrap()
}

fn spinel_fraction(world: &World, t_c: f64, hours: f64) -> f64 {
    let h = powder(
        &[("MgO", 1.0), ("Al2O3", 1.0)],
        isothermal(t_c, hours),
        "air",
    );
    world.run_powder(&h, 3).unwrap().weight_fraction("MgAl2O4")
}

/// The elements a world's formulas use.
fn elements(world: &World) -> Vec<Element> {
    let mut out: Vec<Element> = Vec::new();
    for f in world
        .phases
        .iter()
        .map(|p| &p.formula)
        .chain(world.gases.iter().map(|g| &g.formula))
    {
        for (e, _) in f.amounts() {
            if !out.contains(e) {
                out.push(*e);
            }
        }
    }
    out
}

/// Every element in = every element in the solids + net out as gas; mass in = mass out.
fn assert_balanced(world: &World, precursors: &[(String, f64)], o: &Outcome, label: &str) {
    let start_mass: f64 = precursors
        .iter()
        .map(|(n, m)| {
            m * world.phases[world.phase_id(n).unwrap()]
                .formula
                .molar_mass()
        })
        .sum();
    let end_mass = o.mass_g + o.gas_mass_out(world);
    assert!(
        (start_mass - end_mass).abs() <= 1e-9 * start_mass,
        "{label}: mass {start_mass} g in, {end_mass} g out"
    );
    for e in elements(world) {
        let start: f64 = precursors
            .iter()
            .map(|(n, m)| {
                m * world.phases[world.phase_id(n).unwrap()]
                    .formula
                    .amount_of(e)
            })
            .sum();
        let end = o.solid_moles_of(world, e) + o.gas_moles_of(world, e);
        assert!(
            (start - end).abs() <= 1e-9 * start.max(1.0),
            "{label}: {} {start} mol in, {end} mol out",
            e.symbol()
        );
    }
    let fractions: f64 = o.phases.iter().map(|p| p.weight_fraction).sum();
    assert!(
        (fractions - 1.0).abs() < 1e-9,
        "{label}: fractions sum to {fractions}"
    );
}

#[test]
fn mass_balance_holds_over_every_powder_search_space() {
    for (name, world) in shipped() {
        let space = &world.search_space;
        for set in 0..space.precursor_sets.len() {
            for atmosphere in &space.atmospheres {
                for peak in [700.0, 1000.0, 1100.0] {
                    let h = world.powder_history(set, peak, 6.0, atmosphere).unwrap();
                    let o = world.run_powder(&h, 11).unwrap();
                    let label = format!("{name} {:?} {atmosphere} {peak} °C", h.precursors);
                    assert_balanced(&world, &h.precursors, &o, &label);
                    assert!(o.phases.iter().all(|p| p.moles > 0.0), "{label}");
                }
            }
        }
    }
}

#[test]
fn mass_balance_holds_with_gas_taken_from_the_atmosphere() {
    let world = World::from_toml(support::YBCO).unwrap();
    // BaO takes CO2 from air; Cu2O takes O2.
    let h = powder(
        &[("BaO", 2.0), ("Cu2O", 1.0)],
        program(600.0, 4.0, 5.0),
        "air",
    );
    let o = world.run_powder(&h, 5).unwrap();
    let co2 = o.gases.iter().find(|g| g.name == "CO2").unwrap();
    assert!(co2.consumed_mol > 0.1, "{co2:?}");
    assert_balanced(&world, &h.precursors, &o, "BaO + Cu2O in air");
}

#[test]
fn nothing_reacts_below_the_onset() {
    let world = spinel();
    let just_below = isothermal(999.0, 100.0);
    let h = powder(&[("MgO", 1.0), ("Al2O3", 1.0)], just_below, "air");
    let o = world.run_powder(&h, 1).unwrap();
    assert_eq!(o.weight_fraction("MgAl2O4"), 0.0);
    assert_eq!(o.phase("MgO").unwrap().moles, 1.0);
    assert_eq!(o.phase("Al2O3").unwrap().moles, 1.0);
    // Just above, the same time does something.
    assert!(spinel_fraction(&world, 1001.0, 100.0) > 0.0);
    // And in the shipped worlds: below every onset, the precursors come out untouched.
    for (name, world) in shipped() {
        let lowest = world
            .processes
            .iter()
            .map(|p| p.onset_k - ZERO_CELSIUS)
            .fold(f64::INFINITY, f64::min);
        for set in &world.search_space.precursor_sets {
            let precursors: Vec<(String, f64)> = world.named(set);
            let h = athanor_sim::PowderHistory {
                precursors: precursors.clone(),
                profile: isothermal(lowest - 1.0, 24.0),
                atmosphere: world.search_space.atmospheres[0].clone(),
            };
            let o = world.run_powder(&h, 1).unwrap();
            for (n, m) in &precursors {
                assert_eq!(o.phase(n).map(|p| p.moles), Some(*m), "{name}: {n}");
            }
            assert!(o
                .gases
                .iter()
                .all(|g| g.released_mol == 0.0 && g.consumed_mol == 0.0));
        }
    }
}

#[test]
fn kinetics_are_monotone_in_time_and_temperature() {
    let world = spinel();
    let mut last = 0.0;
    for hours in [0.5, 1.0, 2.0, 4.0, 8.0, 16.0] {
        let f = spinel_fraction(&world, 1150.0, hours);
        assert!(f > last, "{hours} h: {f} after {last}");
        last = f;
    }
    let mut last = 0.0;
    for t in [1050.0, 1100.0, 1150.0, 1200.0, 1250.0] {
        let f = spinel_fraction(&world, t, 2.0);
        assert!(f > last, "{t} °C: {f} after {last}");
        last = f;
    }
    // First order in the limiting reactant: x = 1 − exp(−k t), checked against Arrhenius.
    let t_k = 1150.0 + ZERO_CELSIUS;
    let k = 1.0e8 * (-300e3 / (8.314_462_618 * t_k)).exp();
    let expected_moles = 1.0 - (-k * 4.0 * 3600.0).exp();
    let h = powder(
        &[("MgO", 1.0), ("Al2O3", 1.0)],
        isothermal(1150.0, 4.0),
        "air",
    );
    let got = world
        .run_powder(&h, 1)
        .unwrap()
        .phase("MgAl2O4")
        .unwrap()
        .moles;
    // The sample's own rate scatter is zero in this world.
    assert!(
        (got - expected_moles).abs() < 1e-9,
        "{got} vs {expected_moles}"
    );
}

#[test]
fn crystallites_grow_with_time_and_temperature() {
    let world = spinel();
    let size = |t_c: f64, hours: f64, phase: &str| {
        let h = powder(
            &[("MgO", 1.0), ("Al2O3", 1.0)],
            isothermal(t_c, hours),
            "air",
        );
        world
            .run_powder(&h, 1)
            .unwrap()
            .phase(phase)
            .unwrap()
            .crystallite_nm
    };
    let mut last = 0.0;
    for hours in [1.0, 2.0, 4.0, 8.0] {
        let d = size(1200.0, hours, "Al2O3");
        assert!(d > last && d > 60.0, "{hours} h: {d} nm");
        last = d;
    }
    let mut last = 0.0;
    for t in [1000.0, 1100.0, 1200.0, 1300.0] {
        let d = size(t, 4.0, "MgO");
        assert!(d > last, "{t} °C: {d} nm after {last}");
        last = d;
    }
}

#[test]
fn the_same_seed_gives_the_same_sample_and_another_seed_another() {
    let world = World::from_toml(support::YBCO).unwrap();
    let h = powder(
        &[("Y2O3", 0.5), ("BaCO3", 2.0), ("CuO", 3.0)],
        program(900.0, 4.0, 2.0),
        "air",
    );
    let a = world.run_powder(&h, 42).unwrap();
    let b = world.run_powder(&h, 42).unwrap();
    assert_eq!(a, b);
    let c = world.run_powder(&h, 43).unwrap();
    assert_ne!(a, c);
    // Scatter is small: the same phases come out.
    let names = |o: &Outcome| {
        let mut v: Vec<String> = o.detectable(0.05).map(|p| p.name.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(names(&a), names(&c));
}

#[test]
fn a_bad_world_is_refused_naming_the_key() {
    let cases = [
        // Unbalanced: MgO + Al2O3 → MgAl2O4 + MgO.
        (
            SPINEL.replace(
                "products = { MgAl2O4 = 1 }",
                "products = { MgAl2O4 = 1, MgO = 1 }",
            ),
            "reactions[0]",
        ),
        (
            SPINEL.replace("library = \"MgO_225\"", "library = \"MgO_999\""),
            "phases.MgO.library",
        ),
        (
            SPINEL.replace(
                "reactants = { MgO = 1, Al2O3 = 1 }",
                "reactants = { MgO = 1, Corundum = 1 }",
            ),
            "reactions[0].reactants.Corundum",
        ),
        (
            SPINEL.replace("onset_c = 1000", "onset_c = -400"),
            "reactions[0].onset_c",
        ),
        (
            SPINEL.replace("formula = \"MgO\"", "formula = \"MgQ\""),
            "phases.MgO.formula",
        ),
        (
            SPINEL.replace("phase = \"MgAl2O4\"", "phase = \"spinel\""),
            "goal.phase",
        ),
        (
            SPINEL.replace(
                "amounts = { MgO = 1.0, Al2O3 = 1.0 }",
                "amounts = { MgO = 2.0, Al2O3 = 1.0 }",
            ),
            "search_space.precursor_sets[0]",
        ),
        (
            SPINEL.replace(
                "library = \"MgAl2O4_227\"",
                "library = \"MgAl2O4_227\"\nvegard = { from = \"MgAl2O4_227\", to = \"MgGa2O4_227\" }",
            ),
            "phases.MgAl2O4.vegard",
        ),
        (
            SPINEL.replace("size_nm = 40.0", "size_nm = \"big\""),
            "phases.MgO.size_nm",
        ),
        (
            SPINEL.replace("size_nm = 40.0", "size_nm = 40.0\ncolour = \"white\""),
            "phases.MgO.colour",
        ),
    ];
    for (text, key) in cases {
        let err = World::from_toml(&text).unwrap_err();
        assert_eq!(err.key(), key, "{err}");
    }
}

#[test]
fn a_film_phase_diagram_with_a_gap_or_overlap_is_refused() {
    let film = support::ZNTI_FILM;
    let gap = film.replace(
        "x = [0.5, 1.0]\ntemperature_c = [800, 900]",
        "x = [0.6, 1.0]\ntemperature_c = [800, 900]",
    );
    assert_ne!(gap, film);
    let err = World::from_toml(&gap).unwrap_err();
    assert_eq!(err.key(), "film.regions", "{err}");
    let overlap = film.replace("temperature_c = [600, 800]", "temperature_c = [600, 850]");
    assert_ne!(overlap, film);
    let err = World::from_toml(&overlap).unwrap_err();
    assert_eq!(err.key(), "film.regions", "{err}");
}

#[test]
fn a_history_the_world_cannot_run_is_refused() {
    let world = spinel();
    let h = powder(&[("MgAl2O4", 1.0)], program(1100.0, 1.0, 5.0), "air");
    assert_eq!(world.run_powder(&h, 1).unwrap_err().key(), "precursors[0]");
    let h = powder(&[("MgO", -1.0)], program(1100.0, 1.0, 5.0), "air");
    assert_eq!(world.run_powder(&h, 1).unwrap_err().key(), "precursors[0]");
    let h = powder(&[("MgO", 1.0)], program(1100.0, 1.0, 5.0), "vacuum");
    assert_eq!(world.run_powder(&h, 1).unwrap_err().key(), "atmosphere");
}
