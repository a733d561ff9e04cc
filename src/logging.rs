//! Logging through tracing: readable text by default, one JSON object per line on request.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber; `RUST_LOG`, when set, overrides the configured level.
pub fn init(cfg: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(with_quiet_broker(&cfg.level)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only on a terminal: log files and the journal get plain text.
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (in tests) is harmless: the first subscriber stays.
    let _ = match cfg.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The embedded broker (rumqttd) logs every connection and subscription at info; unless the
/// filter says otherwise about it, only its warnings and errors are shown.
fn with_quiet_broker(level: &str) -> String {
    if level.contains("rumqttd") {
        level.to_owned()
    } else {
        format!("{level},rumqttd=warn")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broker_is_quiet_unless_asked() {
        assert_eq!(with_quiet_broker("info"), "info,rumqttd=warn");
        assert_eq!(
            with_quiet_broker("debug,rumqttd=debug"),
            "debug,rumqttd=debug"
        );
        assert!(EnvFilter::try_new(with_quiet_broker("info,athanor_api=debug")).is_ok());
    }
}
