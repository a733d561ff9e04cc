//! The lab file (`config/sim/lab.toml`): which simulated instruments the lab has, how each is
//! built, and the faults each may show. Unknown keys are refused; errors name the dotted key.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::diffractometer::Detector;
use crate::faults::FaultSpec;
use crate::thermal::{PidGains, PlantSpec};

/// The whole lab file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabSpec {
    #[serde(default = "default_name")]
    pub name: String,
    #[serde(default)]
    pub furnaces: Vec<FurnaceSpecFile>,
    pub diffractometer: Option<DiffractometerSpec>,
    pub deposition_tool: Option<InstrumentSpec>,
    pub sample_handler: Option<InstrumentSpec>,
    /// Faults by instrument id.
    #[serde(default)]
    pub faults: BTreeMap<String, FaultSpec>,
}

fn default_name() -> String {
    "simulated lab".into()
}

/// A simulated furnace: a thermal model behind a register-mapped controller on a serial line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FurnaceSpecFile {
    pub id: String,
    /// The controller's model file (register map), relative to the lab file.
    pub model_file: String,
    #[serde(default = "default_unit")]
    pub unit_id: u8,
    /// Where to put a symbolic link to the serial line (the pty), relative to the working
    /// directory; the daemon's instrument file names this path.
    pub link: Option<String>,
    #[serde(default)]
    pub plant: PlantSpec,
    #[serde(default)]
    pub pid: PidGains,
    #[serde(default = "default_alarm")]
    pub alarm_c: f64,
    /// Limits the daemon's instrument file gets.
    #[serde(default = "default_max_c")]
    pub max_temperature_c: f64,
    #[serde(default = "default_max_ramp")]
    pub max_ramp_c_per_min: f64,
    #[serde(default = "default_max_minutes")]
    pub max_duration_min: f64,
}

fn default_unit() -> u8 {
    1
}
fn default_alarm() -> f64 {
    1150.0
}
fn default_max_c() -> f64 {
    1100.0
}
fn default_max_ramp() -> f64 {
    20.0
}
fn default_max_minutes() -> f64 {
    2880.0
}

/// The simulated diffractometer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffractometerSpec {
    pub id: String,
    /// A built-in profile name (`bragg-brentano-cu`) or a profile file relative to the lab file.
    #[serde(default = "default_profile")]
    pub profile: String,
    #[serde(default)]
    pub detector: Detector,
}

fn default_profile() -> String {
    "bragg-brentano-cu".into()
}

/// An MQTT instrument with nothing more to configure than its id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentSpec {
    pub id: String,
}

/// Parses a lab file's text; the error names the dotted key.
pub fn parse(text: &str) -> Result<LabSpec, String> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        format!("{path}: {}", e.into_inner().message())
    })
}
