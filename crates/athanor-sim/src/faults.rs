//! Faults of the simulated instruments, configured per instrument in the lab file and
//! reproducible from a seed: each fault is a [`Trigger`] that fires on chosen occurrences
//! (`on = [3]`: the third time the event happens) or with a probability drawn from a generator
//! seeded by the lab's seed, the instrument and the fault's name, so that the same seed and the
//! same sequence of events give the same faults.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// When a fault happens.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Chance on each occurrence of the event (0 to 1).
    #[serde(default)]
    pub probability: f64,
    /// Occurrences (1-based) on which it fires whatever the probability.
    #[serde(default)]
    pub on: Vec<u64>,
    /// How long the fault lasts, lab seconds (stop answering, disconnect, broker restart).
    #[serde(default)]
    pub for_s: f64,
}

/// The faults one instrument may show. Every field is optional; none means a healthy
/// instrument.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Serial: a request is swallowed (no answer; the driver times out and retries).
    pub drop_frame: Option<Trigger>,
    /// Serial: the answer goes out with a byte flipped (bad CRC).
    pub corrupt_frame: Option<Trigger>,
    /// Serial or MQTT: the controller stops answering for `for_s` lab seconds.
    pub stop_answering: Option<Trigger>,
    /// Furnace: the heater delivers only this share of its power (cannot reach its set point).
    pub heater_health: Option<f64>,
    /// MQTT: the controller's connection drops without a goodbye when a command arrives, and
    /// comes back after `for_s` lab seconds with the same session.
    pub disconnect: Option<Trigger>,
    /// Diffractometer: a scan aborts halfway and reports a failed result with its partial data.
    pub abort_scan: Option<Trigger>,
    /// Sample handler: the sample falls in transfer (lost; the result says so).
    pub drop_sample: Option<Trigger>,
    /// Hosted broker: it restarts when a command arrives on this instrument, down `for_s` lab
    /// seconds (only when the lab runs the broker itself).
    pub broker_restart: Option<Trigger>,
}

/// The faults of one kind on one instrument: its trigger, its own counter and generator.
#[derive(Debug, Clone)]
pub struct Fault {
    trigger: Trigger,
    count: u64,
    rng: ChaCha8Rng,
}

impl Fault {
    /// The fault `name` of `instrument`, drawn from `seed`.
    pub fn new(trigger: Trigger, seed: u64, instrument: &str, name: &str) -> Self {
        Self {
            trigger,
            count: 0,
            rng: ChaCha8Rng::seed_from_u64(stream_seed(seed, &[instrument, name])),
        }
    }

    /// Counts one occurrence of the event; true when the fault fires on it.
    pub fn fires(&mut self) -> bool {
        self.count += 1;
        // Always draw, so that `on` does not shift the random sequence.
        let roll: f64 = self.rng.gen();
        self.trigger.on.contains(&self.count) || roll < self.trigger.probability
    }

    /// How long it lasts, lab seconds.
    pub fn duration_s(&self) -> f64 {
        self.trigger.for_s.max(0.0)
    }

    /// Occurrences counted so far.
    pub fn occurrences(&self) -> u64 {
        self.count
    }
}

/// A seed for one named stream of randomness: FNV-1a over the lab's seed and the names (stable
/// across builds and platforms, unlike the standard library's hasher).
pub fn stream_seed(seed: u64, names: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    seed.to_le_bytes().into_iter().for_each(&mut eat);
    for n in names {
        n.bytes().for_each(&mut eat);
        eat(0);
    }
    h
}

/// An optional fault: one that is not configured never fires.
pub fn fires(f: &mut Option<Fault>) -> bool {
    f.as_mut().is_some_and(Fault::fires)
}

/// The armed faults of one instrument.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    pub drop_frame: Option<Fault>,
    pub corrupt_frame: Option<Fault>,
    pub stop_answering: Option<Fault>,
    pub disconnect: Option<Fault>,
    pub abort_scan: Option<Fault>,
    pub drop_sample: Option<Fault>,
    pub broker_restart: Option<Fault>,
}

impl Faults {
    pub fn arm(spec: &FaultSpec, seed: u64, instrument: &str) -> Self {
        let arm = |t: &Option<Trigger>, name: &str| {
            t.clone().map(|t| Fault::new(t, seed, instrument, name))
        };
        Self {
            drop_frame: arm(&spec.drop_frame, "drop_frame"),
            corrupt_frame: arm(&spec.corrupt_frame, "corrupt_frame"),
            stop_answering: arm(&spec.stop_answering, "stop_answering"),
            disconnect: arm(&spec.disconnect, "disconnect"),
            abort_scan: arm(&spec.abort_scan, "abort_scan"),
            drop_sample: arm(&spec.drop_sample, "drop_sample"),
            broker_restart: arm(&spec.broker_restart, "broker_restart"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(probability: f64, on: Vec<u64>) -> Trigger {
        Trigger {
            probability,
            on,
            for_s: 0.0,
        }
    }

    #[test]
    fn chosen_occurrences_fire_and_no_others() {
        let mut f = Fault::new(trigger(0.0, vec![2, 5]), 1, "xrd-1", "abort_scan");
        let fired: Vec<bool> = (0..6).map(|_| f.fires()).collect();
        assert_eq!(fired, [false, true, false, false, true, false]);
        assert_eq!(f.occurrences(), 6);
        assert!(!fires(&mut None));
    }

    #[test]
    fn probabilities_repeat_for_a_seed_and_differ_between_seeds_and_instruments() {
        let run = |seed, id: &str| {
            let mut f = Fault::new(trigger(0.3, vec![]), seed, id, "drop_frame");
            (0..200).map(|_| f.fires()).collect::<Vec<_>>()
        };
        assert_eq!(run(7, "furnace-1"), run(7, "furnace-1"));
        assert_ne!(run(7, "furnace-1"), run(8, "furnace-1"));
        assert_ne!(run(7, "furnace-1"), run(7, "furnace-2"));
        let share = run(7, "furnace-1").iter().filter(|b| **b).count() as f64 / 200.0;
        assert!((0.2..0.4).contains(&share), "{share}");
    }
}
