//! The shipped worlds: each loads, shows the mechanism its header describes, has a goal that
//! some point of its search space meets and others miss, and names structures the
//! diffractometer can simulate.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

mod support;

#[path = "../../athanor-xrd/tests/support/shared.rs"]
mod shared;

use athanor_sim::world::vegard;
use athanor_sim::{Deposit, FilmHistory, TemperatureProfile, World};
use athanor_xrd::{library, simulate, SimulationOptions};
use support::{powder, program, shipped};

const CU_KA1: f64 = 1.540_56;

fn ybco() -> World {
    World::from_toml(support::YBCO).unwrap()
}

fn limnti() -> World {
    World::from_toml(support::LIMNTI).unwrap()
}

fn film() -> World {
    World::from_toml(support::ZNTI_FILM).unwrap()
}

#[test]
fn every_shipped_world_loads_with_distinct_structures() {
    let worlds = shipped();
    assert_eq!(worlds.len(), 3);
    for (name, world) in &worlds {
        let mut ids: Vec<&str> = world.phases.iter().map(|p| p.library_id.as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "{name}: two phases share a library structure");
        assert!(!world.description.is_empty(), "{name}");
    }
}

#[test]
fn ybco_carbonate_and_copper_oxide_make_bacuo2_at_700() {
    let w = ybco();
    let h = powder(
        &[("BaCO3", 1.0), ("CuO", 1.0)],
        program(700.0, 4.0, 5.0),
        "air",
    );
    let o = w.run_powder(&h, 1).unwrap();
    assert!(o.weight_fraction("BaCuO2") > 0.5, "{:?}", o.phases);
    assert!(o.weight_fraction("BaCuO2") > o.weight_fraction("BaCO3"));
    // Not at 600 °C: below the onset.
    let h = powder(
        &[("BaCO3", 1.0), ("CuO", 1.0)],
        program(600.0, 4.0, 5.0),
        "air",
    );
    assert_eq!(w.run_powder(&h, 1).unwrap().weight_fraction("BaCuO2"), 0.0);
}

#[test]
fn ybco_carbonate_sets_are_trapped_in_intermediates_below_800() {
    let w = ybco();
    let set = [("Y2O3", 0.5), ("BaCO3", 2.0), ("CuO", 3.0)];
    for t in [700.0, 800.0] {
        let o = w
            .run_powder(&powder(&set, program(t, 4.0, 2.0), "O2"), 1)
            .unwrap();
        let target = o.weight_fraction("YBa2Cu3O7") + o.weight_fraction("YBa2Cu3O6");
        let trapped = o.weight_fraction("BaCuO2") + o.weight_fraction("Y2Cu2O5");
        assert!(target < 0.1, "{t} °C: {:?}", o.phases);
        assert!(trapped > 0.6, "{t} °C: {:?}", o.phases);
    }
    let o = w
        .run_powder(&powder(&set, program(900.0, 4.0, 2.0), "O2"), 1)
        .unwrap();
    assert!(!w.goal.is_met(&w, &o), "{:?}", o.phases);
}

#[test]
fn ybco_target_forms_at_900_from_a_carbonate_free_set() {
    let w = ybco();
    let set = [("Y2O3", 0.5), ("BaO2", 2.0), ("CuO", 3.0)];
    let o = w
        .run_powder(&powder(&set, program(900.0, 4.0, 2.0), "O2"), 1)
        .unwrap();
    assert!(w.goal.is_met(&w, &o), "{:?}", o.phases);
    // In air the peroxide picks up CO2 first and the set falls into the carbonate trap.
    let o = w
        .run_powder(&powder(&set, program(900.0, 4.0, 2.0), "air"), 1)
        .unwrap();
    assert!(!w.goal.is_met(&w, &o), "{:?}", o.phases);
    assert!(o.weight_fraction("BaCuO2") > 0.1, "{:?}", o.phases);
}

#[test]
fn ybco_needs_oxygen_on_cooling_for_the_orthorhombic_phase() {
    let w = ybco();
    let set = [("Y2O3", 0.5), ("BaO2", 2.0), ("CuO", 3.0)];
    let o = w
        .run_powder(&powder(&set, program(900.0, 4.0, 2.0), "N2"), 1)
        .unwrap();
    assert!(o.weight_fraction("YBa2Cu3O6") > 0.9, "{:?}", o.phases);
    assert!(o.weight_fraction("YBa2Cu3O7") < 0.01);
    // A quench from 900 °C in O2 leaves no time for the uptake either.
    let quench = TemperatureProfile::new(vec![
        (0.0, 25.0),
        (10_500.0, 900.0),
        (24_900.0, 900.0),
        (24_960.0, 25.0),
    ])
    .unwrap();
    let o = w.run_powder(&powder(&set, quench, "O2"), 1).unwrap();
    assert!(
        o.weight_fraction("YBa2Cu3O6") > o.weight_fraction("YBa2Cu3O7"),
        "{:?}",
        o.phases
    );
}

#[test]
fn limnti_traps_in_limn2o4_in_air_and_reaches_the_target_under_argon() {
    let w = limnti();
    let set = [("Li2CO3", 0.5), ("Mn2O3", 0.5), ("TiO2", 1.0)];
    let o = w
        .run_powder(&powder(&set, program(800.0, 2.0, 5.0), "air"), 1)
        .unwrap();
    assert!(o.weight_fraction("LiMn2O4") > 0.3, "{:?}", o.phases);
    assert!(o.weight_fraction("LiMnTiO4") < 0.1, "{:?}", o.phases);
    let o = w
        .run_powder(&powder(&set, program(800.0, 2.0, 5.0), "Ar"), 1)
        .unwrap();
    assert!(w.goal.is_met(&w, &o), "{:?}", o.phases);
    // MnO2 makes LiMn2O4 without oxygen: trapped under argon too.
    let set = [("Li2CO3", 0.5), ("MnO2", 1.0), ("TiO2", 1.0)];
    let o = w
        .run_powder(&powder(&set, program(800.0, 2.0, 5.0), "Ar"), 1)
        .unwrap();
    assert!(o.weight_fraction("LiMn2O4") > 0.2, "{:?}", o.phases);
    assert!(!w.goal.is_met(&w, &o));
}

#[test]
fn limnti_loses_lithium_above_900() {
    let w = limnti();
    let set = [("Li2CO3", 0.5), ("Mn2O3", 0.5), ("TiO2", 1.0)];
    let o = w
        .run_powder(&powder(&set, program(1000.0, 8.0, 5.0), "Ar"), 1)
        .unwrap();
    let vapour = o.gases.iter().find(|g| g.name == "Li2O_vapour").unwrap();
    assert!(vapour.released_mol > 0.1, "{vapour:?}");
    assert!(o.weight_fraction("Mn3O4") > 0.1, "{:?}", o.phases);
    assert!(!w.goal.is_met(&w, &o));
}

#[test]
fn limnti_target_cell_follows_vegard_between_the_end_members() {
    let w = limnti();
    let cell = |id: &str| {
        let e = library::find(id).unwrap();
        athanor_xrd::cif::read_structures(e.cif).unwrap()[0].lattice
    };
    let (lmo, lto) = (cell("LiMn2O4_227"), cell("LiTi2O4_227"));
    let target = &w.phases[w.phase_id("LiMnTiO4").unwrap()];
    assert!((target.lattice.a - (lmo.a + lto.a) / 2.0).abs() < 1e-9);
    assert!(lmo.a < target.lattice.a && target.lattice.a < lto.a);
    assert_eq!(
        target.lattice,
        vegard::interpolate(&lmo, &lto, 0.5).unwrap()
    );
}

#[test]
fn film_composition_follows_source_power() {
    let w = film();
    let f = w.film.as_ref().unwrap();
    for (zn, ti) in [(100.0, 100.0), (50.0, 150.0), (200.0, 10.0)] {
        let x = f
            .composition(&[("Zn".into(), zn), ("Ti".into(), ti)])
            .unwrap();
        let expected = 0.030 * ti / (0.050 * zn + 0.030 * ti);
        assert!((x - expected).abs() < 1e-12, "{zn} W, {ti} W: {x}");
    }
    assert!(f.composition(&[("Zn".into(), 0.0)]).is_err());
    assert!(f.composition(&[("Cu".into(), 10.0)]).is_err());
}

fn anneal(w: &World, deposit: Deposit, peak_c: f64, hours: f64) -> athanor_sim::Outcome {
    let h = FilmHistory {
        deposit,
        anneal: TemperatureProfile::ramp_dwell_cool(25.0, peak_c, 10.0, hours * 3600.0, 10.0)
            .unwrap(),
    };
    w.run_film(&h, 1).unwrap()
}

#[test]
fn film_phases_follow_the_phase_diagram() {
    let w = film();
    // Powers that give x = 1/2: 0.05 P_Zn = 0.03 P_Ti.
    let half = Deposit::SourcePowers(vec![("Zn".into(), 60.0), ("Ti".into(), 100.0)]);
    let o = anneal(&w, half.clone(), 700.0, 1.0);
    assert!(w.goal.is_met(&w, &o), "{:?}", o.phases);
    // ZnTiO3 decomposes above 900 °C.
    let o = anneal(&w, half.clone(), 950.0, 1.0);
    assert_eq!(o.weight_fraction("ZnTiO3"), 0.0);
    assert!(o.weight_fraction("Zn2TiO4") > 0.5 && o.weight_fraction("rutile") > 0.1);
    // Below the crystallisation onset it stays amorphous.
    let o = anneal(&w, half, 300.0, 4.0);
    assert!(o.phases.is_empty());
    assert_eq!(o.amorphous_fraction, 1.0);
}

#[test]
fn film_fractions_follow_the_lever_rule() {
    let w = film();
    let o = anneal(&w, Deposit::Composition(0.25), 700.0, 4.0);
    // x = 0.25 between Zn(1-y)TiyO saturated at y = 0.02 (above 600 °C) and Zn2TiO4 (x = 1/3).
    let share = (0.25 - 0.02) / (1.0 / 3.0 - 0.02);
    let zn2tio4 = share / 3.0
        * w.phases[w.phase_id("Zn2TiO4").unwrap()]
            .formula
            .molar_mass();
    let zno = (1.0 - share) * w.phases[w.phase_id("ZnO").unwrap()].formula.molar_mass();
    let expected = zn2tio4 / (zn2tio4 + zno);
    assert!(
        (o.weight_fraction("Zn2TiO4") - expected).abs() < 1e-6,
        "{:?}",
        o.phases
    );
    assert!(o.amorphous_fraction < 1e-6);
}

#[test]
fn film_wurtzite_cell_follows_its_ti_content() {
    let w = film();
    let zno_a = |x: f64, t: f64| {
        anneal(&w, Deposit::Composition(x), t, 4.0)
            .phase("ZnO")
            .unwrap()
            .lattice
            .a
    };
    let pure = athanor_xrd::cif::read_structures(library::find("ZnO_186").unwrap().cif).unwrap()[0]
        .lattice;
    assert!((zno_a(0.0, 550.0) - pure.a).abs() < 1e-12);
    // Below 600 °C the Ti content follows the film up to 8 %, then saturates.
    let (a2, a5, a8, a20) = (
        zno_a(0.02, 550.0),
        zno_a(0.05, 550.0),
        zno_a(0.08, 550.0),
        zno_a(0.2, 550.0),
    );
    assert!(pure.a < a2 && a2 < a5 && a5 < a8, "{a2} {a5} {a8}");
    assert!((a20 - a8).abs() < 1e-12);
    // Vegard: linear from ZnO (y = 0) to a = 3.262 Å at y = 0.1.
    assert!((a5 - (pure.a + 0.5 * (3.262 - pure.a))).abs() < 1e-9);
    // Above 600 °C only 2 % stays dissolved.
    assert!((zno_a(0.2, 700.0) - a2).abs() < 1e-12);
}

#[test]
fn film_crystallises_more_with_time_and_temperature() {
    let w = film();
    let crystalline =
        |t: f64, h: f64| 1.0 - anneal(&w, Deposit::Composition(0.5), t, h).amorphous_fraction;
    assert!(crystalline(450.0, 1.0) < crystalline(450.0, 4.0));
    assert!(crystalline(450.0, 1.0) < crystalline(500.0, 1.0));
    assert!(crystalline(700.0, 1.0) > 0.999);
}

#[test]
fn every_goal_is_met_somewhere_in_its_search_space_and_missed_elsewhere() {
    for (name, w) in shipped() {
        let s = &w.search_space;
        let mut outcomes = Vec::new();
        for &t in &s.temperatures_c {
            if w.film.is_some() {
                for i in 0..=20 {
                    let deposit = Deposit::Composition(f64::from(i) / 20.0);
                    let h = w.film_history(deposit, t, 1.0).unwrap();
                    outcomes.push(w.goal.is_met(&w, &w.run_film(&h, 1).unwrap()));
                }
            }
            for set in 0..s.precursor_sets.len() {
                for a in &s.atmospheres {
                    let h = w.powder_history(set, t, 4.0, a).unwrap();
                    outcomes.push(w.goal.is_met(&w, &w.run_powder(&h, 1).unwrap()));
                }
            }
        }
        let met = outcomes.iter().filter(|m| **m).count();
        assert!(met > 0, "{name}: the goal is never met");
        assert!(
            met * 5 < outcomes.len(),
            "{name}: the goal is met in {met} of {} points: too easy",
            outcomes.len()
        );
    }
    // A set the search space lacks is refused.
    let w = ybco();
    assert_eq!(
        w.powder_history(99, 900.0, 4.0, "air").unwrap_err().key(),
        "set"
    );
}

#[test]
fn every_phase_simulates_to_a_pattern_with_peaks() {
    let options = SimulationOptions::new(CU_KA1).with_range(10.0, 80.0);
    for (name, w) in shipped() {
        for (id, p) in w.phases.iter().enumerate() {
            let s = w.structure_with(id, p.lattice).unwrap();
            let peaks = simulate(&s, &options).unwrap_or_else(|e| panic!("{name} {}: {e}", p.name));
            assert!(
                peaks.iter().filter(|r| r.intensity > 1.0).count() >= 3,
                "{name} {}: {} peaks",
                p.name,
                peaks.len()
            );
        }
    }
}

#[test]
fn a_sample_outcome_simulates_with_its_own_cells() {
    let options = SimulationOptions::new(CU_KA1).with_range(10.0, 80.0);
    let w = limnti();
    let set = [("Li2CO3", 0.5), ("Mn2O3", 0.5), ("TiO2", 1.0)];
    let o = w
        .run_powder(&powder(&set, program(800.0, 2.0, 5.0), "Ar"), 1)
        .unwrap();
    for p in o.detectable(0.01) {
        let s = w
            .structure_with(w.phase_id(&p.name).unwrap(), p.lattice)
            .unwrap();
        let peaks = simulate(&s, &options).unwrap();
        assert!(!peaks.is_empty(), "{}", p.name);
    }
    // The target's strongest spinel line sits between those of LiMn2O4 and LiTi2O4.
    let strongest = |id: &str, lattice| {
        let mut s =
            athanor_xrd::cif::read_structures(library::find(id).unwrap().cif).unwrap()[0].clone();
        if let Some(l) = lattice {
            s.lattice = l;
        }
        let peaks = simulate(&s, &options).unwrap();
        peaks
            .iter()
            .max_by(|a, b| a.intensity.total_cmp(&b.intensity))
            .unwrap()
            .two_theta
    };
    let target = o.phase("LiMnTiO4").unwrap();
    let t = strongest("LiTi2O4_227", Some(target.lattice));
    let (lmo, lto) = (
        strongest("LiMn2O4_227", None),
        strongest("LiTi2O4_227", None),
    );
    assert!(lto < t && t < lmo, "{lto} < {t} < {lmo}");
}

#[test]
fn ybco_energies_are_those_of_the_arrows_data() {
    let Some(dir) = shared::shared_data("ybco_energies_are_those_of_the_arrows_data") else {
        return;
    };
    let csv =
        std::fs::read_to_string(dir.join("planning/arrows-ybco/reaction_energies.csv")).unwrap();
    let spec: athanor_sim::world::spec::WorldSpec = toml::from_str(support::YBCO).unwrap();
    let mut checked = 0;
    for r in spec
        .reactions
        .iter()
        .filter(|r| r.source == "reaction_energies.csv")
    {
        let mut reactants: Vec<(&str, f64)> =
            r.reactants.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        reactants.sort_by(|a, b| a.0.cmp(b.0));
        let row = csv.lines().skip(1).find(|line| {
            let cols: Vec<&str> = line.split(',').collect();
            let names: Vec<&str> = cols[0].split(" + ").map(str::trim).collect();
            let amounts: Vec<f64> = cols[1]
                .split(" + ")
                .map(|a| a.trim().parse().unwrap())
                .collect();
            let mut pairs: Vec<(&str, f64)> = names.into_iter().zip(amounts).collect();
            pairs.sort_by(|a, b| a.0.cmp(b.0));
            pairs == reactants
        });
        let row = row.unwrap_or_else(|| panic!("{}: not in reaction_energies.csv", r.name));
        let energy: f64 = row.rsplit(',').next().unwrap().parse().unwrap();
        assert_eq!(r.energy_mev_atom, Some(energy), "{}", r.name);
        checked += 1;
    }
    assert!(checked >= 10, "{checked} reactions checked");

    let settings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("planning/arrows-ybco/settings.json")).unwrap(),
    )
    .unwrap();
    let mut wanted: Vec<String> = settings["Precursors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let w = ybco();
    let mut have: Vec<String> = w
        .precursors
        .iter()
        .map(|id| w.phases[*id].formula.text().to_string())
        .collect();
    wanted.sort();
    have.sort();
    assert_eq!(have, wanted, "the world's precursors are ARROWS's");
}
