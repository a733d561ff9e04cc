//! Confidence of each reported phase, between 0 and 1: how much the fit needs it (Rwp without
//! it), how clearly it beats the runners-up fitted in its place, and how much of the pattern is
//! left unexplained (unindexed peaks, amorphous humps), which lowers every phase's confidence.

/// The inputs for one phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Rwp of the reported fit.
    pub rwp: f64,
    /// Rwp of the best fit without the phase (`None`: the phase is alone and the alternative is
    /// the background only).
    pub rwp_without: Option<f64>,
    /// Rwp of the best fit with a runner-up in the phase's place (`None`: none was fitted).
    pub rwp_alternative: Option<f64>,
    /// Share of the observed peak heights that no phase explains (0–1).
    pub unexplained_share: f64,
    /// Share of the signal in amorphous humps (0–1).
    pub amorphous_share: f64,
}

/// The confidence in [0, 1].
pub fn confidence(e: &Evidence) -> f64 {
    let rwp = e.rwp.max(1e-6);
    let need = match e.rwp_without {
        Some(w) => 1.0 - (-((w - rwp).max(0.0) / (0.05 * rwp))).exp(),
        None => 1.0,
    };
    let unique = match e.rwp_alternative {
        Some(a) => 1.0 - (-((a - rwp).max(0.0) / (0.03 * rwp))).exp(),
        None => 1.0,
    };
    // A poor fit overall (Rwp well above what good fits of measured data reach) costs too.
    let quality = 1.0 / (1.0 + (rwp / 0.25).powi(4));
    let unexplained = (1.0 - 2.0 * e.unexplained_share).clamp(0.0, 1.0);
    let amorphous = 1.0 - e.amorphous_share.clamp(0.0, 0.5);
    (need * unique * quality * unexplained * amorphous).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_falls_with_each_kind_of_doubt() {
        let clear = Evidence {
            rwp: 0.08,
            rwp_without: Some(0.6),
            rwp_alternative: Some(0.3),
            unexplained_share: 0.0,
            amorphous_share: 0.0,
        };
        let c = confidence(&clear);
        assert!(c > 0.95 && c <= 1.0, "{c}");
        let close_rival = Evidence {
            rwp_alternative: Some(0.081),
            ..clear
        };
        assert!(confidence(&close_rival) < 0.5);
        let barely_needed = Evidence {
            rwp_without: Some(0.0805),
            ..clear
        };
        assert!(confidence(&barely_needed) < 0.2);
        let unindexed = Evidence {
            unexplained_share: 0.2,
            ..clear
        };
        assert!(confidence(&unindexed) < 0.65 * c);
        let hump = Evidence {
            amorphous_share: 0.3,
            ..clear
        };
        assert!(confidence(&hump) < 0.75 * c);
    }
}
