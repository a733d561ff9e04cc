//! The daemon's clock: the wall clock, or the simulated lab's sped-up clock when the daemon
//! hosts the lab, so that deadlines, timers and timestamps mean the same on both sides.

use std::time::Duration;

use chrono::{DateTime, Utc};

use athanor_drivers::mqtt::client::Clock;
use athanor_sim::SimClock;

#[derive(Debug, Clone, Copy)]
pub enum DaemonClock {
    Wall,
    Lab(SimClock),
}

impl DaemonClock {
    /// How many times faster than the wall clock it runs.
    pub fn speed(&self) -> f64 {
        match self {
            DaemonClock::Wall => 1.0,
            DaemonClock::Lab(c) => c.speed(),
        }
    }
}

impl Clock for DaemonClock {
    fn now(&self) -> DateTime<Utc> {
        match self {
            DaemonClock::Wall => Utc::now(),
            DaemonClock::Lab(c) => c.now(),
        }
    }

    fn wall(&self, d: Duration) -> Duration {
        match self {
            DaemonClock::Wall => d,
            DaemonClock::Lab(c) => c.wall(d),
        }
    }
}
