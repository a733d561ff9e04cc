//! `athanor token …`: issue, list and revoke API tokens directly in the database.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};

use athanor_core::{Role, TokenId};

use crate::cli::daemon::{open_store, runtime, DaemonArgs};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token; the token is printed once, as the last line.
    Create(CreateArgs),
    /// List tokens (never their secrets).
    List(ListArgs),
    /// Revoke a token by id.
    Revoke(RevokeArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Viewer,
    Operator,
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Operator => Role::Operator,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// A unique name; it is recorded as the actor of every change made with the token.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub daemon: DaemonArgs,
    /// The token's id (from `athanor token list`).
    pub id: TokenId,
}

pub fn run(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let daemon = match &cmd {
        TokenCommand::Create(a) => &a.daemon,
        TokenCommand::List(a) => &a.daemon,
        TokenCommand::Revoke(a) => &a.daemon,
    };
    let config = daemon.load(None, false)?;
    runtime()?.block_on(async {
        let store = open_store(&config).await?;
        let actor = format!("cli:{}", whoami());
        match cmd {
            TokenCommand::Create(a) => {
                let issued = store.create_token(&a.name, a.role.into(), &actor).await?;
                eprintln!(
                    "token `{}` ({}) created; it is shown once, below:",
                    issued.record.name, issued.record.role
                );
                println!("{}", issued.token);
            }
            TokenCommand::List(_) => {
                for t in store.list_tokens().await? {
                    let status = t
                        .revoked_at
                        .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                    println!("{}\t{}\t{}\t{}", t.id, t.name, t.role, status);
                }
            }
            TokenCommand::Revoke(a) => {
                let t = store.revoke_token(a.id, &actor).await?;
                println!("revoked token `{}`", t.name);
            }
        }
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
