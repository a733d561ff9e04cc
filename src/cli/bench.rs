//! `athanor bench …`: store throughput (campaign creation, experiment state transitions) on a
//! fresh SQLite or PostgreSQL database, open-loop HTTP GET latency against a running daemon, and
//! the characterization engine's speed: stick simulation of a whole structure library, and
//! rendering one phase's continuous pattern.
//!
//! These are measurements, not tests: nothing here asserts a time. `docs/benchmarks.md` records
//! the figures, the machine and the commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use serde::Serialize;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, Executor as _};

use athanor_core::{
    Budget, CampaignId, ExperimentAction, ExperimentId, ExperimentState, Goal, NewCampaign,
    NewExperiment, Parameter, PlannerSpec, SafetyLimits, SearchSpace,
};
use athanor_store::{Backend, ConnectOptions, PageRequest, Store};
use athanor_xrd::profile::{
    counting_noise, render, ChebyshevBackground, InstrumentProfile, SampleEffects,
    DEFAULT_WINDOW_FWHM,
};
use athanor_xrd::{simulate, SimulationOptions};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Campaign creation and experiment state-transition throughput on a fresh database.
    Store(StoreArgs),
    /// GET latency under a fixed arrival rate against a running `athanor serve`.
    Http(HttpArgs),
    /// Stick-pattern simulation of every structure of a library, pymatgen's settings, one thread.
    Simulate(SimulateArgs),
    /// Rendering one phase's continuous pattern on a 2θ grid with an instrument profile.
    Profile(ProfileArgs),
    /// Planners on the pool-based BO benchmarks and the YBCO replay (medians over seeds).
    Planners(super::planner_bench::PlannersArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Store(args) => run_store(args),
        BenchCommand::Http(args) => run_http(args),
        BenchCommand::Simulate(args) => run_simulate(args),
        BenchCommand::Profile(args) => run_profile(args),
        BenchCommand::Planners(args) => super::planner_bench::run(args),
    }
}

// ---------------------------------------------------------------------------------------------
// Latency summaries shared by both benchmarks.

/// Percentiles of a set of latencies, in milliseconds (nearest-rank).
#[derive(Debug, Clone, Serialize)]
struct Summary {
    count: usize,
    mean_ms: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
}

impl Summary {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let at = |p: f64| -> f64 {
            if samples.is_empty() {
                return 0.0;
            }
            // Nearest rank: the smallest sample with at least p of the samples at or below it.
            let rank = (p * samples.len() as f64).ceil() as usize;
            ms(samples[rank.clamp(1, samples.len()) - 1])
        };
        let total: Duration = samples.iter().sum();
        Self {
            count: samples.len(),
            mean_ms: if samples.is_empty() {
                0.0
            } else {
                ms(total) / samples.len() as f64
            },
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: samples.last().copied().map_or(0.0, ms),
        }
    }
}

/// One measured operation: how many, how long in all, how fast, and each one's latency.
#[derive(Debug, Clone, Serialize)]
struct OpReport {
    operation: String,
    count: usize,
    elapsed_s: f64,
    /// Operations per second over the phase (absent for a breakdown row).
    rate_per_s: Option<f64>,
    latency: Summary,
}

impl OpReport {
    fn new(operation: &str, elapsed: Option<Duration>, samples: Vec<Duration>) -> Self {
        let count = samples.len();
        let elapsed_s = elapsed.map_or(0.0, |e| e.as_secs_f64());
        Self {
            operation: operation.to_owned(),
            count,
            elapsed_s,
            rate_per_s: elapsed.map(|_| count as f64 / elapsed_s.max(f64::MIN_POSITIVE)),
            latency: Summary::of(samples),
        }
    }
}

fn print_table(rows: &[OpReport]) {
    println!(
        "{:<26} {:>8} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "operation", "count", "elapsed s", "rate /s", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for r in rows {
        let rate = r
            .rate_per_s
            .map_or_else(|| "-".to_owned(), |x| format!("{x:.0}"));
        let elapsed = if r.rate_per_s.is_some() {
            format!("{:.2}", r.elapsed_s)
        } else {
            "-".to_owned()
        };
        println!(
            "{:<26} {:>8} {:>10} {:>10} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            r.operation,
            r.count,
            elapsed,
            rate,
            r.latency.p50_ms,
            r.latency.p90_ms,
            r.latency.p99_ms,
            r.latency.max_ms
        );
    }
}

// ---------------------------------------------------------------------------------------------
// `athanor bench store`

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// A PostgreSQL server (postgres://…); a fresh, uniquely named database is created on it and
    /// dropped afterwards. Without it the benchmark runs on SQLite.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Where the fresh SQLite database goes (a new subdirectory, removed afterwards); the
    /// system's temporary directory by default. Pick the disk you want to measure.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Campaigns to create.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub campaigns: u32,
    /// Experiments to create (spread over the campaigns) and drive to `completed`, each through
    /// four transitions: schedule, start, analyze, complete.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..))]
    pub experiments: u32,
    /// Tasks issuing store calls at the same time.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Connections in the pool (PostgreSQL; SQLite readers, next to its one writer). The
    /// default is the daemon's (`storage.max_connections`).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_connections: u32,
    /// Durable 4 KiB writes of the disk probe, run first: in the SQLite database's directory,
    /// or in the system's temporary directory for PostgreSQL (0 skips it).
    #[arg(long, default_value_t = 1000)]
    pub fsync_probes: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct StoreReport {
    backend: &'static str,
    /// Where the database lives (never a password).
    database: String,
    /// The durability settings the writes ran under.
    durability: String,
    campaigns: u32,
    experiments: u32,
    concurrency: u32,
    max_connections: u32,
    /// The directory the fsync probe wrote in, if it ran.
    fsync_probe_dir: Option<String>,
    operations: Vec<OpReport>,
}

/// A database that exists for one benchmark run.
#[derive(Debug)]
enum FreshDb {
    Sqlite {
        dir: PathBuf,
    },
    Postgres {
        admin: Box<PgConnectOptions>,
        name: String,
    },
}

impl FreshDb {
    async fn create(args: &StoreArgs) -> anyhow::Result<(Self, ConnectOptions, String)> {
        let unique = format!("athanor_bench_{}", CampaignId::new().0.simple());
        match args.database_url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let admin: PgConnectOptions = url
                    .parse()
                    .map_err(|e| anyhow!("--database-url is not a PostgreSQL URL: {e}"))?;
                let place = format!(
                    "postgres {}:{}/{}",
                    admin.get_host(),
                    admin.get_port(),
                    unique
                );
                let mut conn = admin.connect().await.with_context(|| {
                    format!(
                        "cannot connect to PostgreSQL at {}:{}",
                        admin.get_host(),
                        admin.get_port()
                    )
                })?;
                conn.execute(format!("CREATE DATABASE {unique}").as_str())
                    .await
                    .context("cannot create the benchmark database")?;
                conn.close().await?;
                let options = ConnectOptions {
                    url: admin.clone().database(&unique).to_url_lossy().to_string(),
                    ..ConnectOptions::default()
                };
                let db = Self::Postgres {
                    admin: Box::new(admin),
                    name: unique,
                };
                Ok((db, options, place))
            }
            Some(_) => {
                bail!("--database-url must start with postgres:// (leave it out for SQLite)")
            }
            None => {
                let parent = args.data_dir.clone().unwrap_or_else(std::env::temp_dir);
                let dir = parent.join(&unique);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let place = format!("sqlite {}", dir.join("athanor.db").display());
                let options = ConnectOptions {
                    data_dir: dir.clone(),
                    ..ConnectOptions::default()
                };
                Ok((Self::Sqlite { dir }, options, place))
            }
        }
    }

    /// The settings that decide whether a commit is durable, as the server reports them.
    async fn durability(&self) -> String {
        match self {
            // Fixed by the store: journal_mode=WAL, synchronous=FULL (backend.rs).
            Self::Sqlite { .. } => "journal_mode=WAL synchronous=FULL".to_owned(),
            Self::Postgres { admin, .. } => {
                let mut out = Vec::new();
                if let Ok(mut conn) = admin.connect().await {
                    for setting in ["synchronous_commit", "fsync", "wal_sync_method"] {
                        let value: Result<String, _> =
                            sqlx::query_scalar(&format!("SHOW {setting}"))
                                .fetch_one(&mut conn)
                                .await;
                        if let Ok(v) = value {
                            out.push(format!("{setting}={v}"));
                        }
                    }
                    let _ = conn.close().await;
                }
                out.join(" ")
            }
        }
    }

    /// Where the fsync probe writes: beside the SQLite file; for PostgreSQL, whose disk this
    /// process cannot see, the system's temporary directory.
    fn probe_dir(&self) -> PathBuf {
        match self {
            Self::Sqlite { dir } => dir.clone(),
            Self::Postgres { .. } => std::env::temp_dir(),
        }
    }

    async fn drop_db(self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite { dir } => std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display())),
            Self::Postgres { admin, name } => {
                let mut conn = admin.connect().await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .with_context(|| format!("cannot drop the benchmark database {name}"))?;
                conn.close().await?;
                Ok(())
            }
        }
    }
}

fn run_store(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let runtime = crate::cli::daemon::runtime()?;
    runtime.block_on(async move {
        let (db, mut options, place) = FreshDb::create(&args).await?;
        options.max_connections = args.max_connections;
        let durability = db.durability().await;
        let probe_dir = (args.fsync_probes > 0).then(|| db.probe_dir());
        let outcome = async {
            let store = Store::connect(&options)
                .await
                .context("cannot open the benchmark store")?;
            let result = store_phases(&store, &args, probe_dir.as_deref()).await;
            store.close().await;
            result.map(|ops| (store.backend(), ops))
        }
        .await;
        // The database goes whatever happened.
        let dropped = db.drop_db().await;
        let (backend, operations) = outcome?;
        dropped?;
        let report = StoreReport {
            backend: match backend {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            database: place,
            durability,
            campaigns: args.campaigns,
            experiments: args.experiments,
            concurrency: args.concurrency,
            max_connections: args.max_connections,
            fsync_probe_dir: probe_dir.map(|d| d.display().to_string()),
            operations,
        };
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            println!(
                "athanor bench store: {} ({}), {} campaigns, {} experiments, concurrency {}, pool {}",
                report.backend,
                report.durability,
                report.campaigns,
                report.experiments,
                report.concurrency,
                report.max_connections
            );
            println!("database: {} (dropped afterwards)", report.database);
            if let Some(dir) = &report.fsync_probe_dir {
                println!("fsync probe in {dir}");
            }
            print_table(&report.operations);
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The measured phases, in order; fails on the first store error (a benchmark with failed
/// writes measures nothing useful).
async fn store_phases(
    store: &Store,
    args: &StoreArgs,
    probe_dir: Option<&Path>,
) -> anyhow::Result<Vec<OpReport>> {
    let mut ops = Vec::new();
    if let Some(dir) = probe_dir {
        let (dir, n) = (dir.to_path_buf(), args.fsync_probes);
        let samples = tokio::task::spawn_blocking(move || fsync_probe(&dir, n)).await??;
        let elapsed = samples.iter().sum();
        ops.push(OpReport::new(
            "fsync probe (4 KiB write)",
            Some(elapsed),
            samples,
        ));
    }

    let per_campaign = args.experiments.div_ceil(args.campaigns);
    if per_campaign > 100_000 {
        bail!("--experiments / --campaigns must be at most 100000 (a campaign's largest budget)");
    }
    let spec = campaign_spec(per_campaign.max(1));
    let concurrency = args.concurrency as usize;

    let started = Instant::now();
    let campaigns = parallel(args.campaigns as usize, concurrency, {
        let store = store.clone();
        move |i| {
            let store = store.clone();
            let mut spec = spec.clone();
            spec.name = format!("bench campaign {i}");
            async move { Ok(store.create_campaign(spec, "bench").await?.id) }
        }
    })
    .await
    .context("creating campaigns")?;
    let elapsed = started.elapsed();
    let (campaign_ids, samples): (Vec<CampaignId>, Vec<Duration>) = campaigns.into_iter().unzip();
    ops.push(OpReport::new("create campaign", Some(elapsed), samples));

    let campaign_ids = Arc::new(campaign_ids);
    let started = Instant::now();
    let experiments = parallel(args.experiments as usize, concurrency, {
        let store = store.clone();
        move |i| {
            let store = store.clone();
            let campaign = campaign_ids[i % campaign_ids.len()];
            let new = NewExperiment {
                parameters: [("T".to_owned(), json!(600.0 + (i % 350) as f64))]
                    .into_iter()
                    .collect(),
                rationale: "benchmark".into(),
                hypothesis_id: None,
                predicted: None,
            };
            async move { Ok(store.create_experiment(campaign, new, "bench").await?.id) }
        }
    })
    .await
    .context("creating experiments")?;
    let elapsed = started.elapsed();
    let (experiment_ids, samples): (Vec<ExperimentId>, Vec<Duration>) =
        experiments.into_iter().unzip();
    ops.push(OpReport::new("create experiment", Some(elapsed), samples));

    // Each task drives one experiment at a time through its four moves, so moves of different
    // experiments interleave as they would in a running lab.
    const PATH: [(ExperimentAction, &str); 4] = [
        (ExperimentAction::Schedule, "  schedule"),
        (ExperimentAction::Start, "  start"),
        (ExperimentAction::Analyze, "  analyze"),
        (ExperimentAction::Complete, "  complete"),
    ];
    let experiment_ids = Arc::new(experiment_ids);
    let started = Instant::now();
    let lifecycles = parallel(experiment_ids.len(), concurrency, {
        let store = store.clone();
        let ids = experiment_ids.clone();
        move |i| {
            let store = store.clone();
            let id = ids[i];
            async move {
                let mut each = [Duration::ZERO; 4];
                for (slot, (action, _)) in each.iter_mut().zip(PATH) {
                    let t = Instant::now();
                    store
                        .apply_experiment_action(id, action, "bench", None)
                        .await
                        .with_context(|| format!("experiment {id}: {action:?}"))?;
                    *slot = t.elapsed();
                }
                Ok(each)
            }
        }
    })
    .await
    .context("driving experiments through their lifecycle")?;
    let elapsed = started.elapsed();
    let mut by_action: [Vec<Duration>; 4] = Default::default();
    for (each, _) in &lifecycles {
        for (k, d) in each.iter().enumerate() {
            by_action[k].push(*d);
        }
    }
    let all: Vec<Duration> = by_action.iter().flatten().copied().collect();
    ops.push(OpReport::new("experiment transition", Some(elapsed), all));
    for ((_, label), samples) in PATH.iter().zip(by_action) {
        ops.push(OpReport::new(label, None, samples));
    }

    // Not timed: every experiment must have arrived, or the figures above are not what they say.
    let completed = count_completed(store).await?;
    if completed != experiment_ids.len() {
        bail!(
            "{} experiments were driven to completed but the store holds {completed} completed",
            experiment_ids.len()
        );
    }
    Ok(ops)
}

/// Runs `op(0..n)` on `concurrency` tasks, each taking the next index when it is done with one;
/// returns every result with its latency, or the first error.
async fn parallel<T, F, Fut>(
    n: usize,
    concurrency: usize,
    op: F,
) -> anyhow::Result<Vec<(T, Duration)>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let op = Arc::new(op);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(n) {
        let next = next.clone();
        let op = op.clone();
        tasks.spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                let value = op(i).await?;
                out.push((value, t.elapsed()));
            }
            anyhow::Ok(out)
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(joined) = tasks.join_next().await {
        match joined.context("a benchmark task panicked")? {
            Ok(part) => all.extend(part),
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        }
    }
    Ok(all)
}

async fn count_completed(store: &Store) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut page = PageRequest {
        limit: PageRequest::MAX_LIMIT,
        after: None,
    };
    loop {
        let p = store
            .list_experiments(None, Some(ExperimentState::Completed), &page)
            .await?;
        count += p.items.len();
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => return Ok(count),
        }
    }
}

/// Times `n` durable 4 KiB writes (write, then fdatasync) in `dir`: the floor under any
/// durable commit on that disk.
fn fsync_probe(dir: &Path, n: u32) -> anyhow::Result<Vec<Duration>> {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join(format!("athanor-fsync-probe-{}", std::process::id()));
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let block = [0x5a_u8; 4096];
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t = Instant::now();
        file.seek(SeekFrom::Start(u64::from(i % 256) * 4096))?;
        file.write_all(&block)?;
        file.sync_data()?;
        samples.push(t.elapsed());
    }
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(samples)
}

/// A valid campaign whose budget admits `budget` experiments.
fn campaign_spec(budget: u32) -> NewCampaign {
    NewCampaign {
        name: "bench".into(),
        description: "created by athanor bench store".into(),
        goal: Goal::PhasePure {
            target_phase: "YBa2Cu3O7".into(),
            min_weight_fraction: 0.9,
        },
        search_space: SearchSpace {
            parameters: vec![Parameter::Temperature {
                name: "T".into(),
                low: 600.0,
                high: 950.0,
            }],
        },
        budget: Budget {
            max_experiments: budget,
        },
        planner: PlannerSpec {
            kind: "random".into(),
            seed: Some(1),
            options: Default::default(),
        },
        limits: SafetyLimits {
            max_temperature_c: 1000.0,
            max_ramp_c_per_min: 10.0,
            max_duration_min: None,
            allowed_atmospheres: vec![],
        },
    }
}

// ---------------------------------------------------------------------------------------------
// `athanor bench http`

#[derive(Debug, Args)]
pub struct HttpArgs {
    /// Base URL of a running daemon, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Bearer token (viewer is enough with --path; operator without, to create the campaign).
    #[arg(long, env = "ATHANOR_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Requests per second, sent on a fixed schedule whatever the answers do.
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds measured.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seconds at the same rate before measuring (connections, caches); not counted.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// The path to GET; without it, a campaign is created through the API and read back.
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// Most requests in flight (and keep-alive connections); later ones wait, and the wait counts.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: u32,
    /// A request not answered within this many seconds counts as an error.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct HttpReport {
    url: String,
    requested_rate_per_s: f64,
    duration_s: f64,
    connections: u32,
    sent: usize,
    ok: usize,
    errors: usize,
    /// Error kinds with their counts (status codes, timeouts, connection failures).
    error_kinds: Vec<(String, usize)>,
    /// Successful answers per second, from the first scheduled send to the last answer.
    achieved_rate_per_s: f64,
    /// From the moment the request was due to the end of its answer: includes any queueing,
    /// so a stall of the server shows in full (no coordinated omission).
    latency: Summary,
    /// From the moment the request was actually sent to the end of its answer.
    service_time: Summary,
    /// How late the load generator sent requests against their schedule.
    send_lag: Summary,
}

#[derive(Debug)]
struct Sample {
    latency: Duration,
    service: Duration,
    lag: Duration,
    outcome: Result<(), String>,
    done: Instant,
}

fn run_http(args: HttpArgs) -> anyhow::Result<ExitCode> {
    for (name, value) in [
        ("--rate", args.rate),
        ("--duration", args.duration),
        ("--timeout", args.timeout),
    ] {
        if !(value.is_finite() && value > 0.0) {
            bail!("{name} must be a positive number");
        }
    }
    if !(args.warmup.is_finite() && args.warmup >= 0.0) {
        bail!("--warmup must be zero or a positive number of seconds");
    }
    let base = reqwest::Url::parse(&args.url)
        .map_err(|e| anyhow!("--url {:?} is not a URL: {e}", args.url))?;
    if base.scheme() != "http" {
        bail!("--url must be http://… (this build speaks plain HTTP only)");
    }
    // The load generator keeps to one thread for the requests and one for the schedule, so it
    // takes as little as possible from the daemon it measures.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(args.connections as usize)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs_f64(args.timeout))
            .build()?;
        let path = match &args.path {
            Some(p) => p.clone(),
            None => create_campaign(&client, &base, &args.token).await?,
        };
        let target = base
            .join(&path)
            .map_err(|e| anyhow!("--path {path:?} does not make a URL: {e}"))?;
        // One request first, so a wrong token or path is a clear error rather than 100% errors.
        let probe = client
            .get(target.clone())
            .bearer_auth(&args.token)
            .send()
            .await
            .with_context(|| format!("cannot reach {target}"))?;
        if !probe.status().is_success() {
            let status = probe.status();
            let body = probe.text().await.unwrap_or_default();
            bail!("GET {target} answered {status}: {body}");
        }
        let load = Load {
            client,
            target: target.clone(),
            token: Arc::from(args.token.as_str()),
            rate: args.rate,
            connections: args.connections as usize,
        };
        if args.warmup > 0.0 {
            load.run(args.warmup).await?;
        }
        let (samples, first_due) = load.run(args.duration).await?;
        let report = http_report(&args, target.to_string(), samples, first_due);
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_http(&report);
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Creates a campaign through the API and returns the path that reads it.
async fn create_campaign(
    client: &reqwest::Client,
    base: &reqwest::Url,
    token: &str,
) -> anyhow::Result<String> {
    let url = base.join("/api/v1/campaigns")?;
    let spec = campaign_spec(100);
    let answer = client
        .post(url.clone())
        .bearer_auth(token)
        .json(&spec)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = answer.status();
    if !status.is_success() {
        let body = answer.text().await.unwrap_or_default();
        bail!("creating a campaign answered {status} (the token must be operator or admin without --path): {body}");
    }
    let body: serde_json::Value = answer.json().await?;
    let id = body
        .get("id")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| anyhow!("the created campaign has no id: {body}"))?;
    Ok(format!("/api/v1/campaigns/{id}"))
}

/// An open-loop load: request k is due at start + k / rate, whatever happened to the others.
#[derive(Debug, Clone)]
struct Load {
    client: reqwest::Client,
    target: reqwest::Url,
    token: Arc<str>,
    rate: f64,
    connections: usize,
}

impl Load {
    /// Sends `rate × seconds` requests on schedule and returns every sample with the first due time.
    async fn run(&self, seconds: f64) -> anyhow::Result<(Vec<Sample>, Instant)> {
        let total = (self.rate * seconds).round().max(1.0) as usize;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Sample>();
        let in_flight = Arc::new(tokio::sync::Semaphore::new(self.connections));
        let handle = tokio::runtime::Handle::current();
        let start = Instant::now() + Duration::from_millis(20);
        let load = self.clone();
        // The schedule runs on its own thread: an OS sleep wakes within tens of microseconds,
        // where the runtime's timer has millisecond ticks that would blur the figures.
        let dispatcher = std::thread::Builder::new()
            .name("bench-schedule".into())
            .spawn(move || {
                for k in 0..total {
                    let due = start + Duration::from_secs_f64(k as f64 / load.rate);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let tx = tx.clone();
                    let in_flight = in_flight.clone();
                    let request = load
                        .client
                        .get(load.target.clone())
                        .bearer_auth(&*load.token);
                    handle.spawn(async move {
                        let sample = one_request(request, due, in_flight).await;
                        let _ = tx.send(sample);
                    });
                }
            })
            .context("cannot start the schedule thread")?;
        let mut samples = Vec::with_capacity(total);
        while samples.len() < total {
            match rx.recv().await {
                Some(s) => samples.push(s),
                None => break,
            }
        }
        dispatcher
            .join()
            .map_err(|_| anyhow!("the schedule thread panicked"))?;
        Ok((samples, start))
    }
}

async fn one_request(
    request: reqwest::RequestBuilder,
    due: Instant,
    in_flight: Arc<tokio::sync::Semaphore>,
) -> Sample {
    // Waiting for a free connection is part of the latency: it is measured from `due`.
    let permit = in_flight.acquire_owned().await;
    let sent = Instant::now();
    let outcome = match permit {
        Err(_) => Err("closed".to_owned()),
        Ok(_permit) => match request.send().await {
            Err(e) if e.is_timeout() => Err("timeout".to_owned()),
            Err(e) if e.is_connect() => Err("connect".to_owned()),
            Err(_) => Err("transport".to_owned()),
            Ok(answer) => {
                let status = answer.status();
                match answer.bytes().await {
                    Err(_) => Err("body".to_owned()),
                    Ok(_) if status.is_success() => Ok(()),
                    Ok(_) => Err(format!("HTTP {}", status.as_u16())),
                }
            }
        },
    };
    let done = Instant::now();
    Sample {
        latency: done.saturating_duration_since(due),
        service: done.saturating_duration_since(sent),
        lag: sent.saturating_duration_since(due),
        outcome,
        done,
    }
}

fn http_report(
    args: &HttpArgs,
    url: String,
    samples: Vec<Sample>,
    first_due: Instant,
) -> HttpReport {
    let sent = samples.len();
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    let mut latency = Vec::with_capacity(sent);
    let mut service = Vec::with_capacity(sent);
    let mut lag = Vec::with_capacity(sent);
    let mut last = first_due;
    for s in samples {
        last = last.max(s.done);
        lag.push(s.lag);
        match s.outcome {
            Ok(()) => {
                latency.push(s.latency);
                service.push(s.service);
            }
            Err(kind) => *kinds.entry(kind).or_default() += 1,
        }
    }
    let ok = latency.len();
    let span = last.saturating_duration_since(first_due).as_secs_f64();
    HttpReport {
        url,
        requested_rate_per_s: args.rate,
        duration_s: args.duration,
        connections: args.connections,
        sent,
        ok,
        errors: sent - ok,
        error_kinds: kinds.into_iter().collect(),
        achieved_rate_per_s: if span > 0.0 { ok as f64 / span } else { 0.0 },
        latency: Summary::of(latency),
        service_time: Summary::of(service),
        send_lag: Summary::of(lag),
    }
}

fn print_http(r: &HttpReport) {
    println!(
        "athanor bench http: GET {} at {} req/s for {} s, at most {} in flight",
        r.url, r.requested_rate_per_s, r.duration_s, r.connections
    );
    println!(
        "sent {}, ok {}, errors {}{}; achieved {:.1} ok/s",
        r.sent,
        r.ok,
        r.errors,
        if r.error_kinds.is_empty() {
            String::new()
        } else {
            let kinds: Vec<String> = r
                .error_kinds
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect();
            format!(" ({})", kinds.join(", "))
        },
        r.achieved_rate_per_s
    );
    println!(
        "{:<30} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "", "mean ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
    );
    for (label, s) in [
        ("latency (from scheduled time)", &r.latency),
        ("service time (from send)", &r.service_time),
        ("send lag (generator)", &r.send_lag),
    ] {
        println!(
            "{:<30} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            label, s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.p999_ms, s.max_ms
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Shared by `bench simulate` and `bench profile`: repeated timings of one pure computation.

/// Runs `f` once untimed (warm-up: caches, page faults), then `n` times timed.
fn time_runs<T>(n: u32, mut f: impl FnMut() -> T) -> Vec<Duration> {
    std::hint::black_box(f());
    (0..n)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect()
}

/// The best and the median of a set of timings, in milliseconds (the median of an even count
/// is the mean of the middle two).
#[derive(Debug, Clone, Copy, Serialize)]
struct Timing {
    best_ms: f64,
    median_ms: f64,
}

impl Timing {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let n = samples.len();
        if n == 0 {
            return Self {
                best_ms: 0.0,
                median_ms: 0.0,
            };
        }
        let median = if n % 2 == 1 {
            ms(samples[n / 2])
        } else {
            (ms(samples[n / 2 - 1]) + ms(samples[n / 2])) / 2.0
        };
        Self {
            best_ms: ms(samples[0]),
            median_ms: median,
        }
    }
}

/// A 2θ range written MIN:MAX in degrees, 0 ≤ MIN < MAX ≤ 180.
fn parse_two_theta(text: &str) -> anyhow::Result<(f64, f64)> {
    let Some((a, b)) = text.split_once(':') else {
        bail!("--two-theta '{text}': expected MIN:MAX in degrees, e.g. 10:90");
    };
    let parse = |s: &str| -> anyhow::Result<f64> {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .with_context(|| format!("--two-theta '{text}': '{s}' is not a number"))
    };
    let (min, max) = (parse(a)?, parse(b)?);
    if !(0.0 <= min && min < max && max <= 180.0) {
        bail!("--two-theta '{text}': need 0 <= MIN < MAX <= 180");
    }
    Ok((min, max))
}

/// (id, CIF text) of every structure: the built-in library in manifest order, or the `.cif`
/// files of a directory in file-name order (id: the file name without `.cif`).
fn library_cifs(spec: &str) -> anyhow::Result<Vec<(String, String)>> {
    if spec == "builtin" {
        return Ok(athanor_xrd::library::entries()
            .into_iter()
            .map(|e| (e.id().to_owned(), e.cif.to_owned()))
            .collect());
    }
    let dir = Path::new(spec);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("--library {spec}: not `builtin` and not a readable directory"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("cif")))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("--library {spec}: no .cif files in that directory");
    }
    files
        .into_iter()
        .map(|p| {
            let bytes =
                std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            let id = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok((id, String::from_utf8_lossy(&bytes).into_owned()))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// `athanor bench simulate`

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The structures: `builtin` (the embedded reference library) or a directory of .cif files.
    #[arg(long, default_value = "builtin", value_name = "builtin|DIR")]
    pub library: String,
    /// 2θ range in degrees, MIN:MAX.
    #[arg(long = "two-theta", default_value = "10:90", value_name = "MIN:MAX")]
    pub two_theta: String,
    /// Radiation: a tube line (CuKa, CuKa1, MoKa, …) or a wavelength in Å.
    #[arg(long, default_value = "CuKa")]
    pub wavelength: String,
    /// Timed simulations of each structure, after one untimed warm-up; the best and the median
    /// are reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub repeat: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One structure of `bench simulate`.
#[derive(Debug, Serialize)]
struct SimulateRow {
    id: String,
    formula: Option<String>,
    /// Atomic positions in the cell the CIF describes.
    sites: Option<usize>,
    /// Peaks of the stick pattern.
    peaks: Option<usize>,
    /// Reading the CIF text into structures, once.
    parse_ms: f64,
    /// Stick simulation of the first structure of the file.
    simulate: Option<Timing>,
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct SimulateReport {
    library: String,
    radiation: String,
    wavelength: f64,
    two_theta: [f64; 2],
    /// The simulation options: those of the pymatgen agreement test.
    mode: &'static str,
    threads: u32,
    repeat: u32,
    structures: usize,
    failures: usize,
    parse_total_ms: f64,
    /// Sums over the structures that simulated.
    simulate_total_best_ms: f64,
    simulate_total_median_ms: f64,
    results: Vec<SimulateRow>,
}

fn run_simulate(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    let (min, max) = parse_two_theta(&args.two_theta)?;
    let radiation = athanor_xrd::Radiation::parse(&args.wavelength).context("--wavelength")?;
    let options = SimulationOptions::pymatgen(radiation.wavelength).with_range(min, max);
    let cifs = library_cifs(&args.library)?;

    // Every file is read once, first, so that simulation timings never include parsing.
    let mut parsed = Vec::with_capacity(cifs.len());
    for (id, text) in &cifs {
        let t = Instant::now();
        let structures = athanor_xrd::cif::read_structures(text);
        parsed.push((id.clone(), t.elapsed(), structures));
    }

    let mut results = Vec::with_capacity(parsed.len());
    for (id, parse, structures) in parsed {
        let mut row = SimulateRow {
            id,
            formula: None,
            sites: None,
            peaks: None,
            parse_ms: parse.as_secs_f64() * 1e3,
            simulate: None,
            error: None,
        };
        let structure = match structures {
            Ok(s) => s.into_iter().next(),
            Err(e) => {
                row.error = Some(format!("CIF: {e}"));
                results.push(row);
                continue;
            }
        };
        let Some(structure) = structure else {
            row.error = Some("the CIF holds no structure".into());
            results.push(row);
            continue;
        };
        row.formula = Some(structure.reduced_formula());
        row.sites = Some(structure.position_count());
        match simulate(&structure, &options) {
            Ok(peaks) => {
                row.peaks = Some(peaks.len());
                let samples = time_runs(args.repeat, || simulate(&structure, &options));
                row.simulate = Some(Timing::of(samples));
            }
            Err(e) => row.error = Some(format!("simulation: {e}")),
        }
        results.push(row);
    }

    let timed: Vec<Timing> = results.iter().filter_map(|r| r.simulate).collect();
    let report = SimulateReport {
        library: args.library.clone(),
        radiation: radiation.name.clone(),
        wavelength: radiation.wavelength,
        two_theta: [min, max],
        mode:
            "pymatgen: pymatgen scattering table, no Debye-Waller factor, no anomalous dispersion",
        threads: 1,
        repeat: args.repeat,
        structures: results.len(),
        failures: results.iter().filter(|r| r.error.is_some()).count(),
        parse_total_ms: results.iter().map(|r| r.parse_ms).sum(),
        simulate_total_best_ms: timed.iter().map(|t| t.best_ms).sum(),
        simulate_total_median_ms: timed.iter().map(|t| t.median_ms).sum(),
        results,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_simulate(&report);
    }
    Ok(if report.failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_simulate(r: &SimulateReport) {
    println!(
        "athanor bench simulate: {} structures ({}), {} = {} Å, 2θ {}–{}°, {}; one thread, \
         best and median of {} after a warm-up",
        r.structures,
        r.library,
        r.radiation,
        r.wavelength,
        r.two_theta[0],
        r.two_theta[1],
        r.mode,
        r.repeat
    );
    println!(
        "{:<36} {:>6} {:>6} {:>9} {:>9} {:>9}",
        "structure", "sites", "peaks", "parse ms", "best ms", "median ms"
    );
    for row in &r.results {
        let opt = |v: Option<usize>| v.map_or_else(|| "-".to_owned(), |n| n.to_string());
        match (&row.simulate, &row.error) {
            (Some(t), _) => println!(
                "{:<36} {:>6} {:>6} {:>9.3} {:>9.3} {:>9.3}",
                row.id,
                opt(row.sites),
                opt(row.peaks),
                row.parse_ms,
                t.best_ms,
                t.median_ms
            ),
            (None, error) => println!(
                "{:<36} {:>6} {:>6} {:>9.3}  error: {}",
                row.id,
                opt(row.sites),
                opt(row.peaks),
                row.parse_ms,
                error.as_deref().unwrap_or("?")
            ),
        }
    }
    println!(
        "total: parse {:.1} ms; simulate {:.1} ms (sum of medians), {:.1} ms (sum of bests); \
         {} failed",
        r.parse_total_ms, r.simulate_total_median_ms, r.simulate_total_best_ms, r.failures
    );
}

// ---------------------------------------------------------------------------------------------
// `athanor bench profile`

/// The phases `bench profile` renders unless told otherwise: a simple cubic structure, a spinel,
/// and the low-symmetry library entry with the most reflections in 10–90° (Cu Kα).
const DEFAULT_PROFILE_PHASES: &str = "NaCl_225,LiMn2O4_227,Mg(NO3)2(H2O)6_14";

#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Points of the 2θ grid, evenly spaced over --two-theta.
    #[arg(long, default_value_t = 8000, value_parser = clap::value_parser!(u32).range(2..=10_000_000))]
    pub points: u32,
    /// 2θ range of the grid in degrees, MIN:MAX (sticks are simulated 5° beyond it either side).
    #[arg(long = "two-theta", default_value = "10:90", value_name = "MIN:MAX")]
    pub two_theta: String,
    /// The phases whose reflections are rendered: library entry ids, comma-separated, or `all`
    /// for every entry of the library.
    #[arg(long, value_delimiter = ',', default_value = DEFAULT_PROFILE_PHASES, value_name = "ID,…|all")]
    pub reflections: Vec<String>,
    /// Instrument profile: a built-in name or an instrument TOML file.
    #[arg(long, default_value = "bragg-brentano-cu")]
    pub instrument: String,
    /// Crystallite size, nm (Scherrer broadening).
    #[arg(long, default_value_t = 50.0)]
    pub size_nm: f64,
    /// Microstrain ε (strain broadening 4ε tanθ).
    #[arg(long, default_value_t = 5e-4)]
    pub microstrain: f64,
    /// Scale: stick intensities (strongest 100) times this are integrated counts·degree.
    #[arg(long, default_value_t = 100.0)]
    pub scale: f64,
    /// Timed renderings of each phase, after one untimed warm-up.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub repeat: u32,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One phase of `bench profile`.
#[derive(Debug, Serialize)]
struct ProfileRow {
    id: String,
    formula: String,
    space_group: Option<String>,
    /// Reflections (merged sticks) rendered.
    reflections: usize,
    /// Peaks drawn: reflections × emission lines.
    peaks_drawn: usize,
    /// Stick simulation (Waasmaier–Kirfel with dispersion and displacement), not part of
    /// the rendering.
    simulate: Timing,
    /// `profile::render`: one phase on the grid, no background, no noise.
    render: Timing,
}

#[derive(Debug, Serialize)]
struct ProfileReport {
    instrument: Option<String>,
    wavelengths: Vec<f64>,
    alpha2_ratio: f64,
    points: usize,
    two_theta: [f64; 2],
    step: f64,
    window_fwhm: f64,
    crystallite_size_nm: f64,
    microstrain: f64,
    scale: f64,
    threads: u32,
    repeat: u32,
    phases: Vec<ProfileRow>,
    /// The slowest phase by median render time.
    worst_phase: Option<String>,
    worst_render_median_ms: f64,
    phases_at_or_over_1_ms: usize,
    /// Adding a 6-term Chebyshev background over the grid.
    background: Timing,
    /// Poisson counting noise over the first phase's pattern.
    noise: Timing,
}

fn load_instrument(spec: &str) -> anyhow::Result<InstrumentProfile> {
    let path = Path::new(spec);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading instrument profile {spec}"))?;
        InstrumentProfile::from_toml(&text).with_context(|| format!("instrument profile {spec}"))
    } else {
        InstrumentProfile::builtin(spec).context("--instrument")
    }
}

fn run_profile(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    let (min, max) = parse_two_theta(&args.two_theta)?;
    if min <= 0.0 || max >= 180.0 {
        bail!("--two-theta: the grid must lie strictly inside 0–180°");
    }
    for (name, value, positive) in [
        ("--size-nm", args.size_nm, true),
        ("--microstrain", args.microstrain, false),
        ("--scale", args.scale, true),
    ] {
        if !(value.is_finite() && (value > 0.0 || (!positive && value == 0.0))) {
            bail!("{name} {value}: must be a finite, positive number");
        }
    }
    let instrument = load_instrument(&args.instrument)?;
    let lines = {
        let mut l = vec![instrument.wavelength_angstrom];
        if instrument.alpha2_ratio > 0.0 {
            l.extend(instrument.wavelength_alpha2_angstrom);
        }
        l
    };
    let n = args.points as usize;
    let step = (max - min) / (n - 1) as f64;
    let grid: Vec<f64> = (0..n).map(|i| min + i as f64 * step).collect();
    let sample = SampleEffects {
        scale: args.scale,
        crystallite_size_nm: Some(args.size_nm),
        microstrain: args.microstrain,
        ..SampleEffects::default()
    };
    // Sticks as `athanor xrd simulate --profile` computes them: at the Kα1 wavelength, a little
    // beyond the grid so that the tails of peaks just outside it are drawn.
    let options = SimulationOptions::new(instrument.wavelength_angstrom)
        .with_range((min - 5.0).max(0.0), (max + 5.0).min(180.0));

    let entries = athanor_xrd::library::entries();
    let wanted: Vec<&athanor_xrd::library::LibraryEntry> =
        if args.reflections.iter().any(|r| r == "all") {
            entries.iter().collect()
        } else {
            args.reflections
                .iter()
                .map(|id| {
                    entries
                        .iter()
                        .find(|e| e.id() == id || e.file == id)
                        .with_context(|| format!("--reflections: no library entry '{id}'"))
                })
                .collect::<anyhow::Result<_>>()?
        };

    let mut phases = Vec::with_capacity(wanted.len());
    let mut first_pattern: Option<Vec<f64>> = None;
    for entry in wanted {
        let structure = athanor_xrd::cif::read_structures(entry.cif)
            .with_context(|| entry.id().to_owned())?
            .into_iter()
            .next()
            .with_context(|| format!("{}: no structure", entry.id()))?;
        let sticks = simulate(&structure, &options).with_context(|| entry.id().to_owned())?;
        let sim = Timing::of(time_runs(args.repeat.min(20), || {
            simulate(&structure, &options)
        }));
        let draw = || render(&sticks, &structure.lattice, &instrument, &sample, &grid);
        let pattern = draw().with_context(|| entry.id().to_owned())?;
        if first_pattern.is_none() {
            first_pattern = Some(pattern.intensity().to_vec());
        }
        let timing = Timing::of(time_runs(args.repeat, draw));
        phases.push(ProfileRow {
            id: entry.id().to_owned(),
            formula: structure.reduced_formula(),
            space_group: structure.space_group.symbol.clone(),
            reflections: sticks.len(),
            peaks_drawn: sticks.len() * lines.len(),
            simulate: sim,
            render: timing,
        });
    }

    let background =
        ChebyshevBackground::over_grid(&grid, vec![200.0, -80.0, 30.0, -10.0, 4.0, -1.0])?;
    let mut buffer = first_pattern.unwrap_or_else(|| vec![0.0; n]);
    let expected = buffer.clone();
    let background_timing = Timing::of(time_runs(args.repeat, || {
        background.add_to(&grid, &mut buffer);
    }));
    let noise_timing = Timing::of(time_runs(args.repeat.min(50), || {
        counting_noise(&expected, 1)
    }));

    let worst = phases
        .iter()
        .max_by(|a, b| a.render.median_ms.total_cmp(&b.render.median_ms));
    let report = ProfileReport {
        instrument: instrument.id.clone(),
        wavelengths: lines,
        alpha2_ratio: instrument.alpha2_ratio,
        points: n,
        two_theta: [min, max],
        step,
        window_fwhm: DEFAULT_WINDOW_FWHM,
        crystallite_size_nm: args.size_nm,
        microstrain: args.microstrain,
        scale: args.scale,
        threads: 1,
        repeat: args.repeat,
        worst_phase: worst.map(|w| w.id.clone()),
        worst_render_median_ms: worst.map_or(0.0, |w| w.render.median_ms),
        phases_at_or_over_1_ms: phases.iter().filter(|p| p.render.median_ms >= 1.0).count(),
        phases,
        background: background_timing,
        noise: noise_timing,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_profile(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_profile(r: &ProfileReport) {
    let lines: Vec<String> = r.wavelengths.iter().map(|w| format!("{w} Å")).collect();
    println!(
        "athanor bench profile: {} points over 2θ {}–{}° (step {:.5}°), instrument {} ({}, Kα2 \
         ratio {}), size {} nm, microstrain {}, window ±{} FWHM; one thread, best and median of \
         {} after a warm-up",
        r.points,
        r.two_theta[0],
        r.two_theta[1],
        r.step,
        r.instrument.as_deref().unwrap_or("(unnamed)"),
        lines.join(" + "),
        r.alpha2_ratio,
        r.crystallite_size_nm,
        r.microstrain,
        r.window_fwhm,
        r.repeat
    );
    println!(
        "{:<28} {:<12} {:>6} {:>6} {:>11} {:>11} {:>12}",
        "phase", "space group", "refl", "peaks", "render best", "render med", "sticks med"
    );
    for p in &r.phases {
        println!(
            "{:<28} {:<12} {:>6} {:>6} {:>8.3} ms {:>8.3} ms {:>9.3} ms",
            p.id,
            p.space_group.as_deref().unwrap_or("?"),
            p.reflections,
            p.peaks_drawn,
            p.render.best_ms,
            p.render.median_ms,
            p.simulate.median_ms
        );
    }
    if let Some(worst) = &r.worst_phase {
        println!(
            "slowest phase: {worst}, {:.3} ms (median); {} of {} phases at or over 1 ms",
            r.worst_render_median_ms,
            r.phases_at_or_over_1_ms,
            r.phases.len()
        );
    }
    println!(
        "not part of a phase: background (6 Chebyshev terms) {:.3} ms, counting noise {:.3} ms \
         (medians)",
        r.background.median_ms, r.noise.median_ms
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = Summary::of(samples);
        assert_eq!(s.count, 100);
        assert!((s.p50_ms - 50.0).abs() < 1e-9);
        assert!((s.p99_ms - 99.0).abs() < 1e-9);
        assert!((s.max_ms - 100.0).abs() < 1e-9);
        assert!((s.mean_ms - 50.5).abs() < 1e-9);
        assert_eq!(Summary::of(Vec::new()).p99_ms, 0.0);
    }

    #[test]
    fn timings_report_the_best_and_the_median() {
        let t = Timing::of([5, 1, 3].map(Duration::from_millis).to_vec());
        assert!((t.best_ms - 1.0).abs() < 1e-9);
        assert!((t.median_ms - 3.0).abs() < 1e-9);
        let t = Timing::of([4, 1, 2, 8].map(Duration::from_millis).to_vec());
        assert!((t.median_ms - 3.0).abs() < 1e-9);
        assert_eq!(Timing::of(Vec::new()).median_ms, 0.0);
    }

    #[test]
    fn two_theta_ranges_are_checked() {
        assert_eq!(parse_two_theta("10:90").unwrap(), (10.0, 90.0));
        assert_eq!(parse_two_theta(" 5 : 60.5").unwrap(), (5.0, 60.5));
        for bad in ["90:10", "10", "a:90", "0:181", "-1:20"] {
            assert!(parse_two_theta(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_default_profile_phases_are_library_entries() {
        for id in DEFAULT_PROFILE_PHASES.split(',') {
            assert!(athanor_xrd::library::find(id).is_some(), "{id}");
        }
        assert!(library_cifs("builtin").unwrap().len() > 100);
        assert!(library_cifs("/no/such/directory").is_err());
    }

    #[test]
    fn the_benchmark_campaign_is_valid() {
        campaign_spec(1).validate().unwrap();
        campaign_spec(100_000).validate().unwrap();
    }
}
