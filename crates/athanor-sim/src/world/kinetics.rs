//! Arrhenius rates and the Bell–Evans–Polanyi shift of a barrier by the reaction energy.

/// The gas constant, J/(mol·K).
pub const GAS_CONSTANT: f64 = 8.314_462_618;
/// One meV per atom in kJ per mole of atoms.
pub const KJ_MOL_PER_MEV_ATOM: f64 = 0.096_485_332;
/// 0 °C in kelvin.
pub const ZERO_CELSIUS: f64 = 273.15;

/// k = A exp(−Ea / RT).
pub fn arrhenius(prefactor: f64, activation_j_mol: f64, t_k: f64) -> f64 {
    if t_k <= 0.0 {
        return 0.0;
    }
    prefactor * (-activation_j_mol / (GAS_CONSTANT * t_k)).exp()
}

/// The barrier (kJ/mol) of a reaction with intrinsic barrier `ea0` and reaction energy
/// `energy_mev_atom`: Ea0 + α·ΔE, never below `floor`. A downhill reaction (ΔE < 0) with a
/// larger driving force gets the lower barrier.
pub fn bep_barrier(ea0: f64, alpha: f64, energy_mev_atom: Option<f64>, floor: f64) -> f64 {
    let shift = alpha * energy_mev_atom.unwrap_or(0.0) * KJ_MOL_PER_MEV_ATOM;
    (ea0 + shift).max(floor.min(ea0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrhenius_rises_with_temperature() {
        let mut last = 0.0;
        for t in [500.0, 700.0, 900.0, 1100.0, 1300.0] {
            let k = arrhenius(1e6, 150e3, t);
            assert!(k > last);
            last = k;
        }
        assert_eq!(arrhenius(1e6, 150e3, 0.0), 0.0);
    }

    #[test]
    fn a_larger_driving_force_lowers_the_barrier() {
        let small = bep_barrier(200.0, 1.0, Some(-100.0), 20.0);
        let large = bep_barrier(200.0, 1.0, Some(-600.0), 20.0);
        assert!(large < small && small < 200.0);
        assert!((200.0 - small - 100.0 * KJ_MOL_PER_MEV_ATOM).abs() < 1e-9);
        assert_eq!(bep_barrier(200.0, 0.0, Some(-600.0), 20.0), 200.0);
        assert_eq!(bep_barrier(30.0, 1.0, Some(-600.0), 20.0), 20.0);
    }
}
