//! The simulated lab's clock: the wall clock sped up by a factor, so that a 12-hour furnace
//! program runs in seconds. Everything in the lab — the furnaces' thermal models, the
//! instruments' action times, the timestamps on the wire — reads this clock, and a daemon that
//! hosts the lab gives the same clock to its MQTT driver, so deadlines mean the same on both
//! sides.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use athanor_drivers::mqtt::client::Clock;

/// Lab time = `origin` + (wall time since start) × `speed`.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    start: Instant,
    origin: DateTime<Utc>,
    speed: f64,
}

impl SimClock {
    /// A clock that starts now, at the wall clock's date, running `speed` times faster
    /// (clamped to 1e-3 ..= 1e6).
    pub fn new(speed: f64) -> Self {
        Self {
            start: Instant::now(),
            origin: Utc::now(),
            speed: if speed.is_finite() {
                speed.clamp(1e-3, 1e6)
            } else {
                1.0
            },
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Lab seconds since the clock started.
    pub fn elapsed_s(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.speed
    }

    /// The lab's instant `seconds` after its start.
    pub fn at(&self, seconds: f64) -> DateTime<Utc> {
        self.origin + TimeDelta::microseconds((seconds * 1e6).round() as i64)
    }

    /// Lab seconds from the start to `t` (negative before it).
    pub fn seconds_at(&self, t: DateTime<Utc>) -> f64 {
        (t - self.origin).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6
    }

    /// Wall time for `lab_s` lab seconds to pass.
    pub fn wall_for(&self, lab_s: f64) -> Duration {
        Duration::from_secs_f64((lab_s / self.speed).max(0.0))
    }
}

impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        self.at(self.elapsed_s())
    }

    fn wall(&self, d: Duration) -> Duration {
        d.div_f64(self.speed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_time_maps_to_instants_and_back_and_wall_time_shrinks_by_the_speed() {
        let c = SimClock::new(1000.0);
        let t = c.at(3600.0);
        assert!((c.seconds_at(t) - 3600.0).abs() < 1e-6);
        assert_eq!(c.wall_for(3600.0), Duration::from_millis(3600));
        assert_eq!(c.wall(Duration::from_secs(10)), Duration::from_millis(10));
        assert_eq!(SimClock::new(f64::NAN).speed(), 1.0);
    }
}
