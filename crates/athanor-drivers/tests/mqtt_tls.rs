//! TLS from configuration, end to end: the embedded broker listens with a certificate signed by
//! a test CA (made with the `openssl` command), and the daemon's client options, built from a
//! `[mqtt]` section with `url = "mqtts://…"` and `tls.ca_file`, connect to it. A client that does
//! not trust the CA, and a client that speaks plain MQTT to the TLS port, do not get in.
//!
//! Needs `openssl` on PATH (Debian's package); skips, saying so, without it unless
//! `ATHANOR_REQUIRE_PEERS=1`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use athanor_drivers::mqtt::broker::BrokerSettings;
use athanor_drivers::mqtt::client::client_options;
use athanor_drivers::mqtt::config::TlsFiles;
use athanor_drivers::mqtt::{EmbeddedBroker, MqttSection};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet};

fn openssl(dir: &Path, args: &[&str]) -> bool {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `dir`; false when
/// openssl is unavailable.
fn make_certificates(dir: &Path) -> bool {
    std::fs::write(
        dir.join("san.cnf"),
        "subjectAltName = IP:127.0.0.1, DNS:localhost\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=athanor test CA",
        ],
    ) && openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    ) && openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "san.cnf",
        ],
    )
}

/// Polls a client until the broker accepts it (true) or the connection fails (false).
async fn connects(options: MqttOptions) -> bool {
    let (_client, mut events) = AsyncClient::new(options, 10);
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .unwrap_or(false)
}

#[tokio::test]
async fn the_daemon_connects_over_tls_with_the_configured_ca() {
    let dir = tempfile::tempdir().unwrap();
    if !make_certificates(dir.path()) {
        assert!(
            std::env::var("ATHANOR_REQUIRE_PEERS").as_deref() != Ok("1"),
            "ATHANOR_REQUIRE_PEERS=1 but openssl cannot make the test certificates"
        );
        eprintln!("skipped: openssl is not available to make test certificates");
        return;
    }
    let mut settings = BrokerSettings::loopback(0);
    settings.tls = Some(TlsFiles {
        ca_file: None,
        cert_file: Some(dir.path().join("server.pem")),
        key_file: Some(dir.path().join("server.key")),
    });
    let broker = EmbeddedBroker::start(settings).await.unwrap();
    let port = broker.local_addr().port();

    let section = |ca: Option<&str>| MqttSection {
        url: Some(format!("mqtts://127.0.0.1:{port}")),
        client_id: Some("athanor-daemon-tls".into()),
        tls: Some(TlsFiles {
            ca_file: ca.map(|f| dir.path().join(f)),
            cert_file: None,
            key_file: None,
        }),
        ..MqttSection::default()
    };
    let trusted = section(Some("ca.pem")).resolve(None).unwrap();
    assert!(trusted.uses_tls());
    assert!(
        connects(client_options(&trusted).unwrap()).await,
        "a client that trusts the test CA connects"
    );

    // The system's roots do not include the test CA: the handshake fails.
    let untrusted = section(None).resolve(None).unwrap();
    assert!(!connects(client_options(&untrusted).unwrap()).await);

    // Plain MQTT to the TLS listener gets nowhere.
    let mut plain = MqttOptions::new("plain", "127.0.0.1", port);
    plain.set_keep_alive(Duration::from_secs(5));
    assert!(!connects(plain).await);

    // A CA file that cannot be read is a configuration error naming the key.
    let err = section(Some("nope.pem")).resolve(None).unwrap_err();
    assert!(err.to_string().contains("tls.ca_file"), "{err}");
    broker.shutdown();
}
