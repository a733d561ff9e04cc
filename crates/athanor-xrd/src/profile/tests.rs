//! Closed-form checks of rendered patterns: areas, widths, positions, texture, background, noise.

use super::*;
use crate::lattice::Lattice;
use crate::pattern::{uniform_grid, Pattern};
use crate::reflection::Reflection;

const LAMBDA: f64 = 1.5406;

fn instrument(w: f64) -> InstrumentProfile {
    InstrumentProfile {
        id: Some("test".into()),
        wavelength_angstrom: LAMBDA,
        wavelength_alpha2_angstrom: None,
        alpha2_ratio: 0.0,
        u: 0.0,
        v: 0.0,
        w,
        p: 0.0,
        x: 0.0,
        y: 0.0,
        zero_shift_deg: 0.0,
        goniometer_radius_mm: 240.0,
    }
}

fn cubic() -> Lattice {
    Lattice::new(5.0, 5.0, 5.0, 90.0, 90.0, 90.0).unwrap()
}

/// A reflection of one plane family with spacing `d`.
fn reflection(two_theta: f64, d: f64, intensity: f64, hkl: [i32; 3]) -> Reflection {
    Reflection {
        two_theta,
        d,
        intensity,
        hkls: vec![hkl],
        multiplicity: 1,
        multiplicities: vec![1],
    }
}

/// A reflection whose Kα1 peak falls at `two_theta` degrees.
fn reflection_at(two_theta: f64, intensity: f64, hkl: [i32; 3]) -> Reflection {
    let d = LAMBDA / (2.0 * (two_theta / 2.0).to_radians().sin());
    reflection(two_theta, d, intensity, hkl)
}

fn trapezoid(p: &Pattern) -> f64 {
    p.two_theta()
        .windows(2)
        .zip(p.intensity().windows(2))
        .map(|(t, y)| 0.5 * (y[0] + y[1]) * (t[1] - t[0]))
        .sum()
}

/// (position of the maximum, FWHM by linear interpolation of the half-maximum crossings).
fn peak_position_and_fwhm(p: &Pattern) -> (f64, f64) {
    let (t, y) = (p.two_theta(), p.intensity());
    let (imax, &ymax) = y
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    let half = ymax / 2.0;
    let mut l = imax;
    while y[l] > half {
        l -= 1;
    }
    let mut r = imax;
    while y[r] > half {
        r += 1;
    }
    let left = t[l] + (half - y[l]) / (y[l + 1] - y[l]) * (t[l + 1] - t[l]);
    let right = t[r - 1] + (half - y[r - 1]) / (y[r] - y[r - 1]) * (t[r] - t[r - 1]);
    (t[imax], right - left)
}

#[test]
fn a_single_gaussian_peak_has_its_area_and_fwhm() {
    // W = 0.01 deg², U = V = X = Y = 0: a Gaussian of FWHM √W = 0.1° at every angle.
    let grid = uniform_grid(35.0, 45.0, 0.0005).unwrap();
    let p = render(
        &[reflection_at(40.0, 250.0, [1, 1, 1])],
        &cubic(),
        &instrument(0.01),
        &SampleEffects::default(),
        &grid,
    )
    .unwrap();
    let (pos, fwhm) = peak_position_and_fwhm(&p);
    assert!((pos - 40.0).abs() < 1e-9, "position {pos}");
    assert!((fwhm - 0.1).abs() < 1e-5, "FWHM {fwhm}");
    assert!(
        (trapezoid(&p) - 250.0).abs() < 250.0 * 1e-6,
        "area {}",
        trapezoid(&p)
    );
    // Peak height of a unit-area Gaussian: 2√(ln2/π)/Γ.
    let height = 250.0 * 2.0 * (std::f64::consts::LN_2 / std::f64::consts::PI).sqrt() / 0.1;
    let max = p.intensity().iter().cloned().fold(f64::MIN, f64::max);
    assert!((max - height).abs() < height * 1e-9);
}

#[test]
fn scherrer_width_matches_k_lambda_over_l_cos_theta() {
    // No instrument broadening at all: the only width is the crystallite size's Lorentzian.
    let inst = instrument(0.0);
    for (two_theta, size_nm) in [(30.0, 20.0), (60.0, 35.0), (110.0, 50.0)] {
        let sample = SampleEffects {
            crystallite_size_nm: Some(size_nm),
            ..SampleEffects::default()
        };
        let grid = uniform_grid(two_theta - 8.0, two_theta + 8.0, 0.0005).unwrap();
        let p = render(
            &[reflection_at(two_theta, 100.0, [1, 0, 0])],
            &cubic(),
            &inst,
            &sample,
            &grid,
        )
        .unwrap();
        let theta = (two_theta / 2.0f64).to_radians();
        let expected = (0.9 * LAMBDA / (size_nm * 10.0 * theta.cos())).to_degrees();
        let (pos, fwhm) = peak_position_and_fwhm(&p);
        assert!((pos - two_theta).abs() < 1e-9);
        assert!(
            (fwhm - expected).abs() < expected * 1e-4,
            "2θ={two_theta}: {fwhm} vs {expected}"
        );
    }
}

#[test]
fn microstrain_width_is_four_epsilon_tan_theta() {
    let sample = SampleEffects {
        microstrain: 2e-3,
        ..SampleEffects::default()
    };
    let grid = uniform_grid(70.0, 90.0, 0.0005).unwrap();
    let p = render(
        &[reflection_at(80.0, 100.0, [1, 0, 0])],
        &cubic(),
        &instrument(0.0),
        &sample,
        &grid,
    )
    .unwrap();
    let expected = (4.0 * 2e-3 * 40f64.to_radians().tan()).to_degrees();
    let (_, fwhm) = peak_position_and_fwhm(&p);
    assert!(
        (fwhm - expected).abs() < expected * 1e-4,
        "{fwhm} vs {expected}"
    );
}

#[test]
fn truncated_lorentzian_keeps_its_area() {
    // A pure Lorentzian (size broadening only) cut at ±20 FWHM still integrates to its intensity.
    let sample = SampleEffects {
        crystallite_size_nm: Some(30.0),
        ..SampleEffects::default()
    };
    let grid = uniform_grid(20.0, 60.0, 0.001).unwrap();
    let p = render(
        &[reflection_at(40.0, 100.0, [1, 0, 0])],
        &cubic(),
        &instrument(0.0),
        &sample,
        &grid,
    )
    .unwrap();
    assert!(
        (trapezoid(&p) - 100.0).abs() < 100.0 * 1e-4,
        "{}",
        trapezoid(&p)
    );
}

#[test]
fn k_alpha2_peak_sits_where_bragg_puts_it_with_the_given_ratio() {
    let lambda2 = 1.54439;
    let inst = InstrumentProfile {
        wavelength_alpha2_angstrom: Some(lambda2),
        alpha2_ratio: 0.5,
        ..instrument(0.0004) // FWHM 0.02°, well separated from Kα2 at high angle
    };
    let r = reflection_at(140.0, 300.0, [3, 3, 3]);
    let grid = uniform_grid(138.0, 143.0, 0.0005).unwrap();
    let p = render(
        std::slice::from_ref(&r),
        &cubic(),
        &inst,
        &SampleEffects::default(),
        &grid,
    )
    .unwrap();
    let expected2 = 2.0 * (lambda2 / (2.0 * r.d)).asin().to_degrees();
    let (t, y) = (p.two_theta(), p.intensity());
    let split = t.partition_point(|&v| v < (140.0 + expected2) / 2.0);
    let (i2, _) = y[split..]
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap();
    assert!(
        (t[split + i2] - expected2).abs() <= 0.0005,
        "{} vs {expected2}",
        t[split + i2]
    );
    let area = |range: std::ops::Range<usize>| -> f64 {
        t[range.clone()]
            .windows(2)
            .zip(y[range].windows(2))
            .map(|(a, b)| 0.5 * (b[0] + b[1]) * (a[1] - a[0]))
            .sum()
    };
    let a1 = area(0..split + 1);
    let a2 = area(split..t.len());
    assert!((a1 - 300.0).abs() < 0.3, "Kα1 area {a1}");
    assert!((a2 / a1 - 0.5).abs() < 1e-3, "ratio {}", a2 / a1);
    assert_eq!(p.meta().wavelength_alpha2, Some(lambda2));
}

#[test]
fn zero_shift_and_displacement_move_the_peak() {
    let inst = InstrumentProfile {
        zero_shift_deg: 0.05,
        ..instrument(0.0025)
    };
    let sample = SampleEffects {
        displacement_mm: 0.1,
        ..SampleEffects::default()
    };
    let grid = uniform_grid(45.0, 55.0, 0.0001).unwrap();
    let p = render(
        &[reflection_at(50.0, 10.0, [2, 0, 0])],
        &cubic(),
        &inst,
        &sample,
        &grid,
    )
    .unwrap();
    let shift = 0.05 + (-2.0 * 0.1 * 25f64.to_radians().cos() / 240.0).to_degrees();
    let (pos, _) = peak_position_and_fwhm(&p);
    assert!(
        (pos - (50.0 + shift)).abs() <= 0.0001,
        "{pos} vs {}",
        50.0 + shift
    );
}

#[test]
fn march_dollase_r_one_changes_nothing_and_r_below_one_favours_the_axis() {
    let lattice = cubic();
    let refl = vec![
        reflection_at(30.0, 100.0, [0, 0, 1]),
        reflection_at(45.0, 80.0, [1, 1, 0]),
        reflection_at(60.0, 50.0, [1, 1, 1]),
    ];
    let grid = uniform_grid(25.0, 65.0, 0.01).unwrap();
    let inst = instrument(0.003);
    let plain = render(&refl, &lattice, &inst, &SampleEffects::default(), &grid).unwrap();
    let textured = |r: f64| SampleEffects {
        preferred_orientation: Some(MarchDollase {
            axis: [0.0, 0.0, 1.0],
            r,
        }),
        ..SampleEffects::default()
    };
    let random = render(&refl, &lattice, &inst, &textured(1.0), &grid).unwrap();
    for (a, b) in plain.intensity().iter().zip(random.intensity()) {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(1.0));
    }
    // r = 0.5 with the (001) representative: P = r^-3 = 8 on the 001 peak.
    let platy = render(&refl, &lattice, &inst, &textured(0.5), &grid).unwrap();
    let i30 = grid.partition_point(|&t| t < 30.0 - 1e-9);
    assert!((platy.intensity()[i30] / plain.intensity()[i30] - 8.0).abs() < 1e-9);

    // With the full {100} family supplied, the factor is the family mean.
    let family = vec![
        vec![
            [1, 0, 0],
            [-1, 0, 0],
            [0, 1, 0],
            [0, -1, 0],
            [0, 0, 1],
            [0, 0, -1],
        ],
        vec![[1, 1, 0]],
        vec![[1, 1, 1]],
    ];
    let sample = textured(0.5);
    let phase = Phase {
        planes: Some(&family),
        ..Phase::new(&refl, &lattice, &sample)
    };
    let p = render_phases(&[phase], &inst, &Measurement::default(), &grid).unwrap();
    let expected = (2.0 * 8.0 + 4.0 * 0.5f64.powf(1.5)) / 6.0;
    assert!((p.intensity()[i30] / plain.intensity()[i30] - expected).abs() < 1e-9);
}

#[test]
fn background_adds_the_chebyshev_values() {
    let grid = uniform_grid(10.0, 90.0, 0.5).unwrap();
    let bg = ChebyshevBackground::over_grid(&grid, vec![100.0, -20.0, 5.0]).unwrap();
    let m = Measurement {
        background: Some(bg),
        ..Measurement::default()
    };
    let lattice = cubic();
    let sample = SampleEffects::default();
    let p = render_phases(
        &[Phase::new(&[], &lattice, &sample)],
        &instrument(0.01),
        &m,
        &grid,
    )
    .unwrap();
    for (&t, &y) in grid.iter().zip(p.intensity()) {
        let x = (t - 50.0) / 40.0;
        let expected = 100.0 - 20.0 * x + 5.0 * (2.0 * x * x - 1.0);
        assert!((y - expected).abs() < 1e-9);
    }
}

#[test]
fn noise_is_deterministic_for_a_seed_with_variance_near_the_mean() {
    let grid = uniform_grid(10.0, 90.0, 0.01).unwrap();
    let lattice = cubic();
    let sample = SampleEffects::default();
    let noisy = |seed| {
        let m = Measurement {
            background: Some(ChebyshevBackground::over_grid(&grid, vec![1000.0]).unwrap()),
            noise_seed: Some(seed),
            ..Measurement::default()
        };
        render_phases(
            &[Phase::new(&[], &lattice, &sample)],
            &instrument(0.01),
            &m,
            &grid,
        )
        .unwrap()
    };
    let a = noisy(2024);
    assert_eq!(a, noisy(2024));
    assert_ne!(a.intensity(), noisy(2025).intensity());
    let y = a.intensity();
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    assert!(
        (mean - 1000.0).abs() < 5.0 * (1000.0 / n).sqrt(),
        "mean {mean}"
    );
    assert!(
        (var / mean - 1.0).abs() < 0.06,
        "variance {var}, mean {mean}"
    );
    assert!(a.sigma().is_some());
}

#[test]
fn builtin_cu_profile_puts_silicon_peaks_at_bragg_angles() {
    // Si, a = 5.431 Å: 111, 220, 311 positions for Cu Kα1 from Bragg's law.
    let lattice = Lattice::new(5.431, 5.431, 5.431, 90.0, 90.0, 90.0).unwrap();
    let inst = InstrumentProfile::builtin("bragg-brentano-cu").unwrap();
    let hkls = [[1, 1, 1], [2, 2, 0], [3, 1, 1]];
    let refl: Vec<Reflection> = hkls
        .iter()
        // two_theta deliberately wrong: positions come from d.
        .map(|&h| reflection(0.0, lattice.d_spacing(h), 100.0, h))
        .collect();
    let grid = uniform_grid(20.0, 60.0, 0.002).unwrap();
    let p = render(&refl, &lattice, &inst, &SampleEffects::default(), &grid).unwrap();
    for r in &refl {
        let expected = 2.0 * (inst.wavelength_angstrom / (2.0 * r.d)).asin().to_degrees();
        let i = grid.partition_point(|&t| t < expected - 0.2);
        let j = grid.partition_point(|&t| t < expected + 0.02);
        let (k, _) = p.intensity()[i..j]
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
        assert!(
            (grid[i + k] - expected).abs() <= 0.004,
            "{} vs {expected}",
            grid[i + k]
        );
    }
}

#[test]
fn impossible_inputs_are_errors() {
    let lattice = cubic();
    let sample = SampleEffects::default();
    let grid = uniform_grid(20.0, 60.0, 0.01).unwrap();
    let r = [reflection_at(40.0, 1.0, [1, 0, 0])];
    let negative = InstrumentProfile {
        v: -1.0,
        ..instrument(0.001)
    };
    assert!(matches!(
        render(&r, &lattice, &negative, &sample, &grid),
        Err(ProfileError::NegativeGaussianWidth { .. })
    ));
    assert!(matches!(
        render(&r, &lattice, &instrument(0.0), &sample, &grid),
        Err(ProfileError::ZeroWidth { .. })
    ));
    let bad = [Reflection {
        d: -1.0,
        ..r[0].clone()
    }];
    assert!(matches!(
        render(&bad, &lattice, &instrument(0.01), &sample, &grid),
        Err(ProfileError::BadReflection { index: 0, .. })
    ));
    assert!(matches!(
        render(&r, &lattice, &instrument(0.01), &sample, &[20.0, 19.0]),
        Err(ProfileError::Grid(_))
    ));
    let planes: Vec<Vec<[i32; 3]>> = vec![];
    let phase = Phase {
        planes: Some(&planes),
        ..Phase::new(&r, &lattice, &sample)
    };
    assert!(matches!(
        render_phases(&[phase], &instrument(0.01), &Measurement::default(), &grid),
        Err(ProfileError::PlaneCount { .. })
    ));
    // Reflections beyond 2θ = 180° for the wavelength are skipped, not errors.
    let tiny = [Reflection {
        d: 0.5,
        ..r[0].clone()
    }];
    let p = render(&tiny, &lattice, &instrument(0.01), &sample, &grid).unwrap();
    assert!(p.intensity().iter().all(|&y| y == 0.0));
}

/// The pattern summed term by term: every peak's pseudo-Voigt evaluated with `PeakShape::value`
/// at every grid point of its window, no pairing, no recurrence.
fn term_by_term(
    refl: &[Reflection],
    inst: &InstrumentProfile,
    sample: &SampleEffects,
    grid: &[f64],
) -> Vec<f64> {
    let tail = lorentzian_fraction_within(DEFAULT_WINDOW_FWHM);
    let mut y = vec![0.0; grid.len()];
    for r in refl {
        for (wavelength, weight) in inst.lines() {
            let theta = (wavelength / (2.0 * r.d)).asin();
            let center = 2.0 * theta.to_degrees()
                + inst.zero_shift_deg
                + sample.displacement_shift_deg(theta, inst.goniometer_radius_mm);
            let (tan, cos) = (theta.tan(), theta.cos());
            let g2 = inst.u * tan * tan + inst.v * tan + inst.w + inst.p / (cos * cos);
            let gl = inst.x * tan + inst.y / cos + sample.lorentzian_fwhm_deg(theta, wavelength);
            let shape = PeakShape::tch(g2.max(0.0).sqrt(), gl);
            let area = r.intensity * sample.scale * weight;
            let half = DEFAULT_WINDOW_FWHM * shape.fwhm;
            for (y, &t) in y.iter_mut().zip(grid) {
                let dx = t - center;
                if dx.abs() <= half {
                    let l = shape.eta * lorentzian(dx, shape.fwhm) / tail;
                    let g = (1.0 - shape.eta) * gaussian(dx, shape.fwhm);
                    *y += area * (l + g);
                }
            }
        }
    }
    y
}

#[test]
fn fast_sums_agree_with_term_by_term_evaluation() {
    // A crowded orthorhombic phase, Cu Kα1 + Kα2, size and strain broadening, displacement.
    let lattice = Lattice::new(5.1, 7.3, 9.7, 90.0, 90.0, 90.0).unwrap();
    let inst = InstrumentProfile::builtin("bragg-brentano-cu").unwrap();
    let mut refl = Vec::new();
    for (h, k, l) in [
        (1, 1, 0),
        (0, 2, 1),
        (1, 1, 2),
        (2, 0, 0),
        (1, 3, 1),
        (2, 2, 3),
        (3, 1, 4),
    ] {
        let d = lattice.d_spacing([h, k, l]);
        refl.push(reflection(0.0, d, 10.0 + f64::from(h + k + l), [h, k, l]));
    }
    let sample = SampleEffects {
        crystallite_size_nm: Some(50.0),
        microstrain: 5e-4,
        displacement_mm: 0.03,
        scale: 3.0,
        ..SampleEffects::default()
    };
    let grids = [
        uniform_grid(10.0, 90.0, 0.01).unwrap(),
        (0..8000)
            .map(|i| 10.0 + f64::from(i) * (80.0 / 7999.0))
            .collect(),
        // Uneven: the term-by-term path everywhere.
        (0..6000)
            .map(|i| {
                let x = f64::from(i) / 5999.0;
                10.0 + 80.0 * (x + 0.05 * (6.0 * x).sin() / 6.0)
            })
            .collect(),
        // Coarser than the narrowest peaks.
        uniform_grid(10.0, 90.0, 0.07).unwrap(),
    ];
    for grid in &grids {
        let fast = render(&refl, &lattice, &inst, &sample, grid).unwrap();
        let slow = term_by_term(&refl, &inst, &sample, grid);
        let max = slow.iter().copied().fold(0.0, f64::max);
        assert!(max > 0.0);
        for (i, (&a, &b)) in fast.intensity().iter().zip(&slow).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * max && (b < 1e-6 * max || (a - b).abs() <= 1e-12 * b),
                "2θ = {}: {a} vs {b}",
                grid[i]
            );
        }
    }
}
