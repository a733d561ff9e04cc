//! `athanor bench planners`: every planner on the five pool-based BO benchmarks (Liang et al.
//! 2021 protocol), on the YBCO replay (ARROWS data) and on the simulated worlds (the shipped
//! `config/worlds/*.toml` and any `--world FILE`), medians and quartiles over seeds, SVG plots
//! of the median Top% curves, and the JSON shape with `--json`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use athanor_planner::bench::bo::{benchmark_pool, PoolSummary};
use athanor_planner::bench::plot::{line_chart, Series};
use athanor_planner::bench::worlds::{
    recipes_meeting_goal, run_world, SynthesisWorld, WorldSummary, WORLD_PLANNERS,
};
use athanor_planner::bench::ybco::{replay, ReplaySummary, REPLAY_PLANNERS};
use athanor_planner::bench::{scalar_planner, SCALAR_PLANNERS};
use athanor_planner::data::{load_bo_benchmarks, load_synthesis};
use athanor_sim::World;
use clap::Args;
use serde_json::{json, Map, Value};

use super::world_bench::pool_of;

/// A world of either kind, as the benchmark runs it (in parallel).
type BenchWorld = Box<dyn SynthesisWorld + Send + Sync>;

/// Experiments a planner may run in a world by default before the seed counts as a miss.
const DEFAULT_WORLD_BUDGET: usize = 200;

#[derive(Debug, Args)]
pub struct PlannersArgs {
    /// Seeds per planner and dataset (seeds 0..N).
    #[arg(long, default_value_t = 50)]
    seeds: u64,
    /// Print one JSON object: {"ybco": …, "bo_benchmarks": …, "worlds": …}.
    #[arg(long)]
    json: bool,
    /// Write SVG plots (median Top% curves per dataset) to this folder.
    #[arg(long)]
    plots: Option<PathBuf>,
    /// A simulated world file (repeatable), in addition to those in --worlds-dir.
    #[arg(long = "world")]
    worlds: Vec<PathBuf>,
    /// Folder whose `*.toml` worlds are benchmarked (skipped with a notice when absent).
    #[arg(long, default_value = "config/worlds")]
    worlds_dir: PathBuf,
    /// Experiments each planner may run in a world before the seed counts as not reaching
    /// the goal (default 200, or the world's whole pool if smaller).
    #[arg(long)]
    world_budget: Option<usize>,
    /// Folder holding `bo-benchmarks/` and `arrows-ybco/`.
    #[arg(long, default_value = "../shared/data/planning")]
    data: PathBuf,
    /// Only these planners (comma-separated names; default: all).
    #[arg(long, value_delimiter = ',')]
    planners: Vec<String>,
    /// Also write the JSON object (as --json prints it) to this file.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Worker threads (default: the machine's parallelism).
    #[arg(long)]
    jobs: Option<usize>,
}

/// Runs `tasks` on `jobs` threads, results in task order.
fn parallel<T: Send, R: Send>(tasks: Vec<T>, jobs: usize, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    let queue = std::sync::Mutex::new(tasks.into_iter().enumerate().collect::<Vec<_>>());
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some((i, task)) = next else { break };
                let r = work(task);
                if let Ok(mut out) = results.lock() {
                    out.push((i, r));
                }
            });
        }
    });
    let mut out = results.into_inner().unwrap_or_default();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

pub fn run(args: PlannersArgs) -> anyhow::Result<ExitCode> {
    if args.seeds == 0 {
        bail!("--seeds must be at least 1");
    }
    let wanted = |name: &str| args.planners.is_empty() || args.planners.iter().any(|p| p == name);
    for p in &args.planners {
        // Every world planner is a scalar or a replay planner too.
        if !SCALAR_PLANNERS.contains(&p.as_str()) && !REPLAY_PLANNERS.contains(&p.as_str()) {
            bail!(
                "unknown planner `{p}` (known: {}, {})",
                SCALAR_PLANNERS.join(", "),
                REPLAY_PLANNERS.join(", ")
            );
        }
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let started = Instant::now();
    let mut notices = Vec::new();
    let world_pools = load_worlds(&args, &mut notices)?;
    let budget_of = |w: &BenchWorld| {
        let pool = w.features().len();
        args.world_budget.unwrap_or(DEFAULT_WORLD_BUDGET).min(pool)
    };

    let datasets = load_bo_benchmarks(&args.data.join("bo-benchmarks"))
        .with_context(|| format!("loading the BO benchmarks under {}", args.data.display()))?;
    let ybco = load_synthesis(&args.data.join("arrows-ybco"))
        .with_context(|| format!("loading the YBCO data under {}", args.data.display()))?;

    // Workers take from the end of the list: the slow pairs (large pools, GP planners) go last.
    let mut tasks: Vec<(usize, &str)> = Vec::new();
    for (d, _) in datasets.iter().enumerate() {
        for p in SCALAR_PLANNERS.iter().filter(|p| wanted(p)) {
            tasks.push((d, p));
        }
    }
    tasks.sort_by_key(|(d, p)| {
        (
            datasets[*d].y.len(),
            p.starts_with("gp") || p.starts_with("athanor"),
        )
    });
    let seeds = args.seeds;
    let pools: Vec<PoolSummary> = parallel(tasks, jobs, |(d, p)| {
        benchmark_pool(
            &datasets[d],
            p,
            &|| scalar_planner(p).expect("registered planner"),
            seeds,
        )
    });
    let replay_names: Vec<&str> = SCALAR_PLANNERS
        .iter()
        .chain(REPLAY_PLANNERS.iter())
        .copied()
        .filter(|p| wanted(p))
        .collect();
    let replays: Vec<ReplaySummary> = parallel(replay_names, jobs, |p| replay(&ybco, p, seeds))
        .into_iter()
        .flatten()
        .collect();

    let world_tasks: Vec<(usize, &str)> = (0..world_pools.len())
        .flat_map(|w| {
            WORLD_PLANNERS
                .iter()
                .filter(|p| wanted(p))
                .map(move |p| (w, *p))
        })
        .collect();
    let world_runs: Vec<(usize, WorldSummary)> = parallel(world_tasks, jobs, |(w, p)| {
        let pool = &world_pools[w];
        (w, run_world(pool.as_ref(), p, seeds, budget_of(pool)))
    });

    if let Some(dir) = &args.plots {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for d in &datasets {
            let rows: Vec<&PoolSummary> = pools.iter().filter(|s| s.dataset == d.name).collect();
            let n = d.y.len();
            let x_max = rows
                .iter()
                .map(|r| r.top_curve.len())
                .max()
                .unwrap_or(2)
                .min(n);
            let mut series = vec![Series {
                name: "random (expected)".into(),
                values: (1..=x_max).map(|i| i as f64 / n as f64).collect(),
            }];
            series.extend(rows.iter().map(|r| Series {
                name: r.planner.clone(),
                values: r.top_curve.iter().take(x_max).copied().collect(),
            }));
            let svg = line_chart(
                &format!(
                    "{}: median share of the top 5 % found ({} seeds)",
                    d.name, seeds
                ),
                "experiments",
                "Top%",
                x_max,
                &series,
            );
            let path = dir.join(format!("bo_{}.svg", d.name));
            std::fs::write(&path, svg).with_context(|| format!("writing {}", path.display()))?;
        }
    }

    let mut bo = Map::new();
    {
        for s in &pools {
            let entry = bo.entry(s.dataset.clone()).or_insert_with(|| json!({}));
            if let Some(o) = entry.as_object_mut() {
                o.insert(
                    s.planner.clone(),
                    json!({"af_80": s.af_80.median, "ef_50": s.ef_50.median}),
                );
            }
        }
        let ybco_json: Map<String, Value> = replays
            .iter()
            .map(|r| {
                (
                    r.planner.clone(),
                    json!({"first_success_median": r.first_success.median, "all_success_median": r.all_success.median}),
                )
            })
            .collect();
        let mut worlds_json = Map::new();
        for pool in &world_pools {
            worlds_json.insert(pool.name().to_owned(), json!({}));
        }
        for (w, s) in &world_runs {
            if let Some(o) = worlds_json
                .get_mut(world_pools[*w].name())
                .and_then(Value::as_object_mut)
            {
                o.insert(s.planner.clone(), serde_json::to_value(s.result())?);
            }
        }
        bo = json!({"ybco": ybco_json, "bo_benchmarks": bo, "worlds": worlds_json})
            .as_object()
            .cloned()
            .unwrap_or_default();
    }
    let out = Value::Object(bo);
    if let Some(path) = &args.save {
        std::fs::write(path, serde_json::to_string_pretty(&out)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("BO benchmarks ({seeds} seeds; medians with [25th, 75th] percentiles)");
        println!(
            "{:<16} {:<14} {:>5} {:>4} {:>20} {:>20} {:>8}",
            "dataset", "planner", "N", "top", "AF80", "EF50", "n80"
        );
        let mut by_dataset: BTreeMap<&str, Vec<&PoolSummary>> = BTreeMap::new();
        for s in &pools {
            by_dataset.entry(&s.dataset).or_default().push(s);
        }
        for d in &datasets {
            for s in by_dataset.get(d.name.as_str()).into_iter().flatten() {
                println!(
                    "{:<16} {:<14} {:>5} {:>4} {:>6.2} [{:>5.2},{:>5.2}] {:>6.2} [{:>5.2},{:>5.2}] {:>8.0}",
                    s.dataset, s.planner, s.pool_size, s.top_size, s.af_80.median, s.af_80.p25, s.af_80.p75,
                    s.ef_50.median, s.ef_50.p25, s.ef_50.p75, s.experiments_to_80.median
                );
            }
        }
        println!(
            "\nYBCO replay ({seeds} seeds; experiments to the first success / to all {})",
            athanor_planner::bench::ybco::successes(&ybco)
                .iter()
                .filter(|s| **s)
                .count()
        );
        for r in &replays {
            println!(
                "{:<18} first {:>5.1} [{:>5.1},{:>5.1}]   all {:>6.1} [{:>5.1},{:>5.1}]",
                r.planner,
                r.first_success.median,
                r.first_success.p25,
                r.first_success.p75,
                r.all_success.median,
                r.all_success.p25,
                r.all_success.p75
            );
        }
        if !world_runs.is_empty() {
            println!(
                "\nSimulated worlds ({seeds} seeds; experiments to the goal, median [25th, 75th]; a miss counts as budget + 1)"
            );
        }
        for (w, pool) in world_pools.iter().enumerate() {
            println!(
                "{}: pool {} recipes, {} meet the goal ({} ≥ {}), budget {}",
                pool.name(),
                pool.features().len(),
                recipes_meeting_goal(pool.as_ref()),
                pool.goal().0,
                pool.goal().1,
                budget_of(pool)
            );
            for (_, s) in world_runs.iter().filter(|(i, _)| *i == w) {
                println!(
                    "  {:<18} to goal {:>6.1} [{:>5.1},{:>5.1}]  reached {:>5.1} %",
                    s.planner,
                    s.experiments_to_goal.median,
                    s.experiments_to_goal.p25,
                    s.experiments_to_goal.p75,
                    100.0 * s.goal_reached_share
                );
            }
        }
        println!(
            "\nwall clock {:.1} s on {jobs} threads",
            started.elapsed().as_secs_f64()
        );
    }
    for n in &notices {
        eprintln!("notice: {n}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The worlds to benchmark: every `*.toml` of `--worlds-dir` (in name order), then each
/// `--world`. A file that cannot be read or parsed is an error; a world the synthesis planners
/// cannot build a pool from (an empty search space) is skipped with a notice.
fn load_worlds(args: &PlannersArgs, notices: &mut Vec<String>) -> anyhow::Result<Vec<BenchWorld>> {
    let mut files = Vec::new();
    match std::fs::read_dir(&args.worlds_dir) {
        Ok(entries) => {
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        }
        Err(e) => notices.push(format!(
            "no worlds folder {} ({e}); only --world files are benchmarked",
            args.worlds_dir.display()
        )),
    }
    files.extend(args.worlds.iter().cloned());
    let mut pools = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("world file {}", path.display()))?;
        let world =
            World::from_toml(&text).with_context(|| format!("world file {}", path.display()))?;
        let name = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        match pool_of(&name, world) {
            Some(pool) => pools.push(pool),
            None => notices.push(format!(
                "{}: its search space offers no recipes (no precursor sets, or no power range for a film source); no figure is reported",
                path.display()
            )),
        }
    }
    Ok(pools)
}
