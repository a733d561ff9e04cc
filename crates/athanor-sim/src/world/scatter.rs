//! Sample-to-sample scatter drawn from a seed: a log-normal factor per process rate and per
//! phase crystallite size. The same world and seed always draw the same factors.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::model::World;

/// The factors one sample draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    /// Per process of [`World::processes`].
    pub rates: Vec<f64>,
    /// Per phase of [`World::phases`].
    pub sizes: Vec<f64>,
}

impl Scatter {
    /// Draws the factors for `seed`: rates first, then sizes, in the world's order.
    pub fn draw(world: &World, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut factor = |sigma: f64| {
            let z: f64 = StandardNormal.sample(&mut rng);
            (sigma * z).exp()
        };
        let rates = world
            .processes
            .iter()
            .map(|_| factor(world.rate_scatter))
            .collect();
        let sizes = world
            .phases
            .iter()
            .map(|_| factor(world.size_scatter))
            .collect();
        Self { rates, sizes }
    }
}
