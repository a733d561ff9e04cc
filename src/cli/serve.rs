//! `athanor serve`: the daemon.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use tokio_util::sync::CancellationToken;

use athanor_api::{AppState, AuthMode};

use crate::cli::daemon::{open_store, runtime, DaemonArgs};
use crate::config::Overrides;
use crate::instrument_layer::{HostedLab, InstrumentLayer};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// Address and port of the HTTP API (port 0 picks a free one; the address is logged).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Log one JSON object per line instead of readable text.
    #[arg(long)]
    pub log_json: bool,
    /// Address and port of the embedded MQTT broker (default 127.0.0.1:1883; port 0 picks a
    /// free one). Only with no external broker (`mqtt.url`) configured.
    #[arg(long, value_name = "ADDR:PORT")]
    pub mqtt_listen: Option<String>,
    #[command(flatten)]
    pub sim: HostedSimArgs,
}

/// Hosting the simulated lab in the daemon.
#[derive(Debug, Args)]
pub struct HostedSimArgs {
    /// Host the simulated lab of this world file in-process (its instruments replace the
    /// configured ones, and the daemon runs on the lab's clock).
    #[arg(long = "sim", value_name = "WORLD.toml")]
    pub world: Option<PathBuf>,
    /// The simulated lab's instruments and faults.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "config/sim/lab.toml",
        requires = "world"
    )]
    pub lab: PathBuf,
    /// How many times faster than the wall clock the lab (and the daemon) run.
    #[arg(long, value_name = "N", default_value_t = 1.0, requires = "world")]
    pub speed: f64,
    /// Seed of every random draw in the lab (sample scatter, noise, faults).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "world")]
    pub seed: u64,
}

impl HostedSimArgs {
    pub fn hosted(&self) -> anyhow::Result<Option<HostedLab>> {
        let Some(world) = &self.world else {
            return Ok(None);
        };
        if !(self.speed.is_finite() && (1e-3..=1e6).contains(&self.speed)) {
            anyhow::bail!("--speed {} must lie between 0.001 and 1000000", self.speed);
        }
        Ok(Some(HostedLab {
            world: world.clone(),
            lab: self.lab.clone(),
            speed: self.speed,
            seed: self.seed,
        }))
    }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = args.daemon.load_with(Overrides {
        listen: args.listen.clone(),
        log_json: args.log_json,
        mqtt_listen: args.mqtt_listen.clone(),
        ..Overrides::default()
    })?;
    let hosted = args.sim.hosted()?;
    crate::logging::init(&config.log);
    runtime()?.block_on(async move {
        let store = open_store(&config).await?;
        tracing::info!(backend = ?store.backend(), data_dir = %config.storage.data_dir.display(), "store ready");
        let auth = if config.auth.enabled {
            if store.list_tokens().await?.iter().all(|t| t.revoked_at.is_some()) {
                tracing::warn!("no API token exists yet: create one with `athanor token create --role admin --name NAME`");
            }
            AuthMode::Required
        } else {
            tracing::warn!("AUTHENTICATION IS OFF: anyone who can reach {} acts as an admin", config.server.listen);
            AuthMode::Disabled
        };
        let listener = tokio::net::TcpListener::bind(config.listen_addr()?).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let instruments = InstrumentLayer::start(&config, &store, &shutdown, hosted.as_ref()).await?;
        tracing::info!(%addr, "listening on http://{addr}");
        let state = AppState::new(store.clone(), auth, config.server.max_body_bytes, shutdown.clone());
        tokio::spawn(wait_for_signal(shutdown.clone()));
        let server = tokio::spawn(athanor_api::serve(listener, state, Duration::from_secs(config.server.request_timeout_secs)));
        shutdown.cancelled().await;
        tracing::info!("shutting down: finishing in-flight requests");
        let grace = Duration::from_secs(config.server.shutdown_grace_secs);
        match tokio::time::timeout(grace, server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error"),
            Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
            Err(_) => tracing::warn!(?grace, "requests still running after the grace period; exiting anyway"),
        }
        instruments.stop().await;
        store.close().await;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
async fn wait_for_signal(shutdown: CancellationToken) {
    signalled().await;
    shutdown.cancel();
}

/// Returns on SIGINT or SIGTERM.
pub async fn signalled() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
