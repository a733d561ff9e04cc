//! Athanor's domain: typed ids, records, state machines and validation. No I/O, no clock, no runtime.
//!
//! Every stateful record changes state only through [`machine::StateMachine::apply`], whose
//! legal moves are listed once per machine in [`states`].

pub mod auth;
pub mod campaign;
pub mod command;
pub mod error;
pub mod event;
pub mod experiment;
pub mod hypothesis;
pub mod ids;
pub mod instrument;
pub mod machine;
pub mod measurement;
pub mod sample;
pub mod space;
pub mod states;

pub use auth::Role;
pub use campaign::{Budget, Campaign, Direction, Goal, NewCampaign, PlannerSpec, SafetyLimits};
pub use command::Command;
pub use error::{UnknownName, ValidationError};
pub use event::{EntityKind, Event, NewEvent};
pub use experiment::{Experiment, NewExperiment, Parameters, Step, StepKind};
pub use hypothesis::{Claim, Hypothesis, NewHypothesis, Origin};
pub use ids::*;
pub use instrument::{Instrument, InstrumentClass, InstrumentLimits, NewInstrument};
pub use machine::{StateMachine, TransitionError};
pub use measurement::{Analysis, Measurement};
pub use sample::{NewSample, Sample};
pub use space::{Parameter, SearchSpace};
pub use states::*;
