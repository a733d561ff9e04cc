//! Crystallite growth: d^n − d0^n = k0 exp(−Q/RT) t, integrated step by step over a temperature
//! history. Fresh material joining a phase averages in d^n, weighted by amount (the powder
//! integrator carries d^n for that reason).

use super::kinetics::arrhenius;

/// Growth law of one phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// The exponent n (2: parabolic, 3: Ostwald ripening, 4: pinned boundaries).
    pub exponent: f64,
    /// k0 in nm^n/s.
    pub prefactor: f64,
    /// Q in J/mol.
    pub activation_j_mol: f64,
}

impl Growth {
    /// The size after `dt` seconds at `t_k` kelvin, from `d_nm`.
    pub fn grow(&self, d_nm: f64, t_k: f64, dt: f64) -> f64 {
        let k = arrhenius(self.prefactor, self.activation_j_mol, t_k);
        (d_nm.powf(self.exponent) + k * dt).powf(1.0 / self.exponent)
    }

    /// d^n: what amount-weighted size averages are taken over.
    pub fn power(&self, d_nm: f64) -> f64 {
        d_nm.powf(self.exponent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAW: Growth = Growth {
        exponent: 3.0,
        prefactor: 1e9,
        activation_j_mol: 200e3,
    };

    #[test]
    fn growth_is_monotone_in_time_and_temperature() {
        let d0 = 20.0;
        let mut last = d0;
        for hours in 1..=12 {
            let d = LAW.grow(d0, 1173.0, f64::from(hours) * 3600.0);
            assert!(d > last, "{hours} h: {d} after {last}");
            last = d;
        }
        let mut last = d0;
        for t_c in [600.0, 700.0, 800.0, 900.0, 1000.0] {
            let d = LAW.grow(d0, t_c + 273.15, 3600.0);
            assert!(d > last, "{t_c} °C: {d} after {last}");
            last = d;
        }
    }

    #[test]
    fn stepwise_growth_matches_the_closed_form() {
        let (d0, t_k) = (20.0_f64, 1173.0);
        let mut d = d0;
        for _ in 0..3600 {
            d = LAW.grow(d, t_k, 10.0);
        }
        let k = arrhenius(LAW.prefactor, LAW.activation_j_mol, t_k);
        let closed = (d0.powi(3) + k * 36_000.0).cbrt();
        assert!((d - closed).abs() < 1e-9 * closed, "{d} vs {closed}");
    }
}
