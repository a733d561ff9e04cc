//! What the lab's MQTT instruments do with a command: [`Lab::plan`] checks the parameters and
//! says how long the action takes (a refusal is a typed rejection, nothing happens), and
//! [`Lab::complete`] carries it out when that time has passed and returns the result's data (or
//! a typed failure, e.g. a scan that aborted or a sample that fell).
//!
//! Actions: the sample handler `prepare`s a powder sample from precursors (weighed, mixed, in a
//! boat flushed with the atmosphere it will be fired in) and `transfer`s a sample between
//! positions (`bench`, a furnace, the diffractometer, the deposition tool); the deposition tool
//! `deposit`s a co-sputtered film; the diffractometer `scan`s the sample at a position.

use std::collections::BTreeMap;

use athanor_drivers::instrument::{DepositionRun, Scan, Transfer};
use athanor_drivers::mqtt::messages::RejectCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::log::LoggedAction;
use super::{Lab, Material, Sample, BENCH};
use crate::diffractometer::measure;
use crate::faults::{fires, stream_seed};
use crate::world::Deposit;

/// Lab seconds a preparation takes (weigh, mix, load a boat).
pub const PREPARE_S: f64 = 300.0;
/// Lab seconds a transfer takes.
pub const TRANSFER_S: f64 = 60.0;

/// Why a command is refused before anything happens.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub code: RejectCode,
    pub message: String,
}

impl Rejection {
    fn params(message: impl Into<String>) -> Self {
        Self {
            code: RejectCode::InvalidParams,
            message: message.into(),
        }
    }
}

/// Why an action that started did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub code: String,
    pub message: String,
    /// What was measured before it failed.
    pub data: Option<Value>,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            data: None,
        }
    }
}

/// An accepted action.
#[derive(Debug, Clone, PartialEq)]
pub enum Job {
    Prepare {
        sample: String,
        material: Material,
        position: String,
    },
    Transfer(Transfer),
    Deposit {
        sample: String,
        deposit: Deposit,
    },
    Scan {
        scan: Scan,
        /// The diffractometer's scan count (seeds its noise).
        index: u64,
        /// The fault plan says this scan aborts halfway.
        aborts: bool,
    },
}

/// An accepted action and how long it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub job: Job,
    pub duration_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrepareParams {
    sample: String,
    /// Precursor phase → mol.
    precursors: BTreeMap<String, f64>,
    atmosphere: Option<String>,
    #[serde(default = "bench")]
    position: String,
}

fn bench() -> String {
    BENCH.into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositParams {
    sample: String,
    run: DepositionRun,
}

fn params<T: DeserializeOwned>(action: &str, v: &Value) -> Result<T, Rejection> {
    serde_json::from_value(v.clone())
        .map_err(|e| Rejection::params(format!("{action} parameters: {e}")))
}

impl Lab {
    fn positions(&self) -> Vec<String> {
        let mut p = vec![BENCH.to_owned()];
        p.extend(self.furnaces.keys().cloned());
        p.extend(self.diffractometer.iter().map(|d| d.id.clone()));
        p.extend(self.deposition_tool.iter().cloned());
        p
    }

    fn check_position(&self, what: &str, p: &str) -> Result<(), Rejection> {
        if self.positions().iter().any(|x| x == p) {
            Ok(())
        } else {
            Err(Rejection::params(format!(
                "{what} `{p}` is not a position of this lab ({})",
                self.positions().join(", ")
            )))
        }
    }

    /// Checks a command for `instrument` and plans it; nothing happens yet.
    pub fn plan(&mut self, instrument: &str, action: &str, p: &Value) -> Result<Plan, Rejection> {
        let unknown = || Rejection {
            code: RejectCode::UnknownAction,
            message: format!("{instrument} has no action `{action}`"),
        };
        if self.sample_handler.as_deref() == Some(instrument) {
            match action {
                "prepare" => self.plan_prepare(params(action, p)?),
                "transfer" => self.plan_transfer(params(action, p)?),
                _ => Err(unknown()),
            }
        } else if self.deposition_tool.as_deref() == Some(instrument) {
            match action {
                "deposit" => self.plan_deposit(instrument, params(action, p)?),
                _ => Err(unknown()),
            }
        } else if self
            .diffractometer
            .as_ref()
            .is_some_and(|d| d.id == instrument)
        {
            match action {
                "scan" => self.plan_scan(instrument, params(action, p)?),
                _ => Err(unknown()),
            }
        } else {
            Err(Rejection {
                code: RejectCode::Other,
                message: format!("{instrument} is not an MQTT instrument of this lab"),
            })
        }
    }

    fn plan_prepare(&self, p: PrepareParams) -> Result<Plan, Rejection> {
        if self.samples.contains_key(&p.sample) {
            return Err(Rejection::params(format!(
                "sample `{}` exists already",
                p.sample
            )));
        }
        if p.precursors.is_empty() {
            return Err(Rejection::params("no precursors"));
        }
        for (name, mol) in &p.precursors {
            let known = self
                .world
                .precursors
                .iter()
                .any(|id| self.world.phases[*id].name == *name);
            if !known {
                return Err(Rejection::params(format!(
                    "`{name}` is not a precursor on this lab's shelf"
                )));
            }
            if !(mol.is_finite() && *mol > 0.0 && *mol <= 100.0) {
                return Err(Rejection::params(format!(
                    "{name}: {mol} mol is not an amount to weigh (0 < n ≤ 100)"
                )));
            }
        }
        let atmosphere = match p.atmosphere {
            Some(a) if self.world.atmospheres.contains_key(&a) => a,
            Some(a) => {
                return Err(Rejection::params(format!(
                    "atmosphere `{a}` is not one of {}",
                    self.world
                        .atmospheres
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
            None if self.world.atmospheres.contains_key("air") => "air".into(),
            None => self
                .world
                .atmospheres
                .keys()
                .next()
                .cloned()
                .ok_or_else(|| Rejection::params("the world has no atmosphere"))?,
        };
        self.check_position("position", &p.position)?;
        Ok(Plan {
            job: Job::Prepare {
                sample: p.sample,
                material: Material::Powder {
                    precursors: p.precursors.into_iter().collect(),
                    atmosphere,
                },
                position: p.position,
            },
            duration_s: PREPARE_S,
        })
    }

    fn plan_transfer(&self, t: Transfer) -> Result<Plan, Rejection> {
        self.check_position("from", &t.from)?;
        self.check_position("to", &t.to)?;
        let s = self
            .samples
            .get(&t.sample)
            .ok_or_else(|| Rejection::params(format!("no sample `{}`", t.sample)))?;
        if s.location != t.from {
            return Err(Rejection::params(format!(
                "sample `{}` is at `{}`, not `{}`",
                t.sample,
                if s.lost { "(lost)" } else { &s.location },
                t.from
            )));
        }
        if t.to != BENCH && self.samples.values().any(|o| o.location == t.to) {
            return Err(Rejection {
                code: RejectCode::Busy,
                message: format!("`{}` holds a sample already", t.to),
            });
        }
        Ok(Plan {
            job: Job::Transfer(t),
            duration_s: TRANSFER_S,
        })
    }

    fn plan_deposit(&self, tool: &str, p: DepositParams) -> Result<Plan, Rejection> {
        let film = self
            .world
            .film
            .as_ref()
            .ok_or_else(|| Rejection::params("this world has no thin-film model"))?;
        if self.samples.contains_key(&p.sample) {
            return Err(Rejection::params(format!(
                "sample `{}` exists already",
                p.sample
            )));
        }
        if self.samples.values().any(|o| o.location == tool) {
            return Err(Rejection {
                code: RejectCode::Busy,
                message: format!("{tool} holds a sample; take it out first"),
            });
        }
        if !(p.run.duration_s.is_finite() && p.run.duration_s > 0.0) {
            return Err(Rejection::params("run.duration_s must be positive"));
        }
        let powers: Vec<(String, f64)> = p
            .run
            .sources
            .iter()
            .map(|s| (s.source.clone(), s.power_w))
            .collect();
        film.composition(&powers)
            .map_err(|e| Rejection::params(format!("run.sources: {e}")))?;
        Ok(Plan {
            duration_s: p.run.duration_s,
            job: Job::Deposit {
                sample: p.sample,
                deposit: Deposit::SourcePowers(powers),
            },
        })
    }

    fn plan_scan(&mut self, id: &str, scan: Scan) -> Result<Plan, Rejection> {
        if !(scan.step_deg > 0.0
            && scan.two_theta_end > scan.two_theta_start
            && scan.two_theta_start > 0.0
            && scan.two_theta_end < 170.0
            && scan.time_per_step_s > 0.0
            && scan.points() <= 100_000)
        {
            return Err(Rejection::params(
                "a scan needs 0 < start < end < 170°, a positive step and time per step, at most 100,000 points",
            ));
        }
        if !self
            .samples
            .values()
            .any(|s| s.location == scan.sample_position)
        {
            return Err(Rejection::params(format!(
                "no sample at `{}`",
                scan.sample_position
            )));
        }
        let aborts = self
            .faults
            .get_mut(id)
            .is_some_and(|f| fires(&mut f.abort_scan));
        let d = self
            .diffractometer
            .as_mut()
            .ok_or_else(|| Rejection::params("no diffractometer"))?;
        d.scans += 1;
        let duration_s = scan.points() as f64 * scan.time_per_step_s;
        Ok(Plan {
            job: Job::Scan {
                scan,
                index: d.scans,
                aborts,
            },
            duration_s: if aborts { duration_s / 2.0 } else { duration_s },
        })
    }

    /// Carries out a planned action at lab time `now_s`; logs it as executed under
    /// `command_id`.
    pub fn complete(
        &mut self,
        instrument: &str,
        command_id: &str,
        plan: Plan,
        now_s: f64,
    ) -> Result<Value, Failure> {
        self.advance_to(now_s);
        let (action, detail, result) = match plan.job {
            Job::Prepare {
                sample,
                material,
                position,
            } => {
                let detail = json!({"sample": sample, "position": position});
                let r = if self.samples.contains_key(&sample) {
                    Err(Failure::new(
                        "sample_exists",
                        format!("sample `{sample}` exists already"),
                    ))
                } else {
                    self.samples.insert(
                        sample.clone(),
                        Sample {
                            id: sample.clone(),
                            material,
                            location: position.clone(),
                            loaded_at_s: None,
                            heat: Vec::new(),
                            lost: false,
                        },
                    );
                    Ok(json!({"sample": sample, "position": position}))
                };
                ("prepare", detail, r)
            }
            Job::Transfer(t) => {
                let detail = json!({"sample": t.sample, "from": t.from, "to": t.to});
                let r = self.transfer(instrument, &t, now_s);
                ("transfer", detail, r)
            }
            Job::Deposit { sample, deposit } => {
                let detail = json!({"sample": sample});
                self.samples.insert(
                    sample.clone(),
                    Sample {
                        id: sample.clone(),
                        material: Material::Film(deposit),
                        location: instrument.to_owned(),
                        loaded_at_s: None,
                        heat: Vec::new(),
                        lost: false,
                    },
                );
                (
                    "deposit",
                    detail,
                    Ok(json!({"sample": sample, "position": instrument})),
                )
            }
            Job::Scan {
                scan,
                index,
                aborts,
            } => {
                let detail = json!({"position": scan.sample_position, "index": index});
                let r = self.scan(instrument, &scan, index, aborts);
                ("scan", detail, r)
            }
        };
        self.log.push(LoggedAction {
            at_s: now_s,
            instrument: instrument.to_owned(),
            command_id: Some(command_id.to_owned()),
            action: action.to_owned(),
            detail,
        });
        result
    }

    fn transfer(&mut self, handler: &str, t: &Transfer, now_s: f64) -> Result<Value, Failure> {
        let Some(s) = self.samples.get(&t.sample) else {
            return Err(Failure::new(
                "no_sample",
                format!("no sample `{}`", t.sample),
            ));
        };
        if s.location != t.from {
            return Err(Failure::new(
                "not_there",
                format!("sample `{}` is not at `{}`", t.sample, t.from),
            ));
        }
        // Leaving a furnace: the sample keeps what the furnace did to it while it was inside.
        let fired = match (self.furnaces.get(&t.from), s.loaded_at_s) {
            (Some(f), Some(since)) => Some(f.controller.trace_since(since)),
            _ => None,
        };
        let dropped = self
            .faults
            .get_mut(handler)
            .is_some_and(|f| fires(&mut f.drop_sample));
        let into_furnace = self.furnaces.contains_key(&t.to);
        let s = self
            .samples
            .get_mut(&t.sample)
            .ok_or_else(|| Failure::new("no_sample", "the sample vanished"))?;
        if let Some(trace) = fired {
            let offset = s.heat.last().map_or(0.0, |p| p.0 + 1.0);
            s.heat
                .extend(trace.into_iter().map(|(dt, c)| (offset + dt, c)));
        }
        s.loaded_at_s = None;
        if dropped {
            s.lost = true;
            s.location.clear();
            return Err(Failure::new(
                "sample_dropped",
                format!(
                    "sample `{}` fell in transfer from {} to {}",
                    t.sample, t.from, t.to
                ),
            ));
        }
        s.location = t.to.clone();
        if into_furnace {
            s.loaded_at_s = Some(now_s);
        }
        Ok(json!({"sample": t.sample, "position": t.to}))
    }

    fn scan(&mut self, id: &str, scan: &Scan, index: u64, aborts: bool) -> Result<Value, Failure> {
        let sample = self
            .samples
            .values()
            .find(|s| s.location == scan.sample_position)
            .map(|s| s.id.clone())
            .ok_or_else(|| {
                Failure::new(
                    "no_sample",
                    format!("no sample at `{}`", scan.sample_position),
                )
            })?;
        let outcome = self
            .truth(&sample)
            .map_err(|e| Failure::new("simulation", e))?;
        let d = self
            .diffractometer
            .as_ref()
            .ok_or_else(|| Failure::new("no_diffractometer", "no diffractometer"))?;
        let seed = stream_seed(self.seed, &[id, &index.to_string()]);
        let fraction = if aborts { 0.5 } else { 1.0 };
        let pattern = measure(
            &self.world,
            &outcome,
            scan,
            &d.profile,
            &d.detector,
            seed,
            fraction,
        )
        .map_err(|e| Failure::new("simulation", e.to_string()))?;
        let data = json!({
            "sample": sample,
            "profile": d.profile.id,
            "wavelength_angstrom": d.profile.wavelength_angstrom,
            "points": pattern.len(),
            "two_theta": pattern.two_theta(),
            "intensity": pattern.intensity(),
            "sigma": pattern.sigma(),
        });
        if aborts {
            return Err(Failure {
                code: "scan_aborted".into(),
                message: format!(
                    "the scan stopped at {:.2}° 2θ (detector fault); {} points measured",
                    pattern.range().1,
                    pattern.len()
                ),
                data: Some(data),
            });
        }
        Ok(data)
    }
}
