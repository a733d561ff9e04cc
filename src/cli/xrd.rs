//! `athanor xrd …`: the characterization engine from the command line.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum XrdCommand {
    /// List the built-in reference library.
    Library,
}

/// Runs one `xrd` subcommand.
pub fn run(cmd: XrdCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        XrdCommand::Library => anyhow::bail!("the reference library is not built yet"),
    }
}
