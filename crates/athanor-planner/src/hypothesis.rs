//! Hypothesis bookkeeping: a falsifiable claim (the store's [`Claim`]), a prior, and a belief
//! that each piece of evidence moves by Bayes' rule in odds form, with the evidence kept in words.

use athanor_core::{Claim, HypothesisState, NewHypothesis};

use crate::planner::HypothesisView;

/// Belief at or beyond which a hypothesis is reported as supported (or, at one minus it, refuted).
pub const DECISIVE: f64 = 0.95;

/// One hypothesis and its belief.
#[derive(Debug, Clone, PartialEq)]
pub struct Belief {
    pub key: String,
    pub statement: String,
    pub claim: Claim,
    pub prior: f64,
    log_odds: f64,
    pub evidence: Vec<String>,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

impl Belief {
    pub fn new(
        key: impl Into<String>,
        statement: impl Into<String>,
        claim: Claim,
        prior: f64,
    ) -> Self {
        Self {
            key: key.into(),
            statement: statement.into(),
            claim,
            prior,
            log_odds: logit(prior),
            evidence: Vec::new(),
        }
    }

    /// Current probability that the hypothesis holds.
    pub fn belief(&self) -> f64 {
        1.0 / (1.0 + (-self.log_odds).exp())
    }

    /// Applies evidence with likelihood ratio `P(evidence | H) / P(evidence | not H)`.
    pub fn update(&mut self, likelihood_ratio: f64, note: impl Into<String>) {
        if !(likelihood_ratio.is_finite() && likelihood_ratio > 0.0)
            || (likelihood_ratio - 1.0).abs() < 1e-12
        {
            return;
        }
        self.log_odds = (self.log_odds + likelihood_ratio.ln()).clamp(-12.0, 12.0);
        self.evidence.push(format!(
            "{} (×{likelihood_ratio:.2} odds → {:.2})",
            note.into(),
            self.belief()
        ));
    }

    /// The state an operator would read: supported, refuted, or still open.
    pub fn state(&self) -> HypothesisState {
        let b = self.belief();
        if b >= DECISIVE {
            HypothesisState::Supported
        } else if b <= 1.0 - DECISIVE {
            HypothesisState::Refuted
        } else {
            HypothesisState::Open
        }
    }

    /// Binary entropy of the belief, in bits.
    pub fn entropy(&self) -> f64 {
        binary_entropy(self.belief())
    }

    pub fn view(&self) -> HypothesisView {
        HypothesisView {
            key: self.key.clone(),
            record: NewHypothesis {
                statement: self.statement.clone(),
                claim: self.claim.clone(),
                prior: self.prior.clamp(1e-6, 1.0 - 1e-6),
            },
            belief: self.belief(),
            evidence: self.evidence.clone(),
        }
    }
}

/// Entropy in bits of a yes/no outcome of probability `p`.
pub fn binary_entropy(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    -(p * p.log2() + (1.0 - p) * (1.0 - p).log2())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h() -> Belief {
        Belief::new(
            "t",
            "BaCO3 + CuO forms BaCuO2 below 700 °C",
            Claim::Statement {},
            0.5,
        )
    }

    #[test]
    fn supporting_evidence_raises_and_contrary_evidence_lowers_belief() {
        let mut b = h();
        b.update(3.0, "seen");
        assert!((b.belief() - 0.75).abs() < 1e-12);
        b.update(1.0 / 9.0, "not seen twice");
        assert!((b.belief() - 0.25).abs() < 1e-12);
        assert_eq!(b.evidence.len(), 2);
    }

    #[test]
    fn decisive_evidence_settles_the_state() {
        let mut b = h();
        assert_eq!(b.state(), HypothesisState::Open);
        b.update(100.0, "strong");
        assert_eq!(b.state(), HypothesisState::Supported);
        b.update(1e-4, "refuting");
        assert_eq!(b.state(), HypothesisState::Refuted);
        let view = b.view();
        assert!(view.record.validate().is_ok());
    }

    #[test]
    fn entropy_peaks_at_even_odds() {
        assert!((binary_entropy(0.5) - 1.0).abs() < 1e-12);
        assert!(binary_entropy(0.9) < binary_entropy(0.6));
    }
}
