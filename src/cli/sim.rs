//! `athanor sim`: the simulated lab as its own process, against a running daemon's broker (or
//! one it hosts): furnace controllers on ptys, MQTT controllers for the diffractometer, the
//! deposition tool and the sample handler. It prints where each instrument is and, with
//! `--instruments-out`, writes the daemon's instrument files for them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use athanor_drivers::instrument::{InstrumentConfig, Transport};
use athanor_sim::serve::{BrokerAddr, BrokerChoice, LabFiles, SimLab, SimOptions};
use athanor_sim::{SimClock, World};

use crate::cli::daemon::runtime;

#[derive(Debug, Args)]
pub struct SimArgs {
    /// The materials world (config/worlds/NAME.toml, or any world file).
    #[arg(long, value_name = "FILE")]
    pub world: PathBuf,
    /// The lab's instruments and faults.
    #[arg(long, value_name = "FILE", default_value = "config/sim/lab.toml")]
    pub lab: PathBuf,
    /// The broker the daemon uses (mqtt://HOST:PORT); the default is the daemon's embedded one.
    #[arg(
        long,
        value_name = "URL",
        default_value = "mqtt://127.0.0.1:1883",
        conflicts_with = "host_broker"
    )]
    pub broker: String,
    /// Run an MQTT broker here instead (the daemon then uses it as mqtt.url); only with a
    /// hosted broker can the `broker_restart` fault restart it.
    #[arg(long, value_name = "ADDR:PORT")]
    pub host_broker: Option<SocketAddr>,
    /// How many times faster than the wall clock the lab runs. A daemon in another process keeps
    /// the wall clock, so use 1 there, or host the lab in the daemon (`athanor serve --sim`).
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub speed: f64,
    /// Seed of every random draw (sample scatter, counting noise, faults).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Append every executed action to this file (JSON lines).
    #[arg(long, value_name = "FILE", default_value = "data/sim/actions.jsonl")]
    pub action_log: PathBuf,
    /// Write the daemon's instrument files for the lab into this directory.
    #[arg(long, value_name = "DIR")]
    pub instruments_out: Option<PathBuf>,
}

/// host:port of an mqtt:// URL.
fn broker_addr(url: &str) -> anyhow::Result<BrokerAddr> {
    let rest = url
        .strip_prefix("mqtt://")
        .with_context(|| format!("--broker {url}: expected mqtt://HOST:PORT"))?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
    let port = port
        .parse()
        .with_context(|| format!("--broker {url}: `{port}` is not a port"))?;
    Ok(BrokerAddr {
        host: host.to_owned(),
        port,
        credentials: None,
    })
}

/// An instrument file for the daemon (`instruments.dir`).
fn instrument_file(c: &InstrumentConfig) -> anyhow::Result<String> {
    let mut t = toml::Table::new();
    t.insert("id".into(), c.id.as_str().into());
    t.insert("class".into(), toml::Value::try_from(c.class)?);
    t.insert("name".into(), c.name.clone().into());
    if let Some(tr) = &c.transport {
        t.insert("transport".into(), toml::Value::try_from(tr)?);
    }
    t.insert("limits".into(), toml::Value::try_from(&c.limits)?);
    if let (Some(Transport::Serial(_)), Some(map)) = (&c.transport, &c.register_map) {
        t.insert("register_map".into(), toml::Value::Table(map.clone()));
    }
    Ok(format!(
        "# Written by `athanor sim`: the daemon's side of a simulated instrument.\n{}",
        toml::to_string(&t)?
    ))
}

pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    crate::logging::init(&crate::config::LogConfig::default());
    if !(args.speed.is_finite() && (1e-3..=1e6).contains(&args.speed)) {
        anyhow::bail!("--speed {} must lie between 0.001 and 1000000", args.speed);
    }
    let text = std::fs::read_to_string(&args.world)
        .with_context(|| format!("world file {}", args.world.display()))?;
    let world =
        World::from_toml(&text).with_context(|| format!("world file {}", args.world.display()))?;
    let files = LabFiles::read(&args.lab)?;
    let broker = match args.host_broker {
        Some(addr) => BrokerChoice::Hosted(addr),
        None => BrokerChoice::External(broker_addr(&args.broker)?),
    };
    if let Some(dir) = args
        .action_log
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    runtime()?.block_on(async move {
        let clock = SimClock::new(args.speed);
        let lab = SimLab::start(
            world,
            files,
            SimOptions {
                speed: args.speed,
                seed: args.seed,
                broker,
                action_log: Some(args.action_log.clone()),
            },
            clock,
        )
        .await?;
        println!(
            "simulated lab of world {} (speed {}, seed {}); MQTT broker {}:{}",
            args.world.display(),
            args.speed,
            args.seed,
            lab.broker.host,
            lab.broker.port
        );
        for f in &lab.furnaces {
            println!("furnace {}: Modbus RTU on {}", f.id, f.port);
        }
        for c in lab.instrument_configs() {
            if matches!(c.transport, Some(Transport::Mqtt(_))) {
                println!("{:?} {}: MQTT controller", c.class, c.id);
            }
        }
        println!("actions are logged to {}", args.action_log.display());
        if let Some(dir) = &args.instruments_out {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
            for c in lab.instrument_configs() {
                let path = dir.join(format!("{}.toml", c.id));
                std::fs::write(&path, instrument_file(c)?)
                    .with_context(|| format!("{}", path.display()))?;
            }
            println!(
                "instrument files for the daemon in {} (instruments.dir)",
                dir.display()
            );
        }
        crate::cli::serve::signalled().await;
        lab.stop().await;
        println!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}
