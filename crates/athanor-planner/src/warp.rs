//! Output warping: ranks mapped to normal quantiles, so a heavy-tailed or skewed objective
//! looks Gaussian to the process; and the map back to the objective's units.

/// Inverse of the standard normal distribution function (Acklam's rational approximation,
/// relative error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    let low = 0.024_25;
    if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p > 1.0 - low {
        -normal_quantile(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// A monotone map from objective values to normal scores, fitted on the observed values
/// (ties share the mean rank).
#[derive(Debug, Clone)]
pub struct RankWarp {
    /// (score, value) pairs sorted by value.
    knots: Vec<(f64, f64)>,
}

impl RankWarp {
    pub fn fit(values: &[f64]) -> Self {
        let n = values.len();
        let mut sorted: Vec<f64> = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut knots: Vec<(f64, f64)> = Vec::with_capacity(n);
        let mut i = 0;
        while i < n {
            let mut j = i;
            while j + 1 < n && sorted[j + 1] == sorted[i] {
                j += 1;
            }
            let rank = (i + j) as f64 / 2.0;
            knots.push((normal_quantile((rank + 0.5) / n as f64), sorted[i]));
            i = j + 1;
        }
        Self { knots }
    }

    /// The normal score of an observed value (interpolated between knots).
    pub fn forward(&self, v: f64) -> f64 {
        interpolate(&self.knots, v, |k| k.1, |k| k.0)
    }

    /// The objective value of a normal score (interpolated; flat beyond the extremes).
    pub fn back(&self, z: f64) -> f64 {
        interpolate(&self.knots, z, |k| k.0, |k| k.1)
    }
}

fn interpolate(
    knots: &[(f64, f64)],
    x: f64,
    key: impl Fn(&(f64, f64)) -> f64,
    val: impl Fn(&(f64, f64)) -> f64,
) -> f64 {
    let (Some(first), Some(last)) = (knots.first(), knots.last()) else {
        return x;
    };
    if x <= key(first) {
        return val(first);
    }
    if x >= key(last) {
        return val(last);
    }
    let i = knots
        .partition_point(|k| key(k) <= x)
        .clamp(1, knots.len() - 1);
    let (a, b) = (&knots[i - 1], &knots[i]);
    let span = key(b) - key(a);
    if span.abs() < 1e-300 {
        return val(a);
    }
    val(a) + (x - key(a)) / span * (val(b) - val(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_inverts_the_cdf() {
        for p in [0.001, 0.02, 0.3, 0.5, 0.8, 0.99] {
            let z = normal_quantile(p);
            assert!((crate::acquisition::normal_cdf(z) - p).abs() < 1e-6, "{p}");
        }
    }

    #[test]
    fn warp_is_monotone_and_round_trips_observed_values() {
        let v = [5.0, 1.0, 1000.0, 3.0, 3.0, 2.0];
        let w = RankWarp::fit(&v);
        let mut prev = f64::NEG_INFINITY;
        for x in [1.0, 2.0, 3.0, 5.0, 1000.0] {
            let z = w.forward(x);
            assert!(z > prev);
            prev = z;
            assert!((w.back(z) - x).abs() < 1e-9);
        }
    }
}
