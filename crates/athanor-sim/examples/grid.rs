//! Prints what a powder world makes over its whole search space (every precursor set,
//! temperature, dwell and atmosphere), for reading a world's behaviour at a glance:
//! `cargo run -p athanor-sim --example grid -- config/worlds/ybco.toml`.

use athanor_sim::{PowderHistory, TemperatureProfile, World};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: grid WORLD.toml")?;
    let world = World::from_toml(&std::fs::read_to_string(&path)?)?;
    let space = &world.search_space;
    let goal = &world.phases[world.goal.phase].name;
    for set in &space.precursor_sets {
        let precursors: Vec<(String, f64)> = set
            .iter()
            .map(|(id, n)| (world.phases[*id].name.clone(), *n))
            .collect();
        let label: Vec<&str> = precursors.iter().map(|p| p.0.as_str()).collect();
        println!("{}", label.join(" + "));
        for atmosphere in &space.atmospheres {
            for &hours in &space.dwell_hours {
                for &t in &space.temperatures_c {
                    let profile = TemperatureProfile::ramp_dwell_cool(
                        25.0,
                        t,
                        space.ramp_c_per_min,
                        hours * 3600.0,
                        space.cool_c_per_min,
                    )?;
                    let history = PowderHistory {
                        precursors: precursors.clone(),
                        profile,
                        atmosphere: atmosphere.clone(),
                    };
                    let o = world.run_powder(&history, 1)?;
                    let phases: Vec<String> = o
                        .detectable(0.02)
                        .map(|p| {
                            format!(
                                "{} {:.2} ({:.0} nm)",
                                p.name, p.weight_fraction, p.crystallite_nm
                            )
                        })
                        .collect();
                    let met = if world.goal.is_met(&world, &o) {
                        "*"
                    } else {
                        " "
                    };
                    println!(
                        "  {met} {atmosphere:>4} {hours:>4} h {t:>5} °C  {goal} {:.2} | {}",
                        o.weight_fraction(goal),
                        phases.join(", ")
                    );
                }
            }
        }
    }
    Ok(())
}
