//! Search-space mode: a scalar strategy over a campaign's typed search space. Parameters are
//! encoded as features in [0, 1] (numbers scaled by their bounds, categories and precursor sets
//! one-hot); candidates are a Latin hypercube over the space, clipped to the safety envelope.

use athanor_core::{Goal, Parameter, Parameters, SafetyLimits, SearchSpace};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::error::{PlannerError, Result};
use crate::observation::Observation;
use crate::planner::{Planner, Prediction, Proposal};
use crate::sampling::latin_hypercube;
use crate::strategy::Strategy;

/// The search space with temperatures and times clipped to the campaign's safety limits.
pub fn clip_to_envelope(space: &SearchSpace, limits: Option<&SafetyLimits>) -> Result<SearchSpace> {
    space.validate()?;
    let mut out = space.clone();
    let Some(limits) = limits else { return Ok(out) };
    for p in &mut out.parameters {
        let (name, low, high, cap) = match p {
            Parameter::Temperature { name, low, high } => {
                (name, low, high, Some(limits.max_temperature_c))
            }
            Parameter::Time { name, low, high } => (name, low, high, limits.max_duration_min),
            _ => continue,
        };
        if let Some(cap) = cap {
            if *low > cap {
                return Err(PlannerError::Envelope(format!(
                    "`{name}` starts at {low}, above the limit {cap}"
                )));
            }
            *high = high.min(cap);
        }
    }
    Ok(out)
}

/// Width of one parameter's features.
fn width(p: &Parameter) -> usize {
    match p {
        Parameter::Categorical { choices, .. } => choices.len(),
        Parameter::PrecursorSet { precursors, .. } => precursors.len(),
        _ => 1,
    }
}

fn scaled(x: f64, low: f64, high: f64) -> f64 {
    if high > low {
        ((x - low) / (high - low)).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// Features of a parameter set (an error names the parameter that does not fit).
pub fn encode(space: &SearchSpace, parameters: &Parameters) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for p in &space.parameters {
        let bad = |why: &str| PlannerError::Observation(format!("`{}` {why}", p.name()));
        let v = parameters.get(p.name()).ok_or_else(|| bad("is missing"))?;
        match p {
            Parameter::Continuous { low, high, .. }
            | Parameter::Temperature { low, high, .. }
            | Parameter::Time { low, high, .. } => {
                out.push(scaled(
                    v.as_f64().ok_or_else(|| bad("is not a number"))?,
                    *low,
                    *high,
                ));
            }
            Parameter::Integer { low, high, .. } => {
                let x = v.as_i64().ok_or_else(|| bad("is not an integer"))?;
                out.push(scaled(x as f64, *low as f64, *high as f64));
            }
            Parameter::Categorical { choices, .. } => {
                let s = v.as_str().ok_or_else(|| bad("is not a string"))?;
                if !choices.iter().any(|c| c == s) {
                    return Err(bad("is not one of the choices"));
                }
                out.extend(choices.iter().map(|c| f64::from(u8::from(c == s))));
            }
            Parameter::PrecursorSet { precursors, .. } => {
                let items: Vec<&str> = v
                    .as_array()
                    .ok_or_else(|| bad("is not a list"))?
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                out.extend(
                    precursors
                        .iter()
                        .map(|c| f64::from(u8::from(items.contains(&c.as_str())))),
                );
            }
        }
    }
    Ok(out)
}

/// A parameter set drawn from one unit coordinate per parameter (precursor sets also use `rng`).
pub fn decode_unit(space: &SearchSpace, unit: &[f64], rng: &mut ChaCha8Rng) -> Parameters {
    let mut out = Parameters::new();
    for (p, &u) in space.parameters.iter().zip(unit) {
        let value = match p {
            Parameter::Continuous { low, high, .. }
            | Parameter::Temperature { low, high, .. }
            | Parameter::Time { low, high, .. } => Value::from(low + u * (high - low)),
            Parameter::Integer { low, high, .. } => {
                let span = (high - low + 1) as f64;
                Value::from((*low + (u * span).floor() as i64).min(*high))
            }
            Parameter::Categorical { choices, .. } => {
                let i = ((u * choices.len() as f64) as usize).min(choices.len() - 1);
                Value::from(choices[i].clone())
            }
            Parameter::PrecursorSet {
                precursors, size, ..
            } => {
                let k = if *size > 0 {
                    *size
                } else {
                    1 + ((u * precursors.len() as f64) as usize).min(precursors.len() - 1)
                };
                let mut pick: Vec<&String> = precursors.iter().collect();
                pick.shuffle(rng);
                pick.truncate(k);
                Value::from(pick.into_iter().cloned().collect::<Vec<String>>())
            }
        };
        out.insert(p.name().to_owned(), value);
    }
    out
}

/// A scalar planner over a typed search space.
#[derive(Debug)]
pub struct SpacePlanner {
    space: SearchSpace,
    goal: Goal,
    strategy: Box<dyn Strategy>,
    rng: ChaCha8Rng,
    features: Vec<Vec<f64>>,
    values: Vec<f64>,
    /// Candidates drawn per ask.
    pub candidates: usize,
}

impl SpacePlanner {
    pub fn new(
        space: &SearchSpace,
        limits: Option<&SafetyLimits>,
        goal: Goal,
        strategy: Box<dyn Strategy>,
        seed: u64,
    ) -> Result<Self> {
        Ok(Self {
            space: clip_to_envelope(space, limits)?,
            goal,
            strategy,
            rng: ChaCha8Rng::seed_from_u64(seed),
            features: Vec::new(),
            values: Vec::new(),
            candidates: 256,
        })
    }

    /// The space proposals are drawn from (after clipping to the envelope).
    pub fn space(&self) -> &SearchSpace {
        &self.space
    }
}

impl Planner for SpacePlanner {
    fn name(&self) -> &str {
        self.strategy.name()
    }

    fn tell(&mut self, observation: Observation) -> Result<()> {
        let value = observation.scalar(&self.goal).ok_or_else(|| {
            PlannerError::Observation("the goal's property was not measured".into())
        })?;
        self.features
            .push(encode(&self.space, &observation.parameters)?);
        self.values.push(value);
        Ok(())
    }

    fn ask(&mut self, batch: usize) -> Result<Vec<Proposal>> {
        let n = self.candidates.max(batch);
        let dims = self.space.parameters.len();
        let units = latin_hypercube(n, dims, &mut self.rng);
        let params: Vec<Parameters> = units
            .iter()
            .map(|u| decode_unit(&self.space, u, &mut self.rng))
            .collect();
        let features: Vec<Vec<f64>> = params
            .iter()
            .map(|p| encode(&self.space, p))
            .collect::<Result<_>>()?;
        debug_assert!(features
            .iter()
            .all(|f| f.len() == self.space.parameters.iter().map(width).sum::<usize>()));
        let jitter: u64 = self.rng.gen();
        let mut rng = ChaCha8Rng::seed_from_u64(jitter);
        let choices =
            self.strategy
                .choose(&self.features, &self.values, &features, batch, &mut rng);
        let quantity = match &self.goal {
            Goal::PhasePure { target_phase, .. } => format!("weight fraction of {target_phase}"),
            Goal::Property { property, .. } => property.clone(),
        };
        Ok(choices
            .into_iter()
            .map(|c| Proposal {
                parameters: params[c.index].clone(),
                rationale: c.rationale,
                predicted: c.mean.zip(c.sd).map(|(mean, sd)| Prediction {
                    quantity: quantity.clone(),
                    mean,
                    sd,
                }),
                tests_hypothesis: None,
            })
            .collect())
    }
}
