//! The furnace body and its thermocouple: one heat capacity heated by a power-limited element
//! and losing heat to the room, C dT/dt = P·u − G (T − T_room), read through a first-order
//! sensor lag. Each step is integrated exactly for a constant heater output.

use serde::Deserialize;

/// Physical constants of one furnace.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlantSpec {
    /// Heater power at 100 % output, W.
    pub heater_power_w: f64,
    /// Heat capacity of the hot zone, J/K.
    pub heat_capacity_j_per_k: f64,
    /// Heat loss to the room, W/K.
    pub loss_w_per_k: f64,
    /// Room temperature, °C.
    pub room_c: f64,
    /// Time constant of the thermocouple, s.
    pub sensor_lag_s: f64,
}

impl Default for PlantSpec {
    /// A bench-top tube furnace: 3 kW, reaches about 1500 °C flat out, time constant 20 min,
    /// thermocouple lag 20 s.
    fn default() -> Self {
        Self {
            heater_power_w: 3000.0,
            heat_capacity_j_per_k: 2400.0,
            loss_w_per_k: 2.0,
            room_c: 25.0,
            sensor_lag_s: 20.0,
        }
    }
}

/// The furnace's temperatures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plant {
    pub spec: PlantSpec,
    /// Hot-zone temperature (what a sample sees), °C.
    pub temperature_c: f64,
    /// Thermocouple reading (what the controller sees), °C.
    pub sensor_c: f64,
}

impl Plant {
    /// A cold furnace at room temperature.
    pub fn new(spec: PlantSpec) -> Self {
        Self {
            spec,
            temperature_c: spec.room_c,
            sensor_c: spec.room_c,
        }
    }

    /// The temperature the hot zone settles at with `power_w` applied.
    pub fn equilibrium_c(&self, power_w: f64) -> f64 {
        self.spec.room_c + power_w / self.spec.loss_w_per_k
    }

    /// Advances `dt` seconds with `power_w` applied throughout.
    pub fn step(&mut self, power_w: f64, dt: f64) {
        let s = &self.spec;
        let tau = s.heat_capacity_j_per_k / s.loss_w_per_k;
        let target = self.equilibrium_c(power_w);
        let start = self.temperature_c;
        let decay = (-dt / tau).exp();
        self.temperature_c = target + (start - target) * decay;
        // The sensor follows the hot zone with its own lag; the hot zone moves exponentially
        // within the step, and the exact response of the lag to it is a two-pole blend.
        let ts = s.sensor_lag_s.max(1e-9);
        let sensor_decay = (-dt / ts).exp();
        let blend = if (tau - ts).abs() < 1e-9 {
            dt / tau * decay
        } else {
            tau / (tau - ts) * (decay - sensor_decay)
        };
        self.sensor_c = target + (self.sensor_c - target) * sensor_decay + (start - target) * blend;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settles_at_room_plus_power_over_loss() {
        let mut p = Plant::new(PlantSpec::default());
        for _ in 0..40_000 {
            p.step(1500.0, 1.0);
        }
        assert!((p.temperature_c - (25.0 + 750.0)).abs() < 1e-6);
        assert!((p.sensor_c - p.temperature_c).abs() < 1e-6);
    }

    #[test]
    fn one_long_step_equals_many_short_ones() {
        let (mut a, mut b) = (
            Plant::new(PlantSpec::default()),
            Plant::new(PlantSpec::default()),
        );
        a.step(2000.0, 600.0);
        for _ in 0..600 {
            b.step(2000.0, 1.0);
        }
        assert!((a.temperature_c - b.temperature_c).abs() < 1e-9);
        assert!((a.sensor_c - b.sensor_c).abs() < 1e-9);
        // The thermocouple lags behind on the way up.
        assert!(a.sensor_c < a.temperature_c);
    }

    #[test]
    fn cools_toward_the_room_without_power() {
        let mut p = Plant::new(PlantSpec::default());
        p.temperature_c = 900.0;
        p.sensor_c = 900.0;
        let mut last = 900.0;
        for _ in 0..10 {
            p.step(0.0, 300.0);
            assert!(p.temperature_c < last && p.temperature_c > 25.0);
            last = p.temperature_c;
        }
    }
}
