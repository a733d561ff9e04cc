//! Scalar Bayesian optimisation: a Gaussian process on the observed values, an acquisition
//! function over the candidates, batches by the kriging believer (each pick is added to the
//! data at its predicted mean before the next pick).

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::acquisition::Acquisition;
use crate::gp::{fit, fit_with_evidence, FitOptions, Gp, Hyper};
use crate::strategy::{Choice, Strategy};
use crate::warp::RankWarp;

/// How a Gaussian-process planner models and chooses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpConfig {
    /// One length scale per input (ARD) instead of one for all.
    pub anisotropic: bool,
    /// At each hyperparameter fit, fit both kernels and keep the one with the larger marginal
    /// likelihood (overrides `anisotropic`).
    #[serde(default)]
    pub select_kernel: bool,
    pub acquisition: Acquisition,
    /// Fit the process to normal scores of the ranks instead of the raw values.
    pub rank_warp: bool,
    /// Random restarts of the hyperparameter fit (besides the default and the warm start).
    pub restarts: usize,
    /// Refit the hyperparameters at every step up to this many observations; beyond it, only
    /// when the data have grown by `refit_growth` (e.g. 1.1 = 10 %) since the last fit.
    pub refit_every_step_below: usize,
    pub refit_growth: f64,
}

impl GpConfig {
    /// The "GP isotropic Matérn-5/2 + LCB (μ+0.5σ)" baseline.
    pub fn isotropic_lcb() -> Self {
        Self {
            anisotropic: false,
            select_kernel: false,
            acquisition: Acquisition::UpperConfidenceBound { kappa: 0.5 },
            rank_warp: false,
            restarts: 2,
            refit_every_step_below: 40,
            refit_growth: 1.1,
        }
    }

    /// The "GP anisotropic + EI" baseline.
    pub fn anisotropic_ei() -> Self {
        Self {
            anisotropic: true,
            acquisition: Acquisition::ExpectedImprovement { xi: 0.0 },
            ..Self::isotropic_lcb()
        }
    }
}

/// A Gaussian-process planner.
#[derive(Debug, Clone)]
pub struct GpStrategy {
    name: String,
    config: GpConfig,
    last_hyper: Option<Hyper>,
    last_fit_len: usize,
}

impl GpStrategy {
    pub fn new(name: impl Into<String>, config: GpConfig) -> Self {
        Self {
            name: name.into(),
            config,
            last_hyper: None,
            last_fit_len: 0,
        }
    }

    /// The process for these data: refitted or conditioned with the last hyperparameters.
    fn model(&mut self, x: &[Vec<f64>], y: &[f64], rng: &mut ChaCha8Rng) -> Option<Gp> {
        let n = x.len();
        let refit = self.last_hyper.is_none()
            || n < self.config.refit_every_step_below
            || n as f64 >= self.last_fit_len as f64 * self.config.refit_growth;
        let options = FitOptions {
            anisotropic: self.config.anisotropic,
            restarts: self.config.restarts,
            ..FitOptions::default()
        };
        let gp = match (&self.last_hyper, refit) {
            (Some(h), false) => Gp::condition(x.to_vec(), y, h.clone()),
            _ => None,
        };
        let gp = match gp {
            Some(gp) => gp,
            None => {
                let gp = if self.config.select_kernel {
                    [true, false]
                        .into_iter()
                        .filter_map(|anisotropic| {
                            let options = FitOptions {
                                anisotropic,
                                ..options
                            };
                            fit_with_evidence(x.to_vec(), y, options, self.last_hyper.as_ref(), rng)
                        })
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|(gp, _)| gp)?
                } else {
                    fit(x.to_vec(), y, options, self.last_hyper.as_ref(), rng)?
                };
                self.last_hyper = Some(gp.hyper().clone());
                self.last_fit_len = n;
                gp
            }
        };
        Some(gp)
    }
}

impl Strategy for GpStrategy {
    fn name(&self) -> &str {
        &self.name
    }

    fn choose(
        &mut self,
        observed: &[Vec<f64>],
        values: &[f64],
        candidates: &[Vec<f64>],
        batch: usize,
        rng: &mut ChaCha8Rng,
    ) -> Vec<Choice> {
        if observed.len() < 2 {
            return crate::strategy::RandomStrategy
                .choose(observed, values, candidates, batch, rng);
        }
        let warp = self.config.rank_warp.then(|| RankWarp::fit(values));
        let mut x: Vec<Vec<f64>> = observed.to_vec();
        let mut y: Vec<f64> = match &warp {
            Some(w) => values.iter().map(|v| w.forward(*v)).collect(),
            None => values.to_vec(),
        };
        let Some(mut gp) = self.model(&x, &y, rng) else {
            return crate::strategy::RandomStrategy
                .choose(observed, values, candidates, batch, rng);
        };
        let mut picked: Vec<Choice> = Vec::new();
        while picked.len() < batch.min(candidates.len()) {
            let best = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let predictions = gp.predict(candidates);
            let threshold = match self.config.acquisition {
                Acquisition::TopShare { share } => {
                    let all: Vec<f64> = y
                        .iter()
                        .copied()
                        .chain(predictions.iter().map(|p| p.0))
                        .collect();
                    crate::bench::stats::quantile(&all, 1.0 - share)
                }
                _ => best,
            };
            let top = predictions
                .iter()
                .enumerate()
                .filter(|(i, _)| !picked.iter().any(|c| c.index == *i))
                .map(|(i, (m, s))| {
                    (
                        i,
                        *m,
                        *s,
                        self.config.acquisition.score(*m, *s, best, threshold),
                    )
                })
                .max_by(|a, b| a.3.total_cmp(&b.3).then(b.0.cmp(&a.0)));
            let Some((index, mean, sd, score)) = top else {
                break;
            };
            let (mean_out, sd_out) = match &warp {
                Some(w) => (w.back(mean), 0.5 * (w.back(mean + sd) - w.back(mean - sd))),
                None => (mean, sd),
            };
            picked.push(Choice {
                index,
                mean: Some(mean_out),
                sd: Some(sd_out),
                rationale: format!(
                    "{} GP ({} observations{}): best {} score {score:.4} among {} candidates",
                    if self.config.anisotropic {
                        "anisotropic"
                    } else {
                        "isotropic"
                    },
                    observed.len(),
                    if warp.is_some() {
                        ", rank-warped outputs"
                    } else {
                        ""
                    },
                    self.config.acquisition.describe(),
                    candidates.len()
                ),
            });
            if picked.len() < batch {
                // Kriging believer: pretend the pick returned its mean, keep the hyperparameters.
                x.push(candidates[index].clone());
                y.push(mean);
                match Gp::condition(x.clone(), &y, gp.hyper().clone()) {
                    Some(next) => gp = next,
                    None => break,
                }
            }
        }
        picked
    }
}
