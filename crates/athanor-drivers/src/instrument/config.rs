//! Instrument files (`config/instruments/*.toml`) parsed into validated types.
//!
//! A file is one of two kinds:
//! - an **instrument**: `id`, `class`, optional `name`/`description`, `[transport]`, `[limits]`,
//!   and for register-mapped instruments either `model = "<model file>"` or an inline
//!   `[register_map]`; diffractometer files carry a `[profile]` that athanor-xrd reads (kept
//!   here as an opaque table);
//! - a **model**: no `id`; `model = "<its name>"` and a `[register_map]` that instruments
//!   reference by that name (a controller model is a config file, not code).
//!
//! Parsing is pure ([`InstrumentSet::from_sources`]); [`load_dir`] only reads the files.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use athanor_core::{InstrumentClass, InstrumentId};
use serde::{Deserialize, Serialize};

use super::limits::Limits;

/// Why an instrument file set cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: model `{model}` is not defined by any file")]
    UnknownModel { file: String, model: String },
    #[error("instrument id `{id}` is defined twice ({first} and {second})")]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },
    #[error("model `{model}` is defined twice ({first} and {second})")]
    DuplicateModel {
        model: String,
        first: String,
        second: String,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
}

/// Parity of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    #[default]
    None,
    Even,
    Odd,
}

fn default_baud() -> u32 {
    9600
}
fn default_data_bits() -> u8 {
    8
}
fn default_stop_bits() -> u8 {
    1
}
fn default_unit() -> u8 {
    1
}
fn default_timeout_ms() -> u64 {
    500
}
fn default_retries() -> u32 {
    2
}
fn default_backoff_ms() -> u64 {
    100
}

/// Settings of a serial (Modbus RTU) line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialSettings {
    /// Device path, e.g. `/dev/ttyUSB0`.
    pub port: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default)]
    pub parity: Parity,
    #[serde(default = "default_data_bits")]
    pub data_bits: u8,
    #[serde(default = "default_stop_bits")]
    pub stop_bits: u8,
    /// Modbus unit (slave) address, 1–247.
    #[serde(default = "default_unit")]
    pub unit_id: u8,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
}

impl SerialSettings {
    fn validate(&self) -> Result<(), String> {
        if self.port.trim().is_empty() {
            return Err("transport.port must name a device".into());
        }
        if !matches!(
            self.baud,
            1200 | 2400 | 4800 | 9600 | 19200 | 38400 | 57600 | 115200
        ) {
            return Err(format!(
                "transport.baud {} is not a standard rate",
                self.baud
            ));
        }
        if !matches!(self.data_bits, 7 | 8) {
            return Err("transport.data_bits must be 7 or 8".into());
        }
        if !matches!(self.stop_bits, 1 | 2) {
            return Err("transport.stop_bits must be 1 or 2".into());
        }
        if !(1..=247).contains(&self.unit_id) {
            return Err("transport.unit_id must be 1–247".into());
        }
        if !(10..=60_000).contains(&self.timeout_ms) {
            return Err("transport.timeout_ms must be 10–60000".into());
        }
        if self.retries > 10 {
            return Err("transport.retries must be at most 10".into());
        }
        Ok(())
    }

    /// The transport's timing policy from these settings.
    pub fn rtu_config(&self) -> crate::modbus::RtuConfig {
        let mut c = crate::modbus::RtuConfig::for_baud(self.baud);
        c.timeout = Duration::from_millis(self.timeout_ms);
        c.retries = self.retries;
        c.backoff = Duration::from_millis(self.backoff_ms);
        c
    }
}

/// How the daemon reaches an instrument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transport {
    /// Modbus RTU on a serial line.
    Serial(SerialSettings),
    /// A controller on the MQTT broker; the settings belong to the MQTT layer.
    Mqtt(toml::Table),
    /// A person does it, confirming through the API.
    Manual(toml::Table),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    id: Option<String>,
    class: Option<InstrumentClass>,
    name: Option<String>,
    description: Option<String>,
    model: Option<String>,
    transport: Option<Transport>,
    #[serde(default)]
    limits: Limits,
    register_map: Option<toml::Table>,
    profile: Option<toml::Table>,
}

/// One instrument, validated, with its model's register map resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentConfig {
    pub id: InstrumentId,
    pub class: InstrumentClass,
    pub name: String,
    pub description: Option<String>,
    pub transport: Option<Transport>,
    pub limits: Limits,
    /// The model file this instrument's register map came from, if any.
    pub model: Option<String>,
    /// The register map (from the model file or inline); the driver parses it.
    pub register_map: Option<toml::Table>,
    /// Diffractometer profile, read by athanor-xrd.
    pub profile: Option<toml::Table>,
    /// The file it came from.
    pub source: String,
}

/// A controller model file: a named register map.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    pub model: String,
    pub description: Option<String>,
    pub register_map: toml::Table,
    pub source: String,
}

/// Every instrument and model of one configuration directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstrumentSet {
    pub instruments: BTreeMap<String, InstrumentConfig>,
    pub models: BTreeMap<String, ModelConfig>,
}

enum Parsed {
    Instrument(Box<InstrumentConfig>),
    Model(ModelConfig),
}

fn invalid(file: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        file: file.to_string(),
        message: message.into(),
    }
}

fn parse_file(file: &str, text: &str) -> Result<Parsed, ConfigError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| invalid(file, e.to_string()))?;
    let Some(id) = raw.id else {
        // A model file.
        let model = raw.model.ok_or_else(|| {
            invalid(
                file,
                "a file needs `id` (an instrument) or `model` with `[register_map]` (a model)",
            )
        })?;
        let register_map = raw
            .register_map
            .ok_or_else(|| invalid(file, "a model file needs a `[register_map]`"))?;
        if raw.class.is_some()
            || raw.transport.is_some()
            || raw.profile.is_some()
            || raw.limits != Limits::default()
        {
            return Err(invalid(
                file,
                "a model file (no `id`) carries only `model`, `description` and `[register_map]`",
            ));
        }
        return Ok(Parsed::Model(ModelConfig {
            model,
            description: raw.description,
            register_map,
            source: file.to_string(),
        }));
    };
    let id = InstrumentId::parse(&id).map_err(|e| invalid(file, format!("id: {e}")))?;
    let class = raw
        .class
        .ok_or_else(|| invalid(file, "`class` is required"))?;
    if raw.model.is_some() && raw.register_map.is_some() {
        return Err(invalid(
            file,
            "give either `model` or an inline `[register_map]`, not both",
        ));
    }
    raw.limits.validate().map_err(|m| invalid(file, m))?;
    if let Some(Transport::Serial(s)) = &raw.transport {
        s.validate().map_err(|m| invalid(file, m))?;
    }
    let name = raw.name.unwrap_or_else(|| id.as_str().to_string());
    Ok(Parsed::Instrument(Box::new(InstrumentConfig {
        id,
        class,
        name,
        description: raw.description,
        transport: raw.transport,
        limits: raw.limits,
        model: raw.model,
        register_map: raw.register_map,
        profile: raw.profile,
        source: file.to_string(),
    })))
}

impl InstrumentConfig {
    /// Parses one self-contained instrument file (inline register map or none).
    pub fn from_toml_str(file: &str, text: &str) -> Result<Self, ConfigError> {
        let set = InstrumentSet::from_sources([(file, text)])?;
        set.instruments
            .into_values()
            .next()
            .ok_or_else(|| invalid(file, "this is a model file, not an instrument"))
    }
}

impl InstrumentSet {
    /// Parses a set of files given as (file name, contents) and resolves model references.
    pub fn from_sources<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ConfigError> {
        let mut set = InstrumentSet::default();
        let mut pending = Vec::new();
        for (file, text) in files {
            match parse_file(file, text)? {
                Parsed::Model(m) => {
                    if let Some(prev) = set.models.get(&m.model) {
                        return Err(ConfigError::DuplicateModel {
                            model: m.model.clone(),
                            first: prev.source.clone(),
                            second: m.source,
                        });
                    }
                    set.models.insert(m.model.clone(), m);
                }
                Parsed::Instrument(i) => pending.push(*i),
            }
        }
        for mut i in pending {
            if let Some(model) = &i.model {
                let m = set
                    .models
                    .get(model)
                    .ok_or_else(|| ConfigError::UnknownModel {
                        file: i.source.clone(),
                        model: model.clone(),
                    })?;
                i.register_map = Some(m.register_map.clone());
            }
            let key = i.id.as_str().to_string();
            if let Some(prev) = set.instruments.get(&key) {
                return Err(ConfigError::DuplicateId {
                    id: key,
                    first: prev.source.clone(),
                    second: i.source,
                });
            }
            set.instruments.insert(key, i);
        }
        Ok(set)
    }
}

/// Reads every `*.toml` file of `dir` (not recursing) and parses them as one set.
pub fn load_dir(dir: &Path) -> Result<InstrumentSet, ConfigError> {
    let read_err = |path: &Path, source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| read_err(dir, e))? {
        let path = entry.map_err(|e| read_err(dir, e))?.path();
        if path.extension().and_then(|e| e.to_str()) == Some("toml") {
            let text = std::fs::read_to_string(&path).map_err(|e| read_err(&path, e))?;
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, text));
        }
    }
    files.sort();
    InstrumentSet::from_sources(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FURNACE: &str = r#"
id = "furnace-1"
class = "furnace"
model = "m"
[transport]
kind = "serial"
port = "/dev/ttyUSB0"
parity = "even"
[limits]
max_temperature_c = 1100.0
max_ramp_c_per_min = 10.0
"#;
    const MODEL: &str =
        "model = \"m\"\n[register_map]\nprocess_value = { address = 1, encoding = \"float\" }\n";

    #[test]
    fn instrument_resolves_its_model() {
        let set = InstrumentSet::from_sources([("f.toml", FURNACE), ("m.toml", MODEL)]).unwrap();
        let f = &set.instruments["furnace-1"];
        assert_eq!(f.class, InstrumentClass::Furnace);
        assert!(f
            .register_map
            .as_ref()
            .unwrap()
            .contains_key("process_value"));
        let Some(Transport::Serial(s)) = &f.transport else {
            panic!("serial expected")
        };
        assert_eq!((s.baud, s.parity, s.unit_id), (9600, Parity::Even, 1));
    }

    #[test]
    fn errors_name_file_and_field() {
        let e = InstrumentSet::from_sources([("f.toml", FURNACE)]).unwrap_err();
        assert!(matches!(e, ConfigError::UnknownModel { .. }), "{e}");
        let bad = FURNACE.replace("max_ramp_c_per_min", "max_ramp");
        let e =
            InstrumentSet::from_sources([("f.toml", bad.as_str()), ("m.toml", MODEL)]).unwrap_err();
        assert!(
            e.to_string().starts_with("f.toml:") && e.to_string().contains("max_ramp"),
            "{e}"
        );
        let bad = FURNACE.replace("port = \"/dev/ttyUSB0\"", "port = \"/dev/x\"\nunit_id = 0");
        let e =
            InstrumentSet::from_sources([("f.toml", bad.as_str()), ("m.toml", MODEL)]).unwrap_err();
        assert!(e.to_string().contains("unit_id"), "{e}");
    }
}
