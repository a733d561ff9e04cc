//! The `[mqtt]` configuration section: an external broker by URL, or (the default) the embedded
//! broker and where it listens; credentials, TLS files, the daemon's client id and the command
//! tracker's timers. Parsed from TOML into validated types; secrets never print.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::tracker::TrackerConfig;
use super::MqttError;

/// A password: compared and used, never printed.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// TLS files, as written in `[mqtt.tls]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsFiles {
    /// CA certificate(s) that sign the broker's certificate (client) or clients' (embedded broker).
    pub ca_file: Option<PathBuf>,
    /// Our certificate: the client certificate (external broker) or the listener's (embedded).
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
}

/// The `[mqtt]` section as written, for embedding in the daemon's configuration struct.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttSection {
    /// `mqtt://host:1883` or `mqtts://host:8883`; absent or empty: run the embedded broker.
    pub url: Option<String>,
    /// Where the embedded broker listens (default `127.0.0.1:1883`).
    pub listen: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// A file holding the password (first line), instead of `password`.
    pub password_file: Option<PathBuf>,
    pub keep_alive_secs: Option<u64>,
    pub tls: Option<TlsFiles>,
    /// Embedded broker: who may log in (user name = password). Required to listen beyond loopback.
    pub users: BTreeMap<String, Secret>,
    pub ack_timeout_secs: Option<u64>,
    pub max_resends: Option<u32>,
    pub result_timeout_secs: Option<u64>,
    pub query_interval_secs: Option<u64>,
    pub max_queries: Option<u32>,
    pub start_window_secs: Option<u64>,
}

/// A user name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
}

/// Which broker the daemon uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerChoice {
    /// A broker run by someone else (Mosquitto, EMQX).
    External { host: String, port: u16, tls: bool },
    /// The in-process broker.
    Embedded {
        listen: SocketAddr,
        users: BTreeMap<String, Secret>,
    },
}

/// The validated MQTT configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct MqttConfig {
    pub broker: BrokerChoice,
    pub client_id: String,
    pub credentials: Option<Credentials>,
    pub tls: Option<TlsFiles>,
    pub keep_alive: Duration,
    pub tracker: TrackerConfig,
}

/// The embedded broker's default address: loopback only.
pub const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 1883);
/// The daemon's default client id (also its user name on the embedded broker).
pub const DEFAULT_CLIENT_ID: &str = "athanor-daemon";
/// The daemon's user name on a broker that needs one (the deploy/ ACL knows it).
pub const DAEMON_USER: &str = "athanor.daemon";

impl MqttConfig {
    /// Reads the `[mqtt]` table of a whole configuration document (other tables are ignored);
    /// `listen_override` is the `--mqtt-listen` flag, which wins over the file.
    pub fn from_toml_str(doc: &str, listen_override: Option<&str>) -> Result<Self, MqttError> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            mqtt: MqttSection,
        }
        let d: Doc = toml::from_str(doc).map_err(|e| MqttError::config("", e.message()))?;
        d.mqtt.resolve(listen_override)
    }

    /// The address the daemon's own client connects to.
    pub fn connect_addr(&self) -> (String, u16) {
        match &self.broker {
            BrokerChoice::External { host, port, .. } => (host.clone(), *port),
            BrokerChoice::Embedded { listen, .. } => {
                let ip = match listen.ip() {
                    IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                    IpAddr::V6(v6) if v6.is_unspecified() => {
                        IpAddr::V6(std::net::Ipv6Addr::LOCALHOST)
                    }
                    ip => ip,
                };
                (ip.to_string(), listen.port())
            }
        }
    }

    /// What the embedded broker needs to start, or None for an external broker. When the
    /// broker requires logins and no daemon credentials are configured, the daemon gets its own
    /// user (`athanor.daemon`) with a fresh random password, added to the broker's users and
    /// set as this configuration's credentials.
    pub fn embedded_broker_settings(&mut self) -> Option<super::broker::BrokerSettings> {
        let BrokerChoice::Embedded { listen, users } = &self.broker else {
            return None;
        };
        let mut users = users.clone();
        if !users.is_empty() {
            let creds = self.credentials.get_or_insert_with(|| Credentials {
                username: DAEMON_USER.to_owned(),
                password: Secret::new(format!(
                    "{}{}",
                    uuid::Uuid::new_v4().simple(),
                    uuid::Uuid::new_v4().simple()
                )),
            });
            users.insert(creds.username.clone(), creds.password.clone());
        }
        Some(super::broker::BrokerSettings {
            listen: *listen,
            users,
            tls: self.tls.clone(),
            max_connections: 1000,
        })
    }

    /// Whether the daemon's client uses TLS.
    pub fn uses_tls(&self) -> bool {
        match &self.broker {
            BrokerChoice::External { tls, .. } => *tls,
            BrokerChoice::Embedded { .. } => {
                self.tls.as_ref().is_some_and(|t| t.cert_file.is_some())
            }
        }
    }
}

fn parse_url(url: &str) -> Result<(String, u16, bool), MqttError> {
    let bad = |m: &str| MqttError::config("url", format!("`{url}`: {m}"));
    let (tls, rest) = if let Some(r) = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))
    {
        (false, r)
    } else if let Some(r) = url
        .strip_prefix("mqtts://")
        .or_else(|| url.strip_prefix("ssl://"))
    {
        (true, r)
    } else {
        return Err(bad("expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('@') {
        return Err(bad(
            "put credentials in `username` and `password_file`, not in the URL",
        ));
    }
    if rest.contains('/') || rest.contains('?') {
        return Err(bad("a broker URL has no path or query"));
    }
    let default_port = if tls { 8883 } else { 1883 };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
        match after.strip_prefix(':') {
            Some(p) => (h.to_owned(), p.parse().map_err(|_| bad("bad port"))?),
            None if after.is_empty() => (h.to_owned(), default_port),
            None => return Err(bad("unexpected text after `]`")),
        }
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().map_err(|_| bad("bad port"))?),
            None => (rest.to_owned(), default_port),
        }
    };
    if host.is_empty() || port == 0 {
        return Err(bad("missing host or port"));
    }
    Ok((host, port, tls))
}

fn secs(key: &str, v: Option<u64>, default: Duration) -> Result<Duration, MqttError> {
    match v {
        None => Ok(default),
        Some(0) => Err(MqttError::config(key, "must be at least 1")),
        Some(s) => Ok(Duration::from_secs(s)),
    }
}

impl MqttSection {
    /// Validates the section into a configuration; `listen_override` is the `--mqtt-listen` flag.
    pub fn resolve(&self, listen_override: Option<&str>) -> Result<MqttConfig, MqttError> {
        let url = self.url.as_deref().filter(|u| !u.trim().is_empty());
        let listen_text = listen_override.or(self.listen.as_deref());
        let broker = match url {
            Some(url) => {
                if listen_override.is_some() {
                    return Err(MqttError::config(
                        "listen",
                        "--mqtt-listen applies to the embedded broker, but `mqtt.url` names an external one",
                    ));
                }
                let (host, port, tls) = parse_url(url)?;
                BrokerChoice::External { host, port, tls }
            }
            None => {
                let listen = match listen_text {
                    None => DEFAULT_LISTEN,
                    Some(t) => t.parse::<SocketAddr>().map_err(|_| {
                        MqttError::config(
                            "listen",
                            format!("`{t}` is not ADDR:PORT (e.g. 127.0.0.1:1883)"),
                        )
                    })?,
                };
                if !listen.ip().is_loopback() && self.users.is_empty() {
                    return Err(MqttError::config(
                        "listen",
                        format!(
                            "refusing to run the embedded broker on {listen}, beyond loopback, without credentials: add [mqtt.users]"
                        ),
                    ));
                }
                for (user, pass) in &self.users {
                    if user.is_empty() || pass.expose().is_empty() {
                        return Err(MqttError::config(
                            "users",
                            "user names and passwords must not be empty",
                        ));
                    }
                }
                BrokerChoice::Embedded {
                    listen,
                    users: self.users.clone(),
                }
            }
        };
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => {
                return Err(MqttError::config(
                    "password_file",
                    "give `password` or `password_file`, not both",
                ));
            }
            (Some(p), None) => Some(p.clone()),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    MqttError::config(
                        "password_file",
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                Some(Secret::new(text.lines().next().unwrap_or("").to_owned()))
            }
            (None, None) => None,
        };
        let credentials = match (&self.username, password) {
            (Some(u), p) => Some(Credentials {
                username: u.clone(),
                password: p.unwrap_or_else(|| Secret::new("")),
            }),
            (None, Some(_)) => {
                return Err(MqttError::config(
                    "username",
                    "a password needs a user name",
                ));
            }
            (None, None) => None,
        };
        if let Some(t) = &self.tls {
            for (key, path) in [
                ("tls.ca_file", &t.ca_file),
                ("tls.cert_file", &t.cert_file),
                ("tls.key_file", &t.key_file),
            ] {
                if let Some(p) = path {
                    if !p.is_file() {
                        return Err(MqttError::config(
                            key,
                            format!("{} is not a readable file", p.display()),
                        ));
                    }
                }
            }
            if t.cert_file.is_some() != t.key_file.is_some() {
                return Err(MqttError::config(
                    "tls.key_file",
                    "cert_file and key_file go together",
                ));
            }
        }
        let client_id = self
            .client_id
            .clone()
            .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_owned());
        if client_id.is_empty() || client_id.len() > 128 {
            return Err(MqttError::config("client_id", "must be 1–128 characters"));
        }
        let d = TrackerConfig::default();
        let positive = |key: &str, v: Option<u32>, default: u32| match v {
            Some(0) => Err(MqttError::config(key, "must be at least 1")),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        let tracker = TrackerConfig {
            ack_timeout: secs("ack_timeout_secs", self.ack_timeout_secs, d.ack_timeout)?,
            max_resends: self.max_resends.unwrap_or(d.max_resends),
            result_timeout: secs(
                "result_timeout_secs",
                self.result_timeout_secs,
                d.result_timeout,
            )?,
            query_interval: secs(
                "query_interval_secs",
                self.query_interval_secs,
                d.query_interval,
            )?,
            max_queries: positive("max_queries", self.max_queries, d.max_queries)?,
            start_window: secs("start_window_secs", self.start_window_secs, d.start_window)?,
            ..d
        };
        Ok(MqttConfig {
            broker,
            client_id,
            credentials,
            tls: self.tls.clone(),
            keep_alive: secs(
                "keep_alive_secs",
                self.keep_alive_secs,
                Duration::from_secs(15),
            )?,
            tracker,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_section_means_the_embedded_broker_on_loopback() {
        let c = MqttConfig::from_toml_str("[server]\nlisten = \"x\"\n", None).expect("ok");
        assert_eq!(
            c.broker,
            BrokerChoice::Embedded {
                listen: DEFAULT_LISTEN,
                users: BTreeMap::new()
            }
        );
        assert_eq!(c.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(c.connect_addr(), ("127.0.0.1".to_owned(), 1883));
    }

    #[test]
    fn beyond_loopback_needs_credentials() {
        let err = MqttConfig::from_toml_str("", Some("0.0.0.0:1883")).expect_err("refused");
        assert!(err.to_string().contains("without credentials"), "{err}");
        let ok =
            MqttConfig::from_toml_str("[mqtt.users]\nfurnace-1 = \"pw\"\n", Some("0.0.0.0:1884"))
                .expect("ok with users");
        assert_eq!(ok.connect_addr(), ("127.0.0.1".to_owned(), 1884));
        assert!(MqttConfig::from_toml_str("[mqtt]\nlisten = \"[::1]:1885\"\n", None).is_ok());
    }

    #[test]
    fn external_urls_parse() {
        let c = MqttConfig::from_toml_str(
            "[mqtt]\nurl = \"mqtt://broker.lab:1884\"\nusername = \"athanor.daemon\"\npassword = \"s3cret\"\n",
            None,
        )
        .expect("ok");
        assert_eq!(
            c.broker,
            BrokerChoice::External {
                host: "broker.lab".into(),
                port: 1884,
                tls: false
            }
        );
        assert!(
            !format!("{c:?}").contains("s3cret"),
            "the password must not print"
        );
        assert_eq!(
            parse_url("mqtts://[::1]").expect("v6"),
            ("::1".into(), 8883, true)
        );
        for bad in [
            "http://x",
            "mqtt://u:p@x",
            "mqtt://x:notaport",
            "mqtt://",
            "mqtt://x/y",
        ] {
            assert!(parse_url(bad).is_err(), "{bad} accepted");
        }
        assert!(
            MqttConfig::from_toml_str("[mqtt]\nurl = \"mqtt://x\"\n", Some("127.0.0.1:1")).is_err()
        );
    }

    #[test]
    fn with_users_the_daemon_gets_its_own_login_on_the_embedded_broker() {
        let mut c =
            MqttConfig::from_toml_str("[mqtt.users]\nfurnace-1 = \"pw\"\n", None).expect("ok");
        let s = c.embedded_broker_settings().expect("embedded");
        let creds = c.credentials.clone().expect("daemon credentials");
        assert_eq!(creds.username, DAEMON_USER);
        assert_eq!(s.users.get(DAEMON_USER), Some(&creds.password));
        assert_eq!(s.users.len(), 2);
        let mut open = MqttConfig::from_toml_str("", None).expect("ok");
        assert!(open
            .embedded_broker_settings()
            .expect("embedded")
            .users
            .is_empty());
        assert!(open.credentials.is_none());
        let mut ext = MqttConfig::from_toml_str("[mqtt]\nurl = \"mqtt://x\"\n", None).expect("ok");
        assert!(ext.embedded_broker_settings().is_none());
    }

    #[test]
    fn typos_and_zero_timers_are_refused() {
        assert!(MqttConfig::from_toml_str("[mqtt]\nurll = \"mqtt://x\"\n", None).is_err());
        assert!(MqttConfig::from_toml_str("[mqtt]\nack_timeout_secs = 0\n", None).is_err());
        assert!(MqttConfig::from_toml_str("[mqtt]\npassword = \"x\"\n", None).is_err());
    }
}
