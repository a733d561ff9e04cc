//! Benchmark protocols: the pool-based BO benchmarks, the YBCO replay, and the registry of
//! planners that take part. The binary's `athanor bench planners` prints and plots them.

pub mod bo;
pub mod plot;
pub mod pool_protocol;
pub mod stats;
pub mod worlds;
pub mod ybco;

use crate::acquisition::Acquisition;
use crate::bo::{GpConfig, GpStrategy};
use crate::strategy::{RandomStrategy, SpaceFillingStrategy, Strategy};

/// The scalar planners benchmarked, by name, best-known Athanor planner last.
pub const SCALAR_PLANNERS: [&str; 7] = [
    "random",
    "space-filling",
    "gp-iso-lcb",
    "gp-ard-ei",
    "gp-ard-ucb",
    "athanor-gp",
    "athanor-gp-select",
];

/// The Athanor scalar planner: anisotropic GP with a greedy upper confidence bound (μ+0.5σ).
/// Rank warping, kernel selection by evidence and the top-share acquisition were tried on
/// 5 seeds and did not do better overall (docs/benchmarks.md).
pub fn athanor_gp_config() -> GpConfig {
    GpConfig {
        anisotropic: true,
        select_kernel: false,
        acquisition: Acquisition::UpperConfidenceBound { kappa: 0.5 },
        rank_warp: false,
        ..GpConfig::isotropic_lcb()
    }
}

/// A fresh strategy for a registered name.
pub fn scalar_planner(name: &str) -> Option<Box<dyn Strategy>> {
    Some(match name {
        "random" => Box::new(RandomStrategy),
        "space-filling" => Box::new(SpaceFillingStrategy),
        "gp-iso-lcb" => Box::new(GpStrategy::new(name, GpConfig::isotropic_lcb())),
        "gp-ard-ei" => Box::new(GpStrategy::new(name, GpConfig::anisotropic_ei())),
        "gp-ard-ucb" => Box::new(GpStrategy::new(
            name,
            GpConfig {
                acquisition: Acquisition::UpperConfidenceBound { kappa: 2.0 },
                ..GpConfig::anisotropic_ei()
            },
        )),
        "athanor-gp" => Box::new(GpStrategy::new(name, athanor_gp_config())),
        // The same, choosing the isotropic or the ARD kernel by marginal likelihood at each fit.
        "athanor-gp-select" => Box::new(GpStrategy::new(
            name,
            GpConfig {
                select_kernel: true,
                ..athanor_gp_config()
            },
        )),
        _ => return None,
    })
}
