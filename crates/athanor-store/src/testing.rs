//! Fresh databases for tests: a new SQLite file, or a new uniquely named PostgreSQL database
//! when `ATHANOR_TEST_POSTGRES_URL` is set. Used by this crate's and the API's test suites.

use std::path::PathBuf;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions as _, Connection, Executor};

use crate::backend::{redact, ConnectOptions};
use crate::error::{Result, StoreError};
use crate::Store;

/// The environment variable that names a PostgreSQL server for tests (any database on it; the
/// tests create their own).
pub const POSTGRES_ENV: &str = "ATHANOR_TEST_POSTGRES_URL";

/// A database that exists for one test. SQLite files live in a temporary directory removed on
/// drop; PostgreSQL databases are dropped by [`TestDb::cleanup`] (and are uniquely named, so a
/// leftover never disturbs another test).
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub options: ConnectOptions,
    _dir: Option<tempfile_dir::TempDir>,
    pg_admin: Option<(String, String)>,
}

mod tempfile_dir {
    //! A minimal temporary directory (std only), removed on drop.
    #[derive(Debug)]
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Which backends the test suite runs against: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<&'static str> {
    let mut v = vec!["sqlite"];
    if std::env::var(POSTGRES_ENV).is_ok_and(|u| !u.is_empty()) {
        v.push("postgres");
    }
    v
}

impl TestDb {
    /// A fresh, migrated database on the named backend (`sqlite` or `postgres`).
    pub async fn new(backend: &str) -> Result<Self> {
        match backend {
            "postgres" => Self::postgres().await,
            _ => Self::sqlite().await,
        }
    }

    pub async fn sqlite() -> Result<Self> {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("athanor-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::BadUrl {
            url: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let options = ConnectOptions {
            data_dir: dir.clone(),
            ..ConnectOptions::default()
        };
        let store = Store::connect(&options).await?;
        Ok(Self {
            store,
            options,
            _dir: Some(tempfile_dir::TempDir(dir)),
            pg_admin: None,
        })
    }

    pub async fn postgres() -> Result<Self> {
        let admin_url = std::env::var(POSTGRES_ENV).map_err(|_| StoreError::BadUrl {
            url: String::new(),
            reason: format!("{POSTGRES_ENV} is not set"),
        })?;
        let name = format!("athanor_test_{}", uuid::Uuid::new_v4().simple());
        let admin: PgConnectOptions =
            admin_url
                .parse()
                .map_err(|e: sqlx::Error| StoreError::BadUrl {
                    url: redact(&admin_url),
                    reason: e.to_string(),
                })?;
        let mut conn = admin.connect().await?;
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        conn.close().await?;
        let url = admin.database(&name).to_url_lossy().to_string();
        let options = ConnectOptions {
            url,
            max_connections: 4,
            ..ConnectOptions::default()
        };
        let store = Store::connect(&options).await?;
        Ok(Self {
            store,
            options,
            _dir: None,
            pg_admin: Some((admin_url, name)),
        })
    }

    /// Closes the store and opens the same database again, as a restarted daemon would.
    pub async fn reopen(self) -> Result<Self> {
        self.store.close().await;
        let store = Store::connect(&self.options).await?;
        Ok(Self { store, ..self })
    }

    /// Closes the store and drops a PostgreSQL test database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = &self.pg_admin {
            if let Ok(admin) = admin_url.parse::<PgConnectOptions>() {
                if let Ok(mut conn) = admin.connect().await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            }
        }
    }
}
