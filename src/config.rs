//! The daemon's configuration: built-in defaults, then a TOML file, then `ATHANOR_*` environment
//! variables, then flags; validated into typed values with errors that name the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use athanor_drivers::mqtt::{MqttConfig, MqttError, MqttSection};

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("config key `{key}`: {message}")]
    Key { key: String, message: String },
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
    /// The MQTT broker: an external one by URL, or (the default) the embedded one.
    pub mqtt: MqttSection,
    pub instruments: InstrumentsConfig,
    pub telemetry: TelemetryConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstrumentsConfig {
    /// Directory of instrument files (`*.toml`); a missing directory means no instruments.
    pub dir: PathBuf,
    /// How often serial instruments are read for status and telemetry.
    pub poll_interval_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Readings younger than this many hours are kept as they arrived.
    pub keep_raw_hours: u64,
    /// Older readings are merged into one row per bucket of this many seconds (their means).
    pub downsample_bucket_secs: u64,
    /// How often the daemon downsamples, in seconds.
    pub downsample_every_secs: u64,
}

impl Default for InstrumentsConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("config/instruments"),
            poll_interval_secs: 2,
        }
    }
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            keep_raw_hours: 168,
            downsample_bucket_secs: 60,
            downsample_every_secs: 3600,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_body_bytes: 1 << 20,
            request_timeout_secs: 30,
            shutdown_grace_secs: 30,
        }
    }
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            max_connections: 8,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Values given on the command line; they override everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_json: bool,
    /// `--mqtt-listen`: where the embedded broker listens.
    pub mqtt_listen: Option<String>,
}

const SECTIONS: [&str; 7] = [
    "server",
    "storage",
    "auth",
    "log",
    "mqtt",
    "instruments",
    "telemetry",
];

impl Config {
    /// Loads the layers: `file` (if any), the environment `env` (name, value pairs), `flags`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.into(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Syntax {
                        path: path.into(),
                        message: e.to_string(),
                    })?
            }
            None => toml::Table::new(),
        };
        for (name, value) in env {
            if let Some((section, key)) = env_key(&name) {
                let section_table = table
                    .entry(section.clone())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                    .as_table_mut()
                    .ok_or_else(|| ConfigError::Key {
                        key: section.clone(),
                        message: "must be a table".into(),
                    })?;
                section_table.insert(key, env_value(&value));
            }
        }
        let mut config: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| ConfigError::Key {
                key: e.path().to_string(),
                message: e.into_inner().to_string(),
            })?;
        if let Some(l) = &flags.listen {
            config.server.listen = l.clone();
        }
        if let Some(d) = &flags.data_dir {
            config.storage.data_dir = d.clone();
        }
        if let Some(u) = &flags.database_url {
            config.storage.database_url = u.clone();
        }
        if flags.log_json {
            config.log.format = LogFormat::Json;
        }
        if let Some(l) = &flags.mqtt_listen {
            config.mqtt.listen = Some(l.clone());
        }
        config.validate()?;
        Ok(config)
    }

    /// The MQTT section, validated (files it names, such as `password_file`, are read).
    pub fn mqtt(&self) -> Result<MqttConfig, ConfigError> {
        self.mqtt.resolve(None).map_err(|e| match e {
            MqttError::Config { key, message } => ConfigError::Key {
                key: if key.is_empty() {
                    "mqtt".into()
                } else {
                    format!("mqtt.{key}")
                },
                message,
            },
            other => ConfigError::Key {
                key: "mqtt".into(),
                message: other.to_string(),
            },
        })
    }

    /// The listen address, parsed.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server.listen.parse().map_err(|e| ConfigError::Key {
            key: "server.listen".into(),
            message: format!("`{}` is not an ADDRESS:PORT ({e})", self.server.listen),
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let key = |k: &str, m: &str| {
            Err(ConfigError::Key {
                key: k.into(),
                message: m.into(),
            })
        };
        let addr = self.listen_addr()?;
        if self.server.max_body_bytes == 0 {
            return key("server.max_body_bytes", "must be at least 1");
        }
        if self.server.request_timeout_secs == 0 {
            return key("server.request_timeout_secs", "must be at least 1");
        }
        if self.storage.max_connections == 0 {
            return key("storage.max_connections", "must be at least 1");
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            return key("storage.data_dir", "must name a directory");
        }
        let url = &self.storage.database_url;
        if !(url.is_empty()
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://")
            || url.starts_with("sqlite:"))
        {
            return key(
                "storage.database_url",
                "must be empty (SQLite in data_dir), sqlite://PATH or postgres://…",
            );
        }
        if !self.auth.enabled && !addr.ip().is_loopback() {
            return key(
                "auth.enabled",
                "auth can only be turned off when server.listen is a loopback address",
            );
        }
        self.mqtt()?;
        if self.instruments.poll_interval_secs == 0 {
            return key("instruments.poll_interval_secs", "must be at least 1");
        }
        if self.telemetry.downsample_bucket_secs == 0 {
            return key("telemetry.downsample_bucket_secs", "must be at least 1");
        }
        if self.telemetry.downsample_every_secs == 0 {
            return key("telemetry.downsample_every_secs", "must be at least 1");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return key(
                "log.level",
                "is not a valid filter (try info, debug, or info,athanor_api=debug)",
            );
        }
        Ok(())
    }
}

/// `ATHANOR_SERVER_LISTEN` → (`server`, `listen`); names outside the known sections are ignored
/// (`ATHANOR_CONFIG` and the test variables, for instance).
fn env_key(name: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix("ATHANOR_")?.to_ascii_lowercase();
    SECTIONS.iter().find_map(|s| {
        rest.strip_prefix(s)
            .and_then(|k| k.strip_prefix('_'))
            .filter(|k| !k.is_empty())
            .map(|k| (s.to_string(), k.to_owned()))
    })
}

/// An environment value as TOML: numbers and booleans as such, anything else as a string.
fn env_value(raw: &str) -> toml::Value {
    match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => match t.remove("v") {
            Some(
                v @ (toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::Boolean(_)),
            ) => v,
            _ => toml::Value::String(raw.to_owned()),
        },
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_shipped_file_documents_exactly_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/athanor.toml");
        let loaded = Config::load(Some(&path), vec![], &Overrides::default()).unwrap();
        assert_eq!(loaded, Config::default());
    }

    #[test]
    fn environment_beats_file_and_flags_beat_environment() {
        let c = Config::load(
            None,
            env(&[
                ("ATHANOR_SERVER_LISTEN", "127.0.0.1:9000"),
                ("ATHANOR_SERVER_MAX_BODY_BYTES", "2048"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            (c.server.listen.as_str(), c.server.max_body_bytes),
            ("127.0.0.1:9000", 2048)
        );
        let flags = Overrides {
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let c = Config::load(
            None,
            env(&[("ATHANOR_SERVER_LISTEN", "127.0.0.1:9000")]),
            &flags,
        )
        .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:0");
    }

    #[test]
    fn errors_name_the_key() {
        let err = Config::load(
            None,
            env(&[("ATHANOR_SERVER_MAX_BODY_BYTES", "lots")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("server.max_body_bytes"), "{err}");
        let err = Config::load(
            None,
            env(&[("ATHANOR_SERVER_LISTEN", "nowhere")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("server.listen"), "{err}");
        let err = Config::load(
            None,
            env(&[("ATHANOR_LOG_FORMAT", "xml")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("log.format"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = std::env::temp_dir().join(format!("athanor-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:1\"\nlistne = 3\n").unwrap();
        let err = Config::load(Some(&path), vec![], &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("server"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mqtt_settings_come_from_every_layer_and_errors_name_the_key() {
        let flags = Overrides {
            mqtt_listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        let c = Config::load(
            None,
            env(&[("ATHANOR_MQTT_LISTEN", "127.0.0.1:1884")]),
            &flags,
        )
        .unwrap();
        assert_eq!(
            c.mqtt.listen.as_deref(),
            Some("127.0.0.1:0"),
            "the flag wins"
        );
        let err = Config::load(
            None,
            env(&[("ATHANOR_MQTT_LISTEN", "0.0.0.0:1883")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("mqtt.listen"), "{err}");
        let err = Config::load(
            None,
            env(&[("ATHANOR_MQTT_URL", "http://broker")]),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("mqtt.url"), "{err}");
        let ok = Config::load(
            None,
            env(&[("ATHANOR_MQTT_URL", "mqtt://broker.lab:1883")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            ok.mqtt().unwrap().connect_addr(),
            ("broker.lab".into(), 1883)
        );
    }

    #[test]
    fn auth_off_only_on_loopback() {
        let e = env(&[
            ("ATHANOR_AUTH_ENABLED", "false"),
            ("ATHANOR_SERVER_LISTEN", "0.0.0.0:8080"),
        ]);
        let err = Config::load(None, e, &Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("auth.enabled"), "{err}");
        let e = env(&[("ATHANOR_AUTH_ENABLED", "false")]);
        assert!(
            !Config::load(None, e, &Overrides::default())
                .unwrap()
                .auth
                .enabled
        );
    }
}
