//! `athanor bench …`: store throughput (campaign creation, experiment state transitions) on a
//! fresh SQLite or PostgreSQL database, and open-loop HTTP GET latency against a running daemon.
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

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Campaign creation and experiment state-transition throughput on a fresh database.
    Store(StoreArgs),
    /// GET latency under a fixed arrival rate against a running `athanor serve`.
    Http(HttpArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCommand::Store(args) => run_store(args),
        BenchCommand::Http(args) => run_http(args),
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
    fn the_benchmark_campaign_is_valid() {
        campaign_spec(1).validate().unwrap();
        campaign_spec(100_000).validate().unwrap();
    }
}
