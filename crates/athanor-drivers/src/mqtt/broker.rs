//! The embedded MQTT broker (rumqttd), so that the default set-up needs no other program.
//!
//! It listens on loopback unless told otherwise, and refuses any other address without
//! credentials (checked in [`super::config`] and again here). It keeps sessions, queued QoS 1
//! messages and retained statuses in memory only: a restart loses them, which the contract's
//! end-to-end acknowledgements make good (docs/mqtt.md). It has no per-topic ACL; where
//! controllers are not trusted, use Mosquitto with `deploy/mosquitto/acl`.
//!
//! The broker's listener runs on its own thread and runtime, so that [`EmbeddedBroker::shutdown`]
//! (or dropping the handle) closes the listener and every connection at once.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use rumqttd::protocol::v4::V4;
use rumqttd::{
    ConnectionSettings, LinkType, Router, RouterConfig, Server, ServerSettings, TlsConfig,
};
use tokio::sync::oneshot;

use super::config::{Secret, TlsFiles};
use super::messages::MAX_PAYLOAD_BYTES;
use super::MqttError;

/// What the embedded broker needs to start.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// Port 0 picks a free port (see [`EmbeddedBroker::local_addr`]).
    pub listen: SocketAddr,
    /// User name → password; empty means no login is required (loopback only).
    pub users: BTreeMap<String, Secret>,
    /// The listener's certificate and key (and a CA to verify client certificates).
    pub tls: Option<TlsFiles>,
    /// Most simultaneous connections.
    pub max_connections: usize,
}

impl BrokerSettings {
    pub fn loopback(port: u16) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            users: BTreeMap::new(),
            tls: None,
            max_connections: 1000,
        }
    }
}

/// A running embedded broker. Dropping it stops it.
#[derive(Debug)]
pub struct EmbeddedBroker {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts the broker and returns once it accepts connections.
    pub async fn start(settings: BrokerSettings) -> Result<Self, MqttError> {
        if !settings.listen.ip().is_loopback() && settings.users.is_empty() {
            return Err(MqttError::Broker(format!(
                "refusing to listen on {} (beyond loopback) without credentials",
                settings.listen
            )));
        }
        // Bind once here: a clear error for an address in use, and a real port for port 0.
        let probe = std::net::TcpListener::bind(settings.listen)
            .map_err(|e| MqttError::Broker(format!("cannot listen on {}: {e}", settings.listen)))?;
        let addr = probe.local_addr()?;
        drop(probe);

        let tls = match &settings.tls {
            Some(TlsFiles {
                cert_file: Some(cert),
                key_file: Some(key),
                ca_file,
            }) => Some(TlsConfig::Rustls {
                capath: ca_file.as_ref().map(|p| p.display().to_string()),
                certpath: cert.display().to_string(),
                keypath: key.display().to_string(),
            }),
            _ => None,
        };
        let auth = (!settings.users.is_empty()).then(|| {
            settings
                .users
                .iter()
                .map(|(u, p)| (u.clone(), p.expose().to_owned()))
                .collect::<HashMap<_, _>>()
        });
        let server = ServerSettings {
            name: "athanor-embedded".into(),
            listen: addr,
            tls,
            next_connection_delay_ms: 0,
            connections: ConnectionSettings {
                connection_timeout_ms: 10_000,
                // Headroom over the contract's largest payload for topic and headers.
                max_payload_size: MAX_PAYLOAD_BYTES + 64 * 1024,
                max_inflight_count: 500,
                auth,
                external_auth: None,
                dynamic_filters: true,
            },
        };
        let router = RouterConfig {
            max_connections: settings.max_connections,
            max_outgoing_packet_count: 500,
            max_segment_size: 16 << 20,
            max_segment_count: 4,
            ..RouterConfig::default()
        };

        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (failed_tx, mut failed_rx) = oneshot::channel::<String>();
        let thread = std::thread::Builder::new()
            .name("mqtt-broker".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = failed_tx.send(format!("cannot start its runtime: {e}"));
                        return;
                    }
                };
                let router_tx = Router::new(0, router).spawn();
                let mut server = Server::new(server, router_tx, V4);
                runtime.block_on(async move {
                    tokio::select! {
                        r = server.start(LinkType::Remote) => {
                            let why = match r {
                                Ok(()) => "listener stopped".to_owned(),
                                Err(e) => e.to_string(),
                            };
                            let _ = failed_tx.send(why);
                        }
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime here ends every connection task and closes the sockets.
            })?;

        let broker = Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        // Wait until it accepts connections (or says why it cannot).
        for _ in 0..200 {
            if let Ok(why) = failed_rx.try_recv() {
                return Err(MqttError::Broker(format!(
                    "failed to start on {addr}: {why}"
                )));
            }
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                tracing::info!(%addr, "embedded MQTT broker listening");
                return Ok(broker);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(MqttError::Broker(format!(
            "did not start listening on {addr} within 5 s"
        )))
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops listening and closes every connection (waiting for the broker's thread to end).
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.stop_now();
    }
}
