//! The simulated lab's state, sans-io: its furnaces (register-mapped controllers over thermal
//! models), its samples and where they are, what each sample went through, the instruments'
//! faults, and the log of every physical action executed. Time is lab seconds passed in by the
//! caller; the I/O layer (`serve/`) feeds it serial frames and MQTT commands.
//!
//! A sample's history is physical: a furnace heats whatever is inside it, so a sample's
//! temperature profile is the furnace's hot-zone trace from when it was loaded until it was
//! taken out (several firings add up). Its phases are what the world makes of that history,
//! computed when the diffractometer scans it.

mod actions;
pub mod log;
pub mod spec;

use std::collections::BTreeMap;
use std::sync::Arc;

use athanor_drivers::eurotherm::RegisterMap;
use athanor_xrd::profile::InstrumentProfile;

use crate::diffractometer::Detector;
use crate::faults::{fires, stream_seed, Faults};
use crate::furnace_controller::{FurnaceController, Reply};
use crate::thermal::FurnaceSpec;
use crate::world::{Deposit, FilmHistory, Outcome, PowderHistory, TemperatureProfile, World};

pub use actions::{Job, Plan, Rejection};
pub use log::{ActionLog, LoggedAction};
pub use spec::LabSpec;

/// The position where samples are prepared and stored.
pub const BENCH: &str = "bench";

/// What a sample is made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Material {
    /// Precursor powders (mol) fired under an atmosphere of the world.
    Powder {
        precursors: Vec<(String, f64)>,
        atmosphere: String,
    },
    /// A co-deposited film.
    Film(Deposit),
}

/// One sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub id: String,
    pub material: Material,
    /// The position it is at (`bench`, an instrument id); empty once lost.
    pub location: String,
    /// Lab time it was loaded into the furnace it is in.
    pub loaded_at_s: Option<f64>,
    /// Every firing so far, one after another (seconds from the first, °C).
    pub heat: Vec<(f64, f64)>,
    pub lost: bool,
}

impl Sample {
    /// Its temperature history (room temperature if it was never fired).
    pub fn profile(&self) -> TemperatureProfile {
        let points = if self.heat.is_empty() {
            vec![(0.0, crate::world::ROOM_C)]
        } else {
            self.heat.clone()
        };
        TemperatureProfile::new(points).unwrap_or_else(|_| {
            TemperatureProfile::new(vec![(0.0, crate::world::ROOM_C)])
                .expect("a one-point profile at room temperature is valid")
        })
    }
}

/// A furnace of the lab.
#[derive(Debug, Clone)]
pub struct FurnaceSlot {
    pub controller: FurnaceController,
    faults: Faults,
    silent_until_s: f64,
}

/// The diffractometer of the lab.
#[derive(Debug, Clone)]
pub struct DiffractometerSlot {
    pub id: String,
    pub profile: InstrumentProfile,
    pub detector: Detector,
    scans: u64,
}

/// What the serial line should do with the bytes it holds.
#[derive(Debug, Clone, PartialEq)]
pub enum SerialReply {
    /// Wait for more bytes.
    Incomplete,
    /// Drop the bytes held and answer nothing (garbage, another unit, or a fault).
    Silence,
    /// Send `bytes`; `consumed` bytes of the input were one frame.
    Answer { bytes: Vec<u8>, consumed: usize },
}

/// The simulated lab.
#[derive(Debug)]
pub struct Lab {
    world: Arc<World>,
    seed: u64,
    furnaces: BTreeMap<String, FurnaceSlot>,
    diffractometer: Option<DiffractometerSlot>,
    deposition_tool: Option<String>,
    sample_handler: Option<String>,
    faults: BTreeMap<String, Faults>,
    samples: BTreeMap<String, Sample>,
    log: ActionLog,
}

/// A lab file's furnace after its register map has been read.
#[derive(Debug, Clone)]
pub struct FurnaceBuild {
    pub id: String,
    pub map: RegisterMap,
    pub unit: u8,
    pub spec: FurnaceSpec,
}

impl Lab {
    /// A lab in `world`: furnaces with their maps, the MQTT instruments and their faults from
    /// the lab file, `seed` for every random draw, starting at lab time `now_s`.
    pub fn new(
        world: Arc<World>,
        spec: &LabSpec,
        furnaces: Vec<FurnaceBuild>,
        profile: Option<InstrumentProfile>,
        seed: u64,
        now_s: f64,
    ) -> Self {
        let arm =
            |id: &str| Faults::arm(&spec.faults.get(id).cloned().unwrap_or_default(), seed, id);
        let furnaces = furnaces
            .into_iter()
            .map(|f| {
                let mut controller = FurnaceController::new(f.map, f.unit, f.spec, now_s);
                if let Some(h) = spec.faults.get(&f.id).and_then(|s| s.heater_health) {
                    controller.furnace_mut().set_heater_health(h);
                }
                let slot = FurnaceSlot {
                    controller,
                    faults: arm(&f.id),
                    silent_until_s: f64::NEG_INFINITY,
                };
                (f.id, slot)
            })
            .collect();
        let mut faults = BTreeMap::new();
        let diffractometer = match (&spec.diffractometer, profile) {
            (Some(d), Some(profile)) => {
                faults.insert(d.id.clone(), arm(&d.id));
                Some(DiffractometerSlot {
                    id: d.id.clone(),
                    profile,
                    detector: d.detector.clone(),
                    scans: 0,
                })
            }
            _ => None,
        };
        for i in [&spec.deposition_tool, &spec.sample_handler]
            .into_iter()
            .flatten()
        {
            faults.insert(i.id.clone(), arm(&i.id));
        }
        Self {
            world,
            seed,
            furnaces,
            diffractometer,
            deposition_tool: spec.deposition_tool.as_ref().map(|i| i.id.clone()),
            sample_handler: spec.sample_handler.as_ref().map(|i| i.id.clone()),
            faults,
            samples: BTreeMap::new(),
            log: ActionLog::default(),
        }
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every physical action executed so far.
    pub fn log(&self) -> &ActionLog {
        &self.log
    }

    pub fn log_mut(&mut self) -> &mut ActionLog {
        &mut self.log
    }

    pub fn furnace(&self, id: &str) -> Option<&FurnaceSlot> {
        self.furnaces.get(id)
    }

    pub fn furnace_ids(&self) -> impl Iterator<Item = &str> {
        self.furnaces.keys().map(String::as_str)
    }

    pub fn sample(&self, id: &str) -> Option<&Sample> {
        self.samples.get(id)
    }

    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.values()
    }

    /// The MQTT instruments' ids with their classes.
    pub fn mqtt_instruments(&self) -> Vec<(String, athanor_core::InstrumentClass)> {
        use athanor_core::InstrumentClass as C;
        let mut v = Vec::new();
        if let Some(d) = &self.diffractometer {
            v.push((d.id.clone(), C::Diffractometer));
        }
        if let Some(d) = &self.deposition_tool {
            v.push((d.clone(), C::DepositionTool));
        }
        if let Some(h) = &self.sample_handler {
            v.push((h.clone(), C::SampleHandler));
        }
        v
    }

    /// The armed faults of an MQTT instrument.
    pub fn faults_mut(&mut self, instrument: &str) -> Option<&mut Faults> {
        self.faults.get_mut(instrument)
    }

    /// Runs every furnace's thermal model up to lab time `t_s`.
    pub fn advance_to(&mut self, t_s: f64) {
        for f in self.furnaces.values_mut() {
            f.controller.advance_to(t_s);
        }
        // Keep only the trace that samples inside still need (and a little before).
        for (id, f) in &mut self.furnaces {
            let oldest = self
                .samples
                .values()
                .filter(|s| &s.location == id)
                .filter_map(|s| s.loaded_at_s)
                .fold(t_s, f64::min);
            f.controller.forget_before(oldest - 60.0);
        }
    }

    /// Handles bytes from furnace `id`'s serial line at lab time `now_s`, with its faults.
    pub fn on_serial(&mut self, id: &str, buf: &[u8], now_s: f64) -> SerialReply {
        self.advance_to(now_s);
        let Some(slot) = self.furnaces.get_mut(id) else {
            return SerialReply::Silence;
        };
        let reply = slot.controller.on_bytes(buf, now_s);
        let (bytes, consumed, executed) = match reply {
            Reply::Incomplete => return SerialReply::Incomplete,
            Reply::Ignore => return SerialReply::Silence,
            Reply::Answer {
                bytes,
                consumed,
                executed,
            } => (bytes, consumed, executed),
        };
        // The request reached the controller: faults decide whether and how it answers. A
        // swallowed write was still executed (the answer is what got lost), as on a real line.
        for e in &executed {
            self.log.push(LoggedAction::serial(id, now_s, e));
        }
        if now_s < slot.silent_until_s {
            return SerialReply::Silence;
        }
        if fires(&mut slot.faults.stop_answering) {
            let f = slot
                .faults
                .stop_answering
                .as_ref()
                .map_or(0.0, |f| f.duration_s());
            slot.silent_until_s = now_s + f;
            return SerialReply::Silence;
        }
        if fires(&mut slot.faults.drop_frame) {
            return SerialReply::Silence;
        }
        let mut bytes = bytes;
        if fires(&mut slot.faults.corrupt_frame) {
            if let Some(last) = bytes.last_mut() {
                *last ^= 0x5A;
            }
        }
        SerialReply::Answer { bytes, consumed }
    }

    /// What the world makes of a sample's history (its true phases).
    pub fn truth(&self, sample: &str) -> Result<Outcome, String> {
        let s = self
            .samples
            .get(sample)
            .ok_or_else(|| format!("no sample '{sample}'"))?;
        let seed = stream_seed(self.seed, &["sample", &s.id]);
        let result = match &s.material {
            Material::Powder {
                precursors,
                atmosphere,
            } => self.world.run_powder(
                &PowderHistory {
                    precursors: precursors.clone(),
                    profile: s.profile(),
                    atmosphere: atmosphere.clone(),
                },
                seed,
            ),
            Material::Film(deposit) => self.world.run_film(
                &FilmHistory {
                    deposit: deposit.clone(),
                    anneal: s.profile(),
                },
                seed,
            ),
        };
        result.map_err(|e| e.to_string())
    }
}
