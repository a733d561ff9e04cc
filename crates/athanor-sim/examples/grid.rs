//! Prints what a world makes over its search space — for a powder world every precursor set,
//! temperature, dwell and atmosphere; for a film world a composition sweep at each anneal — to
//! read a world's behaviour at a glance:
//! `cargo run -p athanor-sim --example grid -- config/worlds/ybco.toml`.

use athanor_sim::world::Outcome;
use athanor_sim::{Deposit, World};

/// One line: the goal's weight fraction, then every phase above 2 wt%.
fn line(world: &World, o: &Outcome) -> String {
    let goal = &world.phases[world.goal.phase].name;
    let phases: Vec<String> = o
        .detectable(0.02)
        .map(|p| {
            format!(
                "{} {:.2} ({:.0} nm)",
                p.name, p.weight_fraction, p.crystallite_nm
            )
        })
        .collect();
    let met = if world.goal.is_met(world, o) {
        "*"
    } else {
        " "
    };
    let amorphous = if o.amorphous_fraction > 0.005 {
        format!(", amorphous {:.2}", o.amorphous_fraction)
    } else {
        String::new()
    };
    format!(
        "{met} {goal} {:.2} | {}{amorphous}",
        o.weight_fraction(goal),
        phases.join(", ")
    )
}

fn film(world: &World) -> Result<(), Box<dyn std::error::Error>> {
    let space = &world.search_space;
    for &hours in &space.dwell_hours {
        for &t in &space.temperatures_c {
            println!("anneal {t} °C, {hours} h");
            for i in 0..=20 {
                let x = f64::from(i) / 20.0;
                let history = world.film_history(Deposit::Composition(x), t, hours)?;
                let o = world.run_film(&history, 1)?;
                println!("  x {x:.2} {}", line(world, &o));
            }
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: grid WORLD.toml")?;
    let world = World::from_toml(&std::fs::read_to_string(&path)?)?;
    if world.film.is_some() {
        return film(&world);
    }
    let space = &world.search_space;
    for (i, set) in space.precursor_sets.iter().enumerate() {
        let precursors: Vec<(String, f64)> = world.named(set);
        let label: Vec<String> = precursors.iter().map(|(n, m)| format!("{m} {n}")).collect();
        println!("{}", label.join(" + "));
        for atmosphere in &space.atmospheres {
            for &hours in &space.dwell_hours {
                for &t in &space.temperatures_c {
                    let history = world.powder_history(i, t, hours, atmosphere)?;
                    let o = world.run_powder(&history, 1)?;
                    println!(
                        "  {atmosphere:>4} {hours:>4} h {t:>5} °C  {}",
                        line(&world, &o)
                    );
                }
            }
        }
    }
    Ok(())
}
