//! A PID controller as furnace controllers run it: proportional band in kelvin, integral and
//! derivative times in seconds, derivative on the measurement (no kick when the set point
//! jumps), output clamped to 0–100 % with the integral frozen while the output is saturated
//! (so it winds up only as far as the overshoot it causes).

use serde::Deserialize;

/// Controller gains.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PidGains {
    /// Error (K) that drives the output through 100 %.
    pub proportional_band_k: f64,
    /// Integral time, s (0: no integral action).
    pub integral_s: f64,
    /// Derivative time, s.
    pub derivative_s: f64,
}

impl Default for PidGains {
    /// Gains that hold the default furnace within a kelvin at dwell and overshoot a step to
    /// 800 °C by about 7 K (a fast integral, as controllers left on factory settings have).
    fn default() -> Self {
        Self {
            proportional_band_k: 20.0,
            integral_s: 60.0,
            derivative_s: 30.0,
        }
    }
}

/// The controller's memory between steps.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pid {
    pub gains: PidGains,
    integral: f64,
    last_measurement: Option<f64>,
}

impl Pid {
    pub fn new(gains: PidGains) -> Self {
        Self {
            gains,
            integral: 0.0,
            last_measurement: None,
        }
    }

    /// The output (0–100 %) after `dt` seconds with this set point and measurement.
    pub fn update(&mut self, setpoint: f64, measurement: f64, dt: f64) -> f64 {
        let g = self.gains;
        let kp = 100.0 / g.proportional_band_k;
        let error = setpoint - measurement;
        let slope = match self.last_measurement {
            Some(last) if dt > 0.0 => (measurement - last) / dt,
            _ => 0.0,
        };
        self.last_measurement = Some(measurement);
        let integral = if g.integral_s > 0.0 {
            self.integral + error * dt / g.integral_s
        } else {
            0.0
        };
        let unclamped = kp * (error + integral - g.derivative_s * slope);
        let output = unclamped.clamp(0.0, 100.0);
        // Conditional integration: keep the new integral only while it does not push the
        // output further into saturation.
        let saturating = (unclamped > 100.0 && error > 0.0) || (unclamped < 0.0 && error < 0.0);
        if !saturating {
            self.integral = integral;
        }
        output
    }

    /// Forgets the integral and the last measurement (a controller reset).
    pub fn reset(&mut self) {
        self.integral = 0.0;
        self.last_measurement = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proportional_output_and_clamping() {
        let mut pid = Pid::new(PidGains {
            proportional_band_k: 20.0,
            integral_s: 0.0,
            derivative_s: 0.0,
        });
        assert!((pid.update(100.0, 95.0, 1.0) - 25.0).abs() < 1e-12);
        assert_eq!(pid.update(500.0, 95.0, 1.0), 100.0);
        assert_eq!(pid.update(0.0, 95.0, 1.0), 0.0);
    }

    #[test]
    fn the_integral_does_not_wind_up_while_saturated() {
        let mut pid = Pid::new(PidGains::default());
        for _ in 0..10_000 {
            assert_eq!(pid.update(1000.0, 25.0, 1.0), 100.0);
        }
        // At the set point the output falls straight back: nothing was stored while saturated.
        let out = pid.update(1000.0, 1000.0, 1.0);
        assert!(out < 1.0, "{out}");
    }
}
