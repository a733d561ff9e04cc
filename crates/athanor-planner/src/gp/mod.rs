//! Gaussian-process regression on nalgebra: Matérn-5/2 kernels, exact conditioning through a
//! Cholesky factor, and hyperparameters by maximum marginal likelihood with restarts.

pub mod fit;
pub mod kernel;
pub mod lbfgs;
pub mod model;

pub use fit::{fit, fit_with_evidence, FitOptions};
pub use kernel::Matern52;
pub use model::{Gp, Hyper};
