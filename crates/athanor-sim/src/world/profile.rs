//! A temperature history: the (time, temperature) points a furnace really delivered, linear in
//! between, walked in small steps for the kinetics.

use super::error::WorldError;
use super::kinetics::ZERO_CELSIUS;

/// Largest temperature change within one integration step, K.
pub const MAX_STEP_KELVIN: f64 = 5.0;

/// Temperature against time; times in seconds from the start, temperatures in °C.
#[derive(Debug, Clone, PartialEq)]
pub struct TemperatureProfile {
    points: Vec<(f64, f64)>,
}

/// One integration step: its length and the temperature at its middle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub dt: f64,
    pub t_k: f64,
}

impl TemperatureProfile {
    /// A profile through `points` (time s, temperature °C): at least one point, times starting at
    /// or after 0 and strictly increasing, temperatures above absolute zero.
    pub fn new(points: Vec<(f64, f64)>) -> Result<Self, WorldError> {
        if points.is_empty() {
            return Err(WorldError::history("profile", "no points"));
        }
        let mut last_time = f64::NEG_INFINITY;
        for (i, &(t, temp)) in points.iter().enumerate() {
            if !(t.is_finite() && t >= 0.0 && t > last_time) {
                return Err(WorldError::history(
                    format!("profile[{i}].time"),
                    format!("{t} s must be finite, at least 0 and after the previous point"),
                ));
            }
            if !(temp.is_finite() && temp > -ZERO_CELSIUS) {
                return Err(WorldError::history(
                    format!("profile[{i}].temperature"),
                    format!("{temp} °C is not a temperature"),
                ));
            }
            last_time = t;
        }
        Ok(Self { points })
    }

    /// A furnace program from `start_c`: ramp at `ramp_c_per_min` to `peak_c`, hold `dwell_s`,
    /// cool at `cool_c_per_min` back to `start_c`.
    pub fn ramp_dwell_cool(
        start_c: f64,
        peak_c: f64,
        ramp_c_per_min: f64,
        dwell_s: f64,
        cool_c_per_min: f64,
    ) -> Result<Self, WorldError> {
        if !(ramp_c_per_min > 0.0 && cool_c_per_min > 0.0 && dwell_s >= 0.0) {
            return Err(WorldError::history(
                "profile",
                "ramp and cooling rates must be positive and the dwell not negative",
            ));
        }
        let rise = (peak_c - start_c).abs() / ramp_c_per_min * 60.0;
        let fall = (peak_c - start_c).abs() / cool_c_per_min * 60.0;
        let mut points = vec![(0.0, start_c)];
        if rise > 0.0 {
            points.push((rise, peak_c));
        }
        if dwell_s > 0.0 {
            points.push((rise + dwell_s, peak_c));
        }
        if fall > 0.0 {
            points.push((rise + dwell_s + fall, start_c));
        }
        Self::new(points)
    }

    /// The points.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// Total duration, s.
    pub fn duration(&self) -> f64 {
        self.points.last().map_or(0.0, |p| p.0) - self.points.first().map_or(0.0, |p| p.0)
    }

    /// Highest temperature, °C.
    pub fn peak_c(&self) -> f64 {
        self.points
            .iter()
            .map(|p| p.1)
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// The profile cut into steps no longer than `max_dt` and spanning at most
    /// [`MAX_STEP_KELVIN`], each segment on its own (a quench gets many short steps).
    pub fn steps(&self, max_dt: f64) -> impl Iterator<Item = Step> + '_ {
        self.points.windows(2).flat_map(move |w| {
            let ((t0, c0), (t1, c1)) = (w[0], w[1]);
            // At most u32::MAX steps per segment (over a century at 1 s): the count and the
            // step length always agree, so the steps cover the segment exactly.
            let n = ((t1 - t0) / max_dt)
                .ceil()
                .max(((c1 - c0).abs() / MAX_STEP_KELVIN).ceil())
                .clamp(1.0, f64::from(u32::MAX));
            let dt = (t1 - t0) / n;
            let count = n as u32;
            (0..count).map(move |i| {
                let mid = (f64::from(i) + 0.5) / n;
                Step {
                    dt,
                    t_k: c0 + (c1 - c0) * mid + ZERO_CELSIUS,
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_points() {
        assert!(TemperatureProfile::new(vec![]).is_err());
        let e = TemperatureProfile::new(vec![(0.0, 25.0), (0.0, 30.0)]).unwrap_err();
        assert_eq!(e.key(), "profile[1].time");
        let e = TemperatureProfile::new(vec![(0.0, -300.0)]).unwrap_err();
        assert_eq!(e.key(), "profile[0].temperature");
    }

    #[test]
    fn steps_cover_the_profile_with_midpoint_temperatures() {
        let p = TemperatureProfile::new(vec![(0.0, 25.0), (100.0, 125.0), (160.0, 125.0)]).unwrap();
        let steps: Vec<Step> = p.steps(30.0).collect();
        let total: f64 = steps.iter().map(|s| s.dt).sum();
        assert!((total - p.duration()).abs() < 1e-9);
        assert!(steps.iter().all(|s| s.dt <= 30.0));
        assert_eq!(
            steps.len(),
            20 + 2,
            "100 K in 5 K steps, then 60 s in 30 s steps"
        );
        assert!((steps[0].t_k - (25.0 + 2.5 + ZERO_CELSIUS)).abs() < 1e-9);
        assert!((steps.last().unwrap().t_k - (125.0 + ZERO_CELSIUS)).abs() < 1e-9);
    }

    #[test]
    fn a_furnace_program_ramps_holds_and_cools() {
        let p = TemperatureProfile::ramp_dwell_cool(25.0, 925.0, 5.0, 3600.0, 10.0).unwrap();
        assert_eq!(p.peak_c(), 925.0);
        assert!((p.duration() - (180.0 * 60.0 + 3600.0 + 90.0 * 60.0)).abs() < 1e-9);
    }
}
