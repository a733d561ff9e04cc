//! What each instrument class can be asked to do: one trait per class, the commands' types with
//! their limit checks, status, and telemetry samples.
//!
//! Every command type has a `check` that runs against the instrument's limits (and the
//! campaign's when given) and names the limit it passes; drivers call it before any byte is
//! written, so a refused command never reaches the instrument.

use std::future::Future;

use athanor_core::SafetyLimits;
use serde::{Deserialize, Serialize};

use super::limits::{Checker, LimitViolation, Limits};

/// The state every instrument reports, whatever its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Answering and idle.
    Idle,
    /// Answering and executing something.
    Busy,
    /// Answering, with an alarm an operator must see.
    Alarm,
    /// Not answering (dead line, broker says offline).
    Offline,
}

/// One telemetry reading. Time is given by the caller (injected clock), in ms since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetrySample {
    pub instrument: String,
    pub at_ms: i64,
    /// Channel name (`pv_c`, `working_sp_c`, `output_pct`, `chamber_pressure_pa`, …).
    pub channel: String,
    pub value: f64,
}

// ---------------------------------------------------------------------------------------------
// Furnace
// ---------------------------------------------------------------------------------------------

/// One program segment: ramp to `target_c` at `ramp_c_per_min`, then hold for `dwell_min`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub target_c: f64,
    pub ramp_c_per_min: f64,
    pub dwell_min: f64,
}

/// A furnace program: segments in order, and the atmosphere when the furnace has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FurnaceProgram {
    pub segments: Vec<Segment>,
    #[serde(default)]
    pub atmosphere: Option<String>,
}

impl FurnaceProgram {
    /// Checks every segment against the limits; the first refusal names the segment and limit.
    pub fn check(
        &self,
        limits: &Limits,
        campaign: Option<&SafetyLimits>,
    ) -> Result<(), LimitViolation> {
        let c = Checker::new(limits, campaign);
        if self.segments.is_empty() {
            return Err(LimitViolation {
                limit: "min_segments",
                origin: "instrument",
                what: "program segments".into(),
                value: 0.0,
                allowed: 1.0,
            });
        }
        let mut total = 0.0;
        for (i, s) in self.segments.iter().enumerate() {
            let n = i + 1;
            c.temperature(&format!("segment {n} target"), s.target_c)?;
            c.ramp(&format!("segment {n} ramp"), s.ramp_c_per_min)?;
            c.duration(&format!("segment {n} dwell"), s.dwell_min)?;
            total += s.dwell_min;
        }
        c.duration("program dwell total", total)?;
        if let (Some(a), Some(s)) = (&self.atmosphere, campaign) {
            if !s.allowed_atmospheres.is_empty() && !s.allowed_atmospheres.iter().any(|x| x == a) {
                return Err(LimitViolation {
                    limit: "allowed_atmospheres",
                    origin: "campaign",
                    what: format!("atmosphere {a}"),
                    value: f64::NAN,
                    allowed: f64::NAN,
                });
            }
        }
        Ok(())
    }
}

/// State of a furnace's program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramState {
    Reset,
    Running,
    Held,
    /// Running, but waiting for the process value to catch up (holdback).
    Holdback,
    Complete,
    /// A code the register map does not name.
    Unknown(u16),
}

/// A furnace's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FurnaceStatus {
    pub process_value_c: f64,
    pub target_setpoint_c: f64,
    pub working_setpoint_c: f64,
    pub working_output_pct: f64,
    pub program: ProgramState,
    /// Active alarms by name (`alarm_1`, …); empty when none.
    pub alarms: Vec<String>,
    pub atmosphere: Option<String>,
}

/// What a write did: it was sent, or the device already held that value and nothing was sent
/// (set points in EEPROM are not rewritten needlessly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOutcome {
    Written,
    AlreadySet,
}

/// What a request to run the program did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// The run command was sent and the device now reports running.
    Started,
    /// The device already ran the program (an earlier command took effect); nothing was sent.
    AlreadyRunning,
}

/// A furnace: set point, ramp rate, programs, hold and abort, status.
pub trait Furnace {
    type Error: std::error::Error;
    fn limits(&self) -> &Limits;
    fn status(&mut self) -> impl Future<Output = Result<FurnaceStatus, Self::Error>> + Send;
    /// Sets the target set point (absolute, °C), after the limit checks.
    fn set_setpoint(
        &mut self,
        celsius: f64,
    ) -> impl Future<Output = Result<WriteOutcome, Self::Error>> + Send;
    /// Sets the set-point ramp rate (°C/min), after the limit checks.
    fn set_ramp_rate(
        &mut self,
        c_per_min: f64,
    ) -> impl Future<Output = Result<WriteOutcome, Self::Error>> + Send;
    /// Writes a program into the controller (refused while one runs).
    fn load_program(
        &mut self,
        program: &FurnaceProgram,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Runs the loaded program, unless the device already runs it.
    fn run_program(&mut self) -> impl Future<Output = Result<RunOutcome, Self::Error>> + Send;
    fn hold(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Stops the program (reset).
    fn abort(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

// ---------------------------------------------------------------------------------------------
// Deposition tool
// ---------------------------------------------------------------------------------------------

/// A deposition source (target, effusion cell) and its power.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourcePower {
    pub source: String,
    pub power_w: f64,
}

/// A process gas and its flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasFlow {
    pub gas: String,
    pub sccm: f64,
}

/// Shutter plan of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum Shutter {
    /// Open for the whole deposition time.
    OpenForRun,
    /// Pre-sputter with the shutter closed for `presputter_s`, then open.
    OpenAfter { presputter_s: f64 },
}

/// One deposition run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositionRun {
    pub sources: Vec<SourcePower>,
    pub chamber_pressure_pa: f64,
    pub gas_flows: Vec<GasFlow>,
    pub substrate_temperature_c: f64,
    pub duration_s: f64,
    pub shutter: Shutter,
}

impl DepositionRun {
    pub fn check(
        &self,
        limits: &Limits,
        campaign: Option<&SafetyLimits>,
    ) -> Result<(), LimitViolation> {
        let c = Checker::new(limits, campaign);
        for s in &self.sources {
            c.at_most_instrument(
                "max_source_power_w",
                &format!("source {} power", s.source),
                s.power_w,
                limits.max_source_power_w,
            )?;
        }
        for g in &self.gas_flows {
            c.at_most_instrument(
                "max_gas_flow_sccm",
                &format!("{} flow", g.gas),
                g.sccm,
                limits.max_gas_flow_sccm,
            )?;
        }
        c.at_most_instrument(
            "max_chamber_pressure_pa",
            "chamber pressure",
            self.chamber_pressure_pa,
            limits.max_chamber_pressure_pa,
        )?;
        c.at_most_instrument(
            "max_substrate_temperature_c",
            "substrate temperature",
            self.substrate_temperature_c,
            limits.max_substrate_temperature_c,
        )?;
        c.temperature("substrate temperature", self.substrate_temperature_c)?;
        c.duration("run duration", self.duration_s / 60.0)?;
        if let Shutter::OpenAfter { presputter_s } = self.shutter {
            if !(presputter_s >= 0.0 && presputter_s < self.duration_s) {
                return Err(LimitViolation {
                    limit: "presputter_within_run",
                    origin: "instrument",
                    what: "pre-sputter time".into(),
                    value: presputter_s,
                    allowed: self.duration_s,
                });
            }
        }
        Ok(())
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepositionResult {
    pub duration_s: f64,
    /// Mean values the tool measured during the run, by channel.
    pub measured: Vec<(String, f64)>,
}

/// A deposition tool.
pub trait DepositionTool {
    type Error: std::error::Error;
    fn limits(&self) -> &Limits;
    fn availability(&mut self) -> impl Future<Output = Result<Availability, Self::Error>> + Send;
    fn run(
        &mut self,
        run: &DepositionRun,
    ) -> impl Future<Output = Result<DepositionResult, Self::Error>> + Send;
    fn abort(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

// ---------------------------------------------------------------------------------------------
// Diffractometer
// ---------------------------------------------------------------------------------------------

/// One 2θ scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scan {
    pub two_theta_start: f64,
    pub two_theta_end: f64,
    pub step_deg: f64,
    pub time_per_step_s: f64,
    /// Named sample position (stage slot).
    pub sample_position: String,
}

impl Scan {
    pub fn points(&self) -> usize {
        (((self.two_theta_end - self.two_theta_start) / self.step_deg).round() as usize)
            .saturating_add(1)
    }

    pub fn check(
        &self,
        limits: &Limits,
        campaign: Option<&SafetyLimits>,
    ) -> Result<(), LimitViolation> {
        let c = Checker::new(limits, campaign);
        c.two_theta("scan start", self.two_theta_start)?;
        c.two_theta("scan end", self.two_theta_end)?;
        if self.two_theta_end <= self.two_theta_start {
            return Err(LimitViolation {
                limit: "scan_end_after_start",
                origin: "instrument",
                what: "scan end".into(),
                value: self.two_theta_end,
                allowed: self.two_theta_start,
            });
        }
        if !(self.step_deg > 0.0 && self.step_deg.is_finite()) || self.points() > 1_000_000 {
            return Err(LimitViolation {
                limit: "step_positive",
                origin: "instrument",
                what: "scan step".into(),
                value: self.step_deg,
                allowed: 0.0,
            });
        }
        if !(self.time_per_step_s > 0.0 && self.time_per_step_s.is_finite()) {
            return Err(LimitViolation {
                limit: "time_positive",
                origin: "instrument",
                what: "time per step".into(),
                value: self.time_per_step_s,
                allowed: 0.0,
            });
        }
        c.duration(
            "scan duration",
            self.points() as f64 * self.time_per_step_s / 60.0,
        )
    }
}

/// A measured pattern with its metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    pub two_theta: Vec<f64>,
    pub intensity: Vec<f64>,
    pub scan: Scan,
    pub instrument: String,
    pub wavelength_angstrom: Option<f64>,
    /// When the scan started and ended, ms since the epoch (injected clock).
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
}

/// A diffractometer.
pub trait Diffractometer {
    type Error: std::error::Error;
    fn limits(&self) -> &Limits;
    fn availability(&mut self) -> impl Future<Output = Result<Availability, Self::Error>> + Send;
    fn scan(&mut self, scan: &Scan) -> impl Future<Output = Result<Pattern, Self::Error>> + Send;
    fn abort(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

// ---------------------------------------------------------------------------------------------
// Sample handler
// ---------------------------------------------------------------------------------------------

/// Move one sample between named positions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    pub sample: String,
    pub from: String,
    pub to: String,
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferDone {
    pub transfer: Transfer,
    /// Who did it: the robot's id, or the person who confirmed it.
    pub by: String,
}

/// A sample handler: a robot, or a person confirming through the API.
pub trait SampleHandler {
    type Error: std::error::Error;
    fn positions(&self) -> &[String];
    fn transfer(
        &mut self,
        transfer: &Transfer,
    ) -> impl Future<Output = Result<TransferDone, Self::Error>> + Send;
}
