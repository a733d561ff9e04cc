//! Options shared by the commands that touch the daemon's configuration and database, and the
//! code that turns them into a loaded configuration and an open store.

use std::path::PathBuf;

use clap::Args;

use athanor_store::{ConnectOptions, Store};

use crate::config::{Config, Overrides};

#[derive(Debug, Args, Clone)]
pub struct DaemonArgs {
    /// Configuration file (TOML); see config/athanor.toml for every key and its default.
    #[arg(long, env = "ATHANOR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and other state.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://… to use PostgreSQL instead of the embedded SQLite database.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl DaemonArgs {
    /// Loads the configuration layers with these flags on top.
    pub fn load(&self, listen: Option<String>, log_json: bool) -> anyhow::Result<Config> {
        self.load_with(Overrides {
            listen,
            log_json,
            ..Overrides::default()
        })
    }

    /// Loads the configuration layers with these flags and the given daemon-only ones on top.
    pub fn load_with(&self, daemon_flags: Overrides) -> anyhow::Result<Config> {
        let flags = Overrides {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            ..daemon_flags
        };
        Ok(Config::load(
            self.config.as_deref(),
            std::env::vars(),
            &flags,
        )?)
    }
}

/// Opens (and migrates) the configured database.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let opts = ConnectOptions {
        url: config.storage.database_url.clone(),
        data_dir: config.storage.data_dir.clone(),
        max_connections: config.storage.max_connections,
        ..ConnectOptions::default()
    };
    Ok(Store::connect(&opts).await?)
}

/// A multi-threaded tokio runtime for the commands that need one.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
