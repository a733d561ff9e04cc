//! Why an identification or refinement could not be made.

/// Errors of identification and refinement.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdentifyError {
    #[error("candidate {id}: {reason}")]
    Candidate { id: String, reason: String },
    #[error("the pattern has {points} points; at least {needed} are needed to fit it")]
    TooFewPoints { points: usize, needed: usize },
    #[error("no candidate phase is left: {reason}")]
    NoCandidates { reason: String },
    #[error("the pattern was recorded at {pattern} Å but the candidate library was built for {library} Å; rebuild the library for the pattern's wavelength")]
    WavelengthMismatch { pattern: f64, library: f64 },
    #[error("the pattern reaches 2θ = {pattern}° but the library's sticks stop at {library}°; build the library with a larger two_theta_max")]
    OutOfRange { pattern: f64, library: f64 },
    #[error("the pattern has no intensity above its background: nothing to identify")]
    NoSignal,
}
