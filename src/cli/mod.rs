//! Command-line interface: one subcommand per job, each in its own module.

pub mod bench;
pub mod daemon;
pub mod instrument;
pub mod migrate;
pub mod planner_bench;
pub mod serve;
pub mod sim;
pub mod token;
pub mod world_bench;
pub mod xrd;
pub mod xrd_bench;
pub mod xrd_identify;

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
    /// Run the daemon: the HTTP API on the configured store.
    Serve(serve::ServeArgs),
    /// Run the simulated lab (furnaces on ptys, MQTT instrument controllers) against a daemon.
    Sim(sim::SimArgs),
    /// Apply database migrations and exit.
    Migrate(migrate::MigrateArgs),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// The lab's instruments: list, status, telemetry.
    #[command(subcommand)]
    Instrument(instrument::InstrumentCommand),
    /// Benchmarks: store throughput, HTTP latency under load, pattern simulation and profiles, planners.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Powder diffraction: simulate patterns, convert pattern files, browse the reference library.
    #[command(subcommand)]
    Xrd(xrd::XrdCommand),
}

/// Runs one parsed command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Migrate(args) => migrate::run(args),
        Command::Token(cmd) => token::run(cmd),
        Command::Instrument(cmd) => instrument::run(cmd),
        Command::Bench(cmd) => bench::run(cmd),
        Command::Xrd(cmd) => xrd::run(cmd),
    }
}
