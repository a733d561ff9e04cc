//! The furnace's thermal model: a power-limited heater, a first-order hot zone with a lagging
//! thermocouple, a PID controller and a ramp/dwell programmer, with an over-temperature alarm
//! and a heater that can be weakened (a furnace that cannot reach its set point). Pure: time
//! moves only through [`Furnace::step`]; the simulated controller will drive it from the lab's
//! clock, and what it delivered becomes the temperature history a world runs.

mod pid;
mod plant;
mod program;

pub use pid::{Pid, PidGains};
pub use plant::{Plant, PlantSpec};
pub use program::{ProgramStatus, Programmer, Segment};

use serde::Deserialize;

use crate::world::{TemperatureProfile, WorldError};

/// Everything that makes one simulated furnace.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FurnaceSpec {
    #[serde(default)]
    pub plant: PlantSpec,
    #[serde(default)]
    pub pid: PidGains,
    /// The alarm latches (and cuts the heater) when the thermocouple reads above this, °C.
    pub alarm_c: f64,
    /// Longest internal step, s: the controller's update period.
    #[serde(default = "default_control_period")]
    pub control_period_s: f64,
}

fn default_control_period() -> f64 {
    1.0
}

impl Default for FurnaceSpec {
    fn default() -> Self {
        Self {
            plant: PlantSpec::default(),
            pid: PidGains::default(),
            alarm_c: 1150.0,
            control_period_s: default_control_period(),
        }
    }
}

/// What the controller shows at an instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Seconds since the furnace was made.
    pub time_s: f64,
    /// Thermocouple reading, °C.
    pub process_value_c: f64,
    /// Hot-zone temperature (what a sample sees), °C.
    pub hot_zone_c: f64,
    pub working_setpoint_c: f64,
    /// Heater output, %.
    pub output_pct: f64,
    pub status: ProgramStatus,
    pub alarm: bool,
}

/// One furnace, stepped through time.
#[derive(Debug, Clone, PartialEq)]
pub struct Furnace {
    spec: FurnaceSpec,
    plant: Plant,
    pid: Pid,
    programmer: Programmer,
    /// Fraction of the heater's power that works (1: healthy).
    heater_health: f64,
    alarm: bool,
    output_pct: f64,
    time_s: f64,
}

impl Furnace {
    /// A cold furnace with no program.
    pub fn new(spec: FurnaceSpec) -> Self {
        Self {
            spec,
            plant: Plant::new(spec.plant),
            pid: Pid::new(spec.pid),
            programmer: Programmer::new(Vec::new()),
            heater_health: 1.0,
            alarm: false,
            output_pct: 0.0,
            time_s: 0.0,
        }
    }

    /// Loads a program (replacing any other; it does not start).
    pub fn load(&mut self, segments: Vec<Segment>) {
        self.programmer = Programmer::new(segments);
    }

    /// Starts (or resumes) the program from the thermocouple's reading.
    pub fn run(&mut self) {
        self.programmer.run(self.plant.sensor_c);
    }

    /// Holds the program.
    pub fn hold(&mut self) {
        self.programmer.hold();
    }

    /// Stops the program, clears the alarm and the controller's memory; the heater goes off.
    pub fn reset(&mut self) {
        self.programmer.reset();
        self.pid.reset();
        self.alarm = false;
    }

    /// Weakens the heater to `fraction` of its power (a fault: it cannot reach high set points).
    pub fn set_heater_health(&mut self, fraction: f64) {
        self.heater_health = fraction.clamp(0.0, 1.0);
    }

    /// Advances `dt` seconds in control periods and returns the reading at the end.
    pub fn step(&mut self, dt: f64) -> Reading {
        let period = self.spec.control_period_s.max(1e-3);
        let mut left = dt.max(0.0);
        while left > 0.0 {
            let h = left.min(period);
            self.control(h);
            left -= h;
        }
        self.reading()
    }

    fn control(&mut self, dt: f64) {
        self.programmer.step(dt);
        let running = matches!(
            self.programmer.status(),
            ProgramStatus::Run | ProgramStatus::Hold | ProgramStatus::Complete
        );
        self.output_pct = if running && !self.alarm {
            self.pid.update(
                self.programmer.working_setpoint_c(),
                self.plant.sensor_c,
                dt,
            )
        } else {
            0.0
        };
        let power = self.spec.plant.heater_power_w * self.heater_health * self.output_pct / 100.0;
        self.plant.step(power, dt);
        self.time_s += dt;
        if self.plant.sensor_c > self.spec.alarm_c {
            self.alarm = true;
        }
    }

    /// The controller's display now.
    pub fn reading(&self) -> Reading {
        Reading {
            time_s: self.time_s,
            process_value_c: self.plant.sensor_c,
            hot_zone_c: self.plant.temperature_c,
            working_setpoint_c: self.programmer.working_setpoint_c(),
            output_pct: self.output_pct,
            status: self.programmer.status(),
            alarm: self.alarm,
        }
    }

    /// Runs a whole program from now until it completes and the hot zone has come within
    /// `settle_k` of the last target (or `max_s` has passed), recording every `record_s`
    /// seconds. The hot-zone trace is the history a sample in this furnace went through.
    pub fn deliver(
        &mut self,
        segments: Vec<Segment>,
        record_s: f64,
        settle_k: f64,
        max_s: f64,
    ) -> Result<Delivered, WorldError> {
        let last = segments
            .last()
            .map_or(self.plant.temperature_c, |s| s.target_c);
        self.load(segments);
        self.run();
        let start = self.time_s;
        let mut readings = vec![self.reading()];
        loop {
            let r = self.step(record_s.max(self.spec.control_period_s));
            readings.push(r);
            let done =
                r.status == ProgramStatus::Complete && (r.hot_zone_c - last).abs() <= settle_k;
            if done || r.time_s - start >= max_s {
                break;
            }
        }
        let profile = TemperatureProfile::new(
            readings
                .iter()
                .map(|r| (r.time_s - start, r.hot_zone_c))
                .collect(),
        )?;
        Ok(Delivered { readings, profile })
    }
}

/// What a furnace delivered over a program.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub readings: Vec<Reading>,
    /// The hot zone's temperature against time from the program's start.
    pub profile: TemperatureProfile,
}
