//! Command-line interface: one subcommand per job, each in its own module.

pub mod xrd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Athanor runs the hypothesis → synthesis → characterization → model-update loop of a
/// self-driving materials lab.
#[derive(Debug, Parser)]
#[command(name = "athanor", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Powder diffraction: simulate patterns, convert pattern files, browse the reference library.
    #[command(subcommand)]
    Xrd(xrd::XrdCommand),
}

/// Runs one parsed command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Xrd(cmd) => xrd::run(cmd),
    }
}
