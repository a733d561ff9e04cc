//! Space-filling designs in the unit hypercube: Latin hypercube samples and greedy maximin
//! selection from a candidate set.

use rand::seq::SliceRandom;
use rand::Rng;

/// `n` points in `[0, 1]^dims`, one in each of `n` equal slices of every axis.
pub fn latin_hypercube<R: Rng>(n: usize, dims: usize, rng: &mut R) -> Vec<Vec<f64>> {
    let mut points = vec![vec![0.0; dims]; n];
    for d in 0..dims {
        let mut slots: Vec<usize> = (0..n).collect();
        slots.shuffle(rng);
        for (p, s) in points.iter_mut().zip(slots) {
            p[d] = (s as f64 + rng.gen::<f64>()) / n as f64;
        }
    }
    points
}

/// Squared Euclidean distance.
pub fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum()
}

/// Index of the candidate farthest from every point of `taken` (the first candidate when
/// nothing is taken), among those `allowed`. Ties go to the lowest index.
pub fn farthest(
    candidates: &[Vec<f64>],
    taken: &[&[f64]],
    allowed: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, c) in candidates.iter().enumerate() {
        if !allowed(i) {
            continue;
        }
        let d = taken
            .iter()
            .map(|t| distance2(c, t))
            .fold(f64::INFINITY, f64::min);
        if best.is_none_or(|(_, bd)| d > bd) {
            best = Some((i, d));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn every_slice_of_every_axis_holds_one_point() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let pts = latin_hypercube(10, 3, &mut rng);
        for d in 0..3 {
            let mut slots: Vec<usize> = pts.iter().map(|p| (p[d] * 10.0) as usize).collect();
            slots.sort_unstable();
            assert_eq!(slots, (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn farthest_picks_the_emptiest_corner() {
        let c = vec![vec![0.0, 0.0], vec![0.5, 0.5], vec![1.0, 1.0]];
        let taken = [&[0.1, 0.1][..]];
        assert_eq!(farthest(&c, &taken, |_| true), Some(2));
        assert_eq!(farthest(&c, &taken, |i| i != 2), Some(1));
    }
}
