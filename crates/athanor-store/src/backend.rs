//! Connecting to SQLite or PostgreSQL, migrating, and the dispatch macro that runs one body of
//! code against whichever backend the store holds.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use tokio::sync::broadcast;

use athanor_core::Event;

use crate::error::{Result, StoreError};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `postgres://…` for PostgreSQL; `sqlite://PATH` or a plain path for SQLite; empty for the
    /// default SQLite file `athanor.db` in `data_dir`.
    pub url: String,
    pub data_dir: PathBuf,
    /// Connections in the pool (readers for SQLite, which always has exactly one writer).
    pub max_connections: u32,
    /// How long a query waits for a lock or a pooled connection.
    pub busy_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            url: String::new(),
            data_dir: PathBuf::from("data"),
            max_connections: 8,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

pub(crate) enum Inner {
    /// SQLite allows one writer at a time; a single-connection writer pool serialises writes in
    /// the application instead of failing them with SQLITE_BUSY.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

/// The store: cheap to clone, shared by every task of the daemon.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
    pub(crate) events: broadcast::Sender<Event>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish()
    }
}

/// Runs `$body` with `$pool` bound to the backend's pool (`write` or `read`) and `$lock` bound to
/// the row-lock clause that backend needs when a transaction reads before it writes.
macro_rules! dispatch {
    ($store:expr, $mode:ident, |$pool:ident, $lock:ident| $body:block) => {
        match &*$store.inner {
            #[allow(unused_variables)]
            $crate::backend::Inner::Sqlite { writer, reader } => {
                let $pool = $crate::backend::dispatch!(@pick $mode, writer, reader);
                // The single writer connection already serialises read-modify-write transactions.
                let $lock: &str = "";
                $body
            }
            $crate::backend::Inner::Postgres { pool } => {
                let $pool = pool;
                let $lock: &str = " FOR UPDATE";
                $body
            }
        }
    };
    (@pick write, $w:ident, $r:ident) => { $w };
    (@pick read, $w:ident, $r:ident) => { $r };
}
pub(crate) use dispatch;

impl Store {
    /// Connects, creating the SQLite file (and its directory) when needed, and applies migrations.
    pub async fn connect(opts: &ConnectOptions) -> Result<Self> {
        let store = Self::connect_without_migrating(opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without touching the schema (for `athanor migrate` and tests of migrations).
    pub async fn connect_without_migrating(opts: &ConnectOptions) -> Result<Self> {
        let inner = if opts.url.starts_with("postgres://") || opts.url.starts_with("postgresql://")
        {
            let connect =
                PgConnectOptions::from_str(&opts.url).map_err(|e| StoreError::BadUrl {
                    url: redact(&opts.url),
                    reason: e.to_string(),
                })?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections.max(2))
                .acquire_timeout(opts.busy_timeout)
                .connect_with(connect)
                .await?;
            Inner::Postgres { pool }
        } else {
            let path = sqlite_path(&opts.url, &opts.data_dir)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::BadUrl {
                    url: path.display().to_string(),
                    reason: format!("cannot create directory {}: {e}", dir.display()),
                })?;
            }
            let connect = SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a committed transaction survives power loss, not only a process crash.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(opts.busy_timeout);
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(opts.busy_timeout.max(Duration::from_secs(30)))
                .connect_with(connect.clone())
                .await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(opts.max_connections.max(1))
                .acquire_timeout(opts.busy_timeout)
                .connect_with(connect.read_only(true))
                .await?;
            Inner::Sqlite { writer, reader }
        };
        let (events, _) = broadcast::channel(4096);
        Ok(Self {
            inner: Arc::new(inner),
            events,
        })
    }

    /// Applies every migration not yet applied; idempotent.
    pub async fn migrate(&self) -> Result<()> {
        match &*self.inner {
            Inner::Sqlite { writer, .. } => {
                sqlx::migrate!("../../migrations/sqlite")
                    .run(writer)
                    .await?
            }
            Inner::Postgres { pool } => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Inner::Sqlite { .. } => Backend::Sqlite,
            Inner::Postgres { .. } => Backend::Postgres,
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        dispatch!(self, read, |pool, _lock| {
            sqlx::query("SELECT 1").execute(pool).await.is_ok()
        })
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        match &*self.inner {
            Inner::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Inner::Postgres { pool } => pool.close().await,
        }
    }

    /// Live events committed by this process, for server-sent events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub(crate) fn publish(&self, events: Vec<Event>) {
        for e in events {
            // No subscriber is not an error: the event is in the database already.
            let _ = self.events.send(e);
        }
    }
}

/// The SQLite file a URL names: `sqlite://PATH`, `sqlite:PATH`, a plain path, or (empty) the
/// default file in the data directory.
fn sqlite_path(url: &str, data_dir: &Path) -> Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if rest.is_empty() {
        return Ok(data_dir.join("athanor.db"));
    }
    if rest.contains("://") {
        return Err(StoreError::BadUrl {
            url: redact(url),
            reason: "expected postgres://…, sqlite://PATH or a file path".into(),
        });
    }
    Ok(PathBuf::from(rest))
}

/// A database URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_locations() {
        let d = Path::new("/var/lib/athanor");
        assert_eq!(sqlite_path("", d).unwrap(), d.join("athanor.db"));
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db", d).unwrap(),
            PathBuf::from("/tmp/x.db")
        );
        assert_eq!(sqlite_path("x.db", d).unwrap(), PathBuf::from("x.db"));
        assert!(sqlite_path("mysql://h/db", d).is_err());
    }

    #[test]
    fn passwords_never_print() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }
}
