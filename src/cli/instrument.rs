//! `athanor instrument list|status ID|telemetry ID`: what the store knows of the lab's
//! instruments, read directly from the configured database (the daemon may be running).

use std::process::ExitCode;

use chrono::{DateTime, TimeDelta, Utc};
use clap::{Args, Subcommand};
use serde_json::json;

use athanor_core::{Instrument, InstrumentId};
use athanor_store::{PageRequest, Store, TelemetryRecord};

use crate::cli::daemon::{open_store, runtime, DaemonArgs};

#[derive(Debug, Subcommand)]
pub enum InstrumentCommand {
    /// Every registered instrument with its state.
    List(ListArgs),
    /// One instrument: state, limits, newest reading, unfinished commands.
    Status(StatusArgs),
    /// One instrument's telemetry in a time range, oldest first.
    Telemetry(TelemetryArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// The instrument's id.
    pub id: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TelemetryArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// The instrument's id.
    pub id: String,
    /// Start (inclusive), RFC 3339; default: one hour before --to.
    #[arg(long, value_name = "TIME")]
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive), RFC 3339; default: now.
    #[arg(long, value_name = "TIME")]
    pub to: Option<DateTime<Utc>>,
    /// Most readings printed.
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
    /// Print JSON instead of tab-separated lines.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: InstrumentCommand) -> anyhow::Result<ExitCode> {
    let daemon = match &cmd {
        InstrumentCommand::List(a) => &a.daemon,
        InstrumentCommand::Status(a) => &a.daemon,
        InstrumentCommand::Telemetry(a) => &a.daemon,
    };
    let config = daemon.load(None, false)?;
    runtime()?.block_on(async {
        let store = open_store(&config).await?;
        let out = match cmd {
            InstrumentCommand::List(a) => list(&store, a.json).await,
            InstrumentCommand::Status(a) => status(&store, &a).await,
            InstrumentCommand::Telemetry(a) => telemetry(&store, &a).await,
        };
        store.close().await;
        print!("{}", out?);
        Ok(ExitCode::SUCCESS)
    })
}

fn parse_id(id: &str) -> anyhow::Result<InstrumentId> {
    InstrumentId::parse(id).map_err(|e| anyhow::anyhow!("instrument id `{id}`: {e}"))
}

async fn all_instruments(store: &Store) -> anyhow::Result<Vec<Instrument>> {
    let mut all = Vec::new();
    let mut page = PageRequest::default();
    loop {
        let p = store.list_instruments(&page).await?;
        all.extend(p.items);
        match p.next_cursor {
            Some(c) => page.after = Some(c),
            None => return Ok(all),
        }
    }
}

async fn list(store: &Store, as_json: bool) -> anyhow::Result<String> {
    let all = all_instruments(store).await?;
    if as_json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&all)?));
    }
    if all.is_empty() {
        return Ok(
            "no instruments registered (the daemon registers those in instruments.dir at start)\n"
                .into(),
        );
    }
    let mut out = format!("{:<20} {:<16} {:<12} {}\n", "ID", "CLASS", "STATE", "NAME");
    for i in all {
        out += &format!(
            "{:<20} {:<16} {:<12} {}\n",
            i.id.as_str(),
            i.class.as_str(),
            i.state.as_str(),
            i.name
        );
    }
    Ok(out)
}

async fn status(store: &Store, a: &StatusArgs) -> anyhow::Result<String> {
    let id = parse_id(&a.id)?;
    let inst = store.get_instrument(&id).await?;
    let latest = store.latest_telemetry(&id).await?;
    let open = store.list_unfinished_commands(Some(&id)).await?;
    if a.json {
        let v = json!({
            "instrument": inst,
            "latest_telemetry": latest.as_ref().map(reading_json),
            "open_commands": open,
        });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut out = format!("{}  {}\n", inst.id.as_str(), inst.name);
    out += &format!("  class      {}\n", inst.class.as_str());
    out += &format!(
        "  state      {} (since {})\n",
        inst.state.as_str(),
        inst.updated_at.to_rfc3339()
    );
    out += &format!("  transport  {}\n", inst.transport);
    out += &format!("  limits     {}\n", serde_json::to_string(&inst.limits)?);
    match &latest {
        Some(r) => out += &format!("  telemetry  {} {}\n", r.at.to_rfc3339(), r.values),
        None => out += "  telemetry  none received\n",
    }
    if open.is_empty() {
        out += "  commands   none open\n";
    }
    for c in &open {
        out += &format!(
            "  command    {} {} {} (created {})\n",
            c.id,
            c.action,
            c.state.as_str(),
            c.created_at.to_rfc3339()
        );
    }
    Ok(out)
}

async fn telemetry(store: &Store, a: &TelemetryArgs) -> anyhow::Result<String> {
    let id = parse_id(&a.id)?;
    store.get_instrument(&id).await?;
    let to = a.to.unwrap_or_else(Utc::now);
    let from = a.from.unwrap_or(to - TimeDelta::hours(1));
    anyhow::ensure!(from <= to, "--from must not be after --to");
    let rows = store.telemetry_range(&id, from, to, a.limit).await?;
    if a.json {
        let v: Vec<_> = rows.iter().map(reading_json).collect();
        return Ok(format!("{}\n", serde_json::to_string_pretty(&v)?));
    }
    let mut out = String::from("AT\tSEQ\tSAMPLES\tVALUES\n");
    for r in &rows {
        out += &format!(
            "{}\t{}\t{}\t{}\n",
            r.at.to_rfc3339(),
            r.seq,
            r.samples,
            r.values
        );
    }
    Ok(out)
}

fn reading_json(r: &TelemetryRecord) -> serde_json::Value {
    json!({
        "at": r.at,
        "seq": r.seq,
        "samples": r.samples,
        "values": r.values,
        "received_at": r.received_at,
    })
}
