//! `athanor migrate`: bring the database schema up to date and exit.

use std::process::ExitCode;

use clap::Args;

use crate::cli::daemon::{open_store, runtime, DaemonArgs};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

pub fn run(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let config = args.daemon.load(None, false)?;
    crate::logging::init(&config.log);
    runtime()?.block_on(async {
        // Connecting migrates; say so plainly for the operator.
        let store = open_store(&config).await?;
        println!("database schema is up to date ({:?})", store.backend());
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}
