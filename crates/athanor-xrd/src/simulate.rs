//! Stick-pattern simulation: every reflection of a structure within a 2θ range, with its
//! intensity from the structure factor and the Lorentz–polarization factor.
//!
//! The algorithm is that of pymatgen's `XRDCalculator.get_pattern` and, with
//! [`SimulationOptions::pymatgen`], reproduces its output: all reciprocal-lattice points
//! 0 < |g| ≤ 2 sin θmax / λ (one of each Friedel pair, its twin counted by doubling),
//! F(g) = Σⱼ fⱼ(s) occⱼ exp(2πi g·rⱼ) with s = |g|/2 = sin θ / λ,
//! I = |F|² (1 + cos² 2θ) / (sin² θ cos θ); reflections whose 2θ round to the same multiple of
//! 1e-5° merge (pymatgen's TWO_THETA_TOL), Miller indices are grouped into families of
//! permutations of |h|,|k|,|l| (4-index h,k,−h−k,l on a hexagonal lattice, as pymatgen's
//! `get_unique_families`), intensities are scaled to a maximum of 100 and peaks at or below
//! 1e-3 of it (pymatgen's SCALED_INTENSITY_TOL) are dropped.
//!
//! Beyond pymatgen: isotropic displacement exp(−B s²) per site (on by default, off in pymatgen
//! mode, since pymatgen applies none unless given per element), and an optional monochromator:
//! LP = (1 + cos² 2θm cos² 2θ) / (sin² θ cos θ (1 + cos² 2θm)).

use crate::element::Element;
use crate::lattice::Lattice;
use crate::reflection::Reflection;
use crate::scattering::{FormFactor, ScatteringTable};
use crate::structure::Structure;

/// pymatgen's TWO_THETA_TOL: reflections whose 2θ/tol round to the same integer merge.
pub const TWO_THETA_TOL: f64 = 1e-5;
/// pymatgen's SCALED_INTENSITY_TOL: peaks must exceed this on the 0–100 scale.
pub const SCALED_INTENSITY_TOL: f64 = 1e-3;
/// At most this many (h, k, l) are examined (about a second of work): a huge cell at a very
/// short wavelength is refused instead of running for hours.
pub const MAX_BOX_POINTS: u64 = 100_000_000;

/// Why a pattern could not be simulated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulationError {
    #[error("no {table} scattering factor for {element}")]
    NoScatteringFactor {
        element: &'static str,
        table: &'static str,
    },
    #[error(
        "unknown radiation '{0}' (expected a line such as CuKa, CuKa1, MoKa2 or a wavelength in Å)"
    )]
    UnknownRadiation(String),
    #[error("wavelength {0} Å is not a positive number")]
    BadWavelength(f64),
    #[error("2θ range {min}–{max}° is not within 0–180° with min < max")]
    BadRange { min: f64, max: f64 },
    #[error("the structure has no scattering atoms")]
    NoScatterers,
    #[error("{points} reciprocal-lattice points to examine (limit {MAX_BOX_POINTS}): narrow the 2θ range or use a longer wavelength")]
    TooManyReflections { points: u64 },
}

/// How to simulate a stick pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationOptions {
    /// Wavelength in Å.
    pub wavelength: f64,
    /// 2θ range in degrees, inclusive.
    pub two_theta_min: f64,
    pub two_theta_max: f64,
    pub table: ScatteringTable,
    /// Apply each site's isotropic displacement factor exp(−B s²).
    pub displacement: bool,
    /// Monochromator angle 2θm in degrees (none: pymatgen's unpolarized-beam factor).
    pub monochromator_two_theta: Option<f64>,
    /// Add the table's anomalous dispersion f′ + i f″ (where it has them for the wavelength).
    pub anomalous: bool,
}

impl SimulationOptions {
    /// The defaults: 2θ 0–90°, Waasmaier–Kirfel form factors with anomalous dispersion,
    /// displacement from the structure.
    pub fn new(wavelength: f64) -> Self {
        Self {
            wavelength,
            two_theta_min: 0.0,
            two_theta_max: 90.0,
            table: ScatteringTable::default(),
            displacement: true,
            monochromator_two_theta: None,
            anomalous: true,
        }
    }

    /// pymatgen's XRDCalculator defaults: its scattering table, no displacement factor, no
    /// monochromator.
    pub fn pymatgen(wavelength: f64) -> Self {
        Self {
            table: ScatteringTable::Pymatgen,
            displacement: false,
            anomalous: false,
            ..Self::new(wavelength)
        }
    }

    /// The same options over another 2θ range.
    pub fn with_range(mut self, min: f64, max: f64) -> Self {
        self.two_theta_min = min;
        self.two_theta_max = max;
        self
    }
}

/// One reciprocal-lattice point with its Bragg angle (radians) and raw intensity.
#[derive(Debug, Clone, Copy)]
struct Point {
    hkl: [i32; 3],
    g: f64,
    theta: f64,
    intensity: f64,
}

/// Per-site data, prepared once.
#[derive(Debug, Clone, Copy)]
struct Scatterer {
    species: usize,
    occupancy: f64,
    b: f64,
    frac: [f64; 3],
}

/// Simulates the stick pattern of a structure; intensities scaled to a maximum of 100.
pub fn simulate(
    structure: &Structure,
    options: &SimulationOptions,
) -> Result<Vec<Reflection>, SimulationError> {
    simulate_with_scale(structure, options).map(|(r, _)| r)
}

/// [`simulate`], also returning the unscaled intensity (|F|²·LP summed over the merged planes,
/// F per unit cell in electrons) of the strongest reflection, i.e. the factor that turns the
/// 0–100 intensities back into absolute ones: I_abs = I · max / 100. Quantitative phase
/// analysis needs it to compare scale factors of different phases.
pub fn simulate_with_scale(
    structure: &Structure,
    options: &SimulationOptions,
) -> Result<(Vec<Reflection>, f64), SimulationError> {
    let lambda = options.wavelength;
    if !(lambda.is_finite() && lambda > 0.0) {
        return Err(SimulationError::BadWavelength(lambda));
    }
    let (tt_min, tt_max) = (options.two_theta_min, options.two_theta_max);
    if !(tt_min.is_finite()
        && tt_max.is_finite()
        && 0.0 <= tt_min
        && tt_min < tt_max
        && tt_max <= 180.0)
    {
        return Err(SimulationError::BadRange {
            min: tt_min,
            max: tt_max,
        });
    }
    if structure.sites.is_empty() {
        return Err(SimulationError::NoScatterers);
    }

    // Species (element and the charge whose form factor the table uses) and their factors.
    let mut species_keys: Vec<(Element, i8)> = Vec::new();
    let mut scatterers = Vec::with_capacity(structure.sites.len());
    for site in &structure.sites {
        let key = (
            site.element,
            options
                .table
                .charge_used(site.element, site.oxidation_state),
        );
        let species = match species_keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                species_keys.push(key);
                species_keys.len() - 1
            }
        };
        let b = if options.displacement {
            site.b_iso.unwrap_or(0.0)
        } else {
            0.0
        };
        scatterers.push(Scatterer {
            species,
            occupancy: site.occupancy,
            b,
            frac: site.frac,
        });
    }
    // Sites grouped by species, each group in the structure's order: a species' phase sums are
    // accumulated site by site in that order, without touching the other species' sums.
    scatterers.sort_by_key(|s| s.species);
    let mut runs: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (j, sc) in scatterers.iter().enumerate() {
        match runs.last_mut() {
            Some((species, range)) if *species == sc.species => range.end = j + 1,
            _ => runs.push((sc.species, j..j + 1)),
        }
    }
    let form_factors: Vec<FormFactor> = species_keys
        .iter()
        .map(|(e, q)| options.table.form_factor(*e, *q))
        .collect::<Result<_, _>>()?;
    // f′ and f″ per species (zero unless the table has them at this wavelength).
    let dispersion: Vec<(f64, f64)> = species_keys
        .iter()
        .map(|(e, _)| {
            if options.anomalous {
                options.table.dispersion(*e, lambda)
            } else {
                (0.0, 0.0)
            }
        })
        .collect();

    let max_r = 2.0 * (tt_max.to_radians() / 2.0).sin() / lambda;
    let min_r = 2.0 * (tt_min.to_radians() / 2.0).sin() / lambda;
    let lattice = &structure.lattice;
    let gs = lattice.reciprocal_metric();
    let bound = |len: f64| (max_r * len).floor() as i32 + 1;
    let (hmax, kmax, lmax) = (bound(lattice.a), bound(lattice.b), bound(lattice.c));
    let points = [hmax, kmax, lmax]
        .iter()
        .map(|n| 2 * u64::try_from(*n).unwrap_or(u64::MAX / 4) + 1)
        .fold(1u64, u64::saturating_mul)
        / 2;
    if points > MAX_BOX_POINTS {
        return Err(SimulationError::TooManyReflections { points });
    }

    let fracs: Vec<[f64; 3]> = scatterers.iter().map(|s| s.frac).collect();
    let phases = PhaseTables::new(&fracs, [hmax, kmax, lmax]);
    let mut points = Vec::new();
    let mut acc = vec![(0.0f64, 0.0f64); species_keys.len()];
    let mut f0 = vec![0.0f64; species_keys.len()];
    let mono = options
        .monochromator_two_theta
        .map(|t| t.to_radians().cos().powi(2));

    // One (h, k) row at a time: its l in range (with |g| and s²), and per species the phase sums
    // A + iB = Σⱼ wⱼ exp(2πi g·rⱼ) for every l from the first to the last of them. Each sum
    // takes its sites in the structure's order, as a point-by-point loop would.
    let width_l = phases.width[2];
    let mut in_range: Vec<(i32, f64, f64)> = Vec::new();
    let mut row_s2 = vec![0.0f64; width_l];
    let mut sum_re = vec![0.0f64; species_keys.len() * width_l];
    let mut sum_im = vec![0.0f64; species_keys.len() * width_l];
    let s2_of = |h: i32, k: i32, l: i32| {
        let hf = [f64::from(h), f64::from(k), f64::from(l)];
        let g = crate::lattice::quadratic_form(&gs, hf, hf).sqrt();
        (g, (g / 2.0) * (g / 2.0))
    };
    for h in 0..=hmax {
        for k in -kmax..=kmax {
            if h == 0 && k < 0 {
                continue;
            }
            in_range.clear();
            for l in -lmax..=lmax {
                // One of each Friedel pair: (h, k, l) lexicographically positive.
                if h == 0 && k == 0 && l <= 0 {
                    continue;
                }
                let (g, s2) = s2_of(h, k, l);
                if g > max_r || g < min_r {
                    continue;
                }
                in_range.push((l, g, s2));
            }
            let (Some(&(l_first, _, _)), Some(&(l_last, _, _))) =
                (in_range.first(), in_range.last())
            else {
                continue;
            };
            let n = (l_last - l_first + 1) as usize;
            let s2_row = &mut row_s2[..n];
            for (l, s2) in (l_first..).zip(s2_row.iter_mut()) {
                *s2 = s2_of(h, k, l).1;
            }
            for (species, range) in &runs {
                let at = species * width_l;
                let (re, im) = (&mut sum_re[at..at + n], &mut sum_im[at..at + n]);
                re.fill(0.0);
                im.fill(0.0);
                for (j, sc) in (range.start..).zip(&scatterers[range.clone()]) {
                    let (re1, im1) = phases.hk(j, h, k);
                    let (cos_l, sin_l) = phases.l_run(j, l_first, n);
                    let terms = re
                        .iter_mut()
                        .zip(im.iter_mut())
                        .zip(cos_l.iter().zip(sin_l));
                    if sc.b == 0.0 {
                        let w = sc.occupancy;
                        for ((re, im), (&e, &f)) in terms {
                            *re += w * (re1 * e - im1 * f);
                            *im += w * (re1 * f + im1 * e);
                        }
                    } else {
                        for (((re, im), (&e, &f)), &s2) in terms.zip(s2_row.iter()) {
                            let w = sc.occupancy * (-sc.b * s2).exp();
                            *re += w * (re1 * e - im1 * f);
                            *im += w * (re1 * f + im1 * e);
                        }
                    }
                }
            }
            for &(l, g, s2) in &in_range {
                let p = (l - l_first) as usize;
                for (f, ff) in f0.iter_mut().zip(&form_factors) {
                    *f = ff.f0(s2);
                }
                for (species, a) in acc.iter_mut().enumerate() {
                    *a = (sum_re[species * width_l + p], sum_im[species * width_l + p]);
                }
                // With f = r + i m per species and phase sums A + iB:
                // F(g) = Σ (rA − mB) + i(rB + mA), F(−g) = Σ (rA + mB) + i(mA − rB).
                // Without dispersion (m = 0) both have the same modulus (Friedel's law).
                let (mut ra, mut rb, mut ma, mut mb) = (0.0, 0.0, 0.0, 0.0);
                for ((a, f), (fp, fpp)) in acc.iter().zip(&f0).zip(&dispersion) {
                    let r = f + fp;
                    ra += r * a.0;
                    rb += r * a.1;
                    ma += fpp * a.0;
                    mb += fpp * a.1;
                }
                let plus = (ra - mb).powi(2) + (rb + ma).powi(2);
                let minus = (ra + mb).powi(2) + (ma - rb).powi(2);
                let f2 = plus + minus;
                let theta = (lambda * g / 2.0).clamp(-1.0, 1.0).asin();
                let intensity = f2 * lorentz_polarization(theta, mono);
                points.push(Point {
                    hkl: [h, k, l],
                    g,
                    theta,
                    intensity,
                });
            }
        }
    }
    // pymatgen's order: by |g|, then by −h, −k, −l (no two points share hkl, so an unstable
    // sort gives the same order).
    points.sort_unstable_by(|a, b| {
        a.g.total_cmp(&b.g)
            .then(b.hkl[0].cmp(&a.hkl[0]))
            .then(b.hkl[1].cmp(&a.hkl[1]))
            .then(b.hkl[2].cmp(&a.hkl[2]))
    });
    Ok(merge(&points, is_hexagonal(lattice)))
}

/// Lorentz–polarization factor at Bragg angle θ (radians); `mono` is cos² 2θm.
fn lorentz_polarization(theta: f64, mono: Option<f64>) -> f64 {
    let cos2t = (2.0 * theta).cos();
    let sint = theta.sin();
    let cost = theta.cos();
    match mono {
        None => (1.0 + cos2t * cos2t) / (sint * sint * cost),
        Some(m) => (1.0 + m * cos2t * cos2t) / (sint * sint * cost * (1.0 + m)),
    }
}

/// Merges points into peaks, groups their indices into families, scales to 100 and drops
/// the negligible ones; also returns the unscaled maximum.
fn merge(points: &[Point], hexagonal: bool) -> (Vec<Reflection>, f64) {
    /// A peak: the points `points[range]`, which are consecutive in the sorted order.
    struct Bin {
        key: i64,
        intensity: f64,
        two_theta: f64,
        d: f64,
        range: std::ops::Range<usize>,
    }
    let mut bins: Vec<Bin> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let two_theta = (2.0 * p.theta).to_degrees();
        let key = (two_theta / TWO_THETA_TOL).round_ties_even() as i64;
        match bins.last_mut() {
            Some(bin) if bin.key == key => {
                bin.intensity += p.intensity;
                bin.range.end = i + 1;
            }
            _ => bins.push(Bin {
                key,
                intensity: p.intensity,
                two_theta,
                d: 1.0 / p.g,
                range: i..i + 1,
            }),
        }
    }
    let max = bins.iter().map(|b| b.intensity).fold(0.0, f64::max);
    if max <= 0.0 || !max.is_finite() {
        return (Vec::new(), 0.0);
    }
    // Each point stands for itself and its Friedel mate, in that order.
    let mut hkls: Vec<[i32; 3]> = Vec::new();
    let reflections = bins
        .into_iter()
        .filter(|b| b.intensity / max * 100.0 > SCALED_INTENSITY_TOL)
        .map(|b| {
            hkls.clear();
            for p in &points[b.range] {
                hkls.push(p.hkl);
                hkls.push(p.hkl.map(|v| -v));
            }
            let families = unique_families(&hkls, hexagonal);
            Reflection {
                two_theta: b.two_theta,
                d: b.d,
                intensity: b.intensity / max * 100.0,
                multiplicity: families.iter().map(|(_, m)| *m).sum(),
                hkls: families.iter().map(|(h, _)| *h).collect(),
                multiplicities: families.iter().map(|(_, m)| *m).collect(),
            }
        })
        .collect();
    (reflections, max)
}

/// pymatgen's `get_unique_families`: indices whose absolute values are permutations of each
/// other form one family, represented by its lexicographically largest member; families in
/// order of first appearance. On a hexagonal lattice the comparison uses (h, k, −h−k, l).
fn unique_families(hkls: &[[i32; 3]], hexagonal: bool) -> Vec<([i32; 3], u32)> {
    let four = |h: &[i32; 3]| -> [i32; 4] {
        if hexagonal {
            [h[0], h[1], -h[0] - h[1], h[2]]
        } else {
            [h[0], h[1], h[2], i32::MIN]
        }
    };
    let key = |h: &[i32; 3]| {
        let mut a = four(h).map(|v| if v == i32::MIN { v } else { v.abs() });
        a.sort_unstable();
        a
    };
    let mut families: Vec<([i32; 4], [i32; 3], u32)> = Vec::new();
    for h in hkls {
        let k = key(h);
        match families.iter_mut().find(|(fk, _, _)| *fk == k) {
            Some((_, rep, count)) => {
                if four(h) > four(rep) {
                    *rep = *h;
                }
                *count += 1;
            }
            None => families.push((k, *h, 1)),
        }
    }
    families.into_iter().map(|(_, rep, n)| (rep, n)).collect()
}

/// pymatgen's `Lattice.is_hexagonal`: two angles within 5° of 90, one within 5° of 60 or 120,
/// and the lengths of the two axes indexed by the right angles within 0.01 Å.
fn is_hexagonal(l: &Lattice) -> bool {
    let lengths = [l.a, l.b, l.c];
    let angles = [l.alpha, l.beta, l.gamma];
    let right: Vec<usize> = (0..3)
        .filter(|&i| (angles[i] - 90.0).abs() <= 5.0)
        .collect();
    let hex = (0..3)
        .filter(|&i| (angles[i] - 60.0).abs() <= 5.0 || (angles[i] - 120.0).abs() <= 5.0)
        .count();
    right.len() == 2 && hex == 1 && (lengths[right[0]] - lengths[right[1]]).abs() <= 0.01
}

/// exp(2πi n x) for every site, axis and index n in −N..=N, so that a structure factor term is
/// a product of three table entries.
struct PhaseTables {
    /// Per axis: cos and sin of site j at j·width + (n + N).
    cos: [Vec<f64>; 3],
    sin: [Vec<f64>; 3],
    offset: [i32; 3],
    width: [usize; 3],
}

impl PhaseTables {
    fn new(fracs: &[[f64; 3]], max: [i32; 3]) -> Self {
        let max = max.map(|m| m.max(0));
        let top = max.iter().copied().max().unwrap_or(0);
        // Coordinates repeat (special positions, symmetry mates, the same value on several
        // axes), so sin and cos of 2πnx are computed once per distinct x, for n = 0..=top;
        // exp(−iφ) is the conjugate of exp(iφ) (sin is odd, cos even, and the angle's rounding
        // is symmetric), so n < 0 takes the entries of −n.
        let mut values: Vec<u64> = fracs.iter().flatten().map(|x| x.to_bits()).collect();
        values.sort_unstable();
        values.dedup();
        let stride = top as usize + 1;
        let mut sin_cos = Vec::with_capacity(values.len() * stride);
        for &bits in &values {
            let x = f64::from_bits(bits);
            sin_cos.extend(
                (0..=top).map(|i| (2.0 * std::f64::consts::PI * f64::from(i) * x).sin_cos()),
            );
        }
        let width = max.map(|n| (2 * n + 1) as usize);
        let mut cos: [Vec<f64>; 3] = Default::default();
        let mut sin: [Vec<f64>; 3] = Default::default();
        for axis in 0..3 {
            cos[axis].reserve(fracs.len() * width[axis]);
            sin[axis].reserve(fracs.len() * width[axis]);
            for frac in fracs {
                let v = values
                    .binary_search(&frac[axis].to_bits())
                    .unwrap_or_else(|i| i);
                let entries = &sin_cos[v * stride..v * stride + max[axis] as usize + 1];
                for &(s, c) in entries[1..].iter().rev() {
                    cos[axis].push(c);
                    sin[axis].push(-s);
                }
                for &(s, c) in entries {
                    cos[axis].push(c);
                    sin[axis].push(s);
                }
            }
        }
        Self {
            cos,
            sin,
            offset: max,
            width,
        }
    }

    #[inline]
    fn index(&self, axis: usize, j: usize, n: i32) -> usize {
        j * self.width[axis] + (n + self.offset[axis]) as usize
    }

    /// (cos, sin) of 2π(hx + ky) for site j.
    #[inline]
    fn hk(&self, j: usize, h: i32, k: i32) -> (f64, f64) {
        let (ih, ik) = (self.index(0, j, h), self.index(1, j, k));
        let (a, b) = (self.cos[0][ih], self.sin[0][ih]);
        let (c, d) = (self.cos[1][ik], self.sin[1][ik]);
        (a * c - b * d, a * d + b * c)
    }

    /// cos and sin of 2πlz for site j, for `n` consecutive l from `l_first`.
    #[inline]
    fn l_run(&self, j: usize, l_first: i32, n: usize) -> (&[f64], &[f64]) {
        let at = self.index(2, j, l_first);
        (&self.cos[2][at..at + n], &self.sin[2][at..at + n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::{Site, SpaceGroup};

    fn cubic(a: f64, atoms: &[(&str, [f64; 3])]) -> Structure {
        Structure {
            name: "t".into(),
            lattice: Lattice::new(a, a, a, 90.0, 90.0, 90.0).unwrap(),
            sites: atoms
                .iter()
                .map(|(s, x)| Site {
                    label: (*s).into(),
                    element: Element::from_symbol(s).unwrap(),
                    oxidation_state: None,
                    frac: *x,
                    occupancy: 1.0,
                    b_iso: Some(0.5),
                })
                .collect(),
            space_group: SpaceGroup {
                symbol: None,
                number: None,
            },
            z_declared: None,
        }
    }

    #[test]
    fn bragg_angles_follow_braggs_law() {
        let s = cubic(4.0, &[("Cu", [0.0, 0.0, 0.0])]);
        let r = simulate(&s, &SimulationOptions::pymatgen(1.54184)).unwrap();
        // Primitive cubic: (100), (110), (111), (200), ... all present.
        let d100: f64 = 4.0;
        let tt = 2.0 * (1.54184 / (2.0 * d100)).asin().to_degrees();
        assert!((r[0].two_theta - tt).abs() < 1e-9);
        assert!((r[0].d - d100).abs() < 1e-12);
        assert_eq!(r[0].hkls, vec![[1, 0, 0]]);
        assert_eq!(r[0].multiplicity, 6);
        assert_eq!(r[1].multiplicity, 12);
        assert_eq!(r[2].multiplicity, 8);
    }

    #[test]
    fn body_centring_extinguishes_odd_sums() {
        let s = cubic(3.0, &[("Fe", [0.0, 0.0, 0.0]), ("Fe", [0.5, 0.5, 0.5])]);
        let r = simulate(&s, &SimulationOptions::pymatgen(1.54184)).unwrap();
        for peak in &r {
            for h in &peak.hkls {
                assert_eq!((h[0] + h[1] + h[2]).rem_euclid(2), 0, "{h:?}");
            }
        }
        assert_eq!(r[0].hkls, vec![[1, 1, 0]]);
    }

    #[test]
    fn single_atom_intensity_is_f_squared_times_lp_times_multiplicity() {
        // One atom at the origin: F = f(s), so I ∝ m f² LP; ratio of (110) to (100) is closed form.
        let s = cubic(4.0, &[("Cu", [0.0, 0.0, 0.0])]);
        let r = simulate(&s, &SimulationOptions::pymatgen(1.54184)).unwrap();
        let ff = ScatteringTable::Pymatgen
            .form_factor(Element::from_symbol("Cu").unwrap(), 0)
            .unwrap();
        let raw = |d: f64, m: f64| {
            let s = 1.0 / (2.0 * d);
            let th = (1.54184 * s).asin();
            let lp = (1.0 + (2.0 * th).cos().powi(2)) / (th.sin().powi(2) * th.cos());
            m * ff.f0(s * s).powi(2) * lp
        };
        let ratio = raw(4.0 / 2f64.sqrt(), 12.0) / raw(4.0, 6.0);
        let got = r[1].intensity / r[0].intensity;
        assert!((got - ratio).abs() < 1e-9 * ratio, "{got} vs {ratio}");
    }

    #[test]
    fn dispersion_enters_as_f_prime_and_f_double_prime() {
        // Two atoms, Ga at 0 and As at (1/4, 1/4, 1/4) in a primitive cell: for (h k l) the
        // structure factor is F(±h) = f_Ga + f_As exp(±iπ(h+k+l)/2), so with complex f the
        // Friedel mates differ and the pattern holds |F(h)|² + |F(−h)|².
        let s = cubic(5.65, &[("Ga", [0.0, 0.0, 0.0]), ("As", [0.25, 0.25, 0.25])]);
        let lambda = 1.54056;
        let mut opts = SimulationOptions::new(lambda);
        opts.displacement = false;
        let r = simulate(&s, &opts).unwrap();
        let wk = ScatteringTable::WaasmaierKirfel;
        let ga = Element::from_symbol("Ga").unwrap();
        let as_ = Element::from_symbol("As").unwrap();
        // |F(h)|² + |F(−h)|² times LP for a plane of spacing 5.65/√q with h+k+l = n.
        let total = |q: i32, n: i32| {
            let d = 5.65 / f64::from(q).sqrt();
            let s2 = 1.0 / (4.0 * d * d);
            let f = |e: Element| {
                let (fp, fpp) = wk.dispersion(e, lambda);
                (wk.form_factor(e, 0).unwrap().f0(s2) + fp, fpp)
            };
            let (g, a) = (f(ga), f(as_));
            let phase = std::f64::consts::PI / 2.0 * f64::from(n);
            let mut sum = 0.0;
            for sign in [1.0, -1.0] {
                let (c, si) = (phase.cos(), sign * phase.sin());
                let re = g.0 + a.0 * c - a.1 * si;
                let im = g.1 + a.0 * si + a.1 * c;
                sum += re * re + im * im;
            }
            let th = (lambda / (2.0 * d)).asin();
            sum * (1.0 + (2.0 * th).cos().powi(2)) / (th.sin().powi(2) * th.cos())
        };
        // {100}: three Friedel pairs, all with h+k+l = ±1. {110}: six pairs, three with
        // h+k+l = ±2 (110, 101, 011) and three with 0 (1-10, 10-1, 01-1).
        let i100 = r
            .iter()
            .find(|p| p.hkls.contains(&[1, 0, 0]))
            .unwrap()
            .intensity;
        let i110 = r
            .iter()
            .find(|p| p.hkls.contains(&[1, 1, 0]))
            .unwrap()
            .intensity;
        let expect = (3.0 * total(2, 2) + 3.0 * total(2, 0)) / (3.0 * total(1, 1));
        assert!(
            (i110 / i100 - expect).abs() < 1e-9 * expect,
            "{} vs {expect}",
            i110 / i100
        );
    }

    #[test]
    fn displacement_weakens_high_angle_peaks() {
        let s = cubic(4.0, &[("Cu", [0.0, 0.0, 0.0])]);
        let cold = simulate(&s, &SimulationOptions::pymatgen(1.54184)).unwrap();
        let mut opts = SimulationOptions::pymatgen(1.54184);
        opts.displacement = true;
        let warm = simulate(&s, &opts).unwrap();
        // F carries exp(-B s²), so relative to the first peak the last one's intensity loses
        // exp(-2B (s_last² - s_first²)), B = 0.5 Å².
        let (f, l) = (0, cold.len() - 1);
        let s2 = |d: f64| 1.0 / (4.0 * d * d);
        let expect = (-2.0 * 0.5 * (s2(cold[l].d) - s2(cold[f].d))).exp();
        let got = (warm[l].intensity / warm[f].intensity) / (cold[l].intensity / cold[f].intensity);
        assert!((got - expect).abs() < 1e-9, "{got} vs {expect}");
    }

    #[test]
    fn hexagonal_families_use_four_indices() {
        let fam = unique_families(&[[1, 0, 0], [-1, 0, 0], [0, 1, 0], [1, -1, 0]], true);
        assert_eq!(fam, vec![([1, 0, 0], 4)]);
        let fam = unique_families(&[[1, 0, 0], [-1, 0, 0], [0, 1, 0], [1, -1, 0]], false);
        assert_eq!(fam, vec![([1, 0, 0], 3), ([1, -1, 0], 1)]);
    }

    #[test]
    fn bad_options_are_rejected() {
        let s = cubic(4.0, &[("Cu", [0.0, 0.0, 0.0])]);
        let bad = SimulationOptions::pymatgen(1.54).with_range(50.0, 20.0);
        assert!(matches!(
            simulate(&s, &bad),
            Err(SimulationError::BadRange { .. })
        ));
        let bad = SimulationOptions::pymatgen(-1.0);
        assert!(matches!(
            simulate(&s, &bad),
            Err(SimulationError::BadWavelength(_))
        ));
        let huge = SimulationOptions::pymatgen(0.01).with_range(0.0, 180.0);
        assert!(matches!(
            simulate(&cubic(400.0, &[("Cu", [0.0; 3])]), &huge),
            Err(SimulationError::TooManyReflections { .. })
        ));
        let empty = cubic(4.0, &[]);
        assert!(matches!(
            simulate(&empty, &SimulationOptions::pymatgen(1.54)),
            Err(SimulationError::NoScatterers)
        ));
    }
}
