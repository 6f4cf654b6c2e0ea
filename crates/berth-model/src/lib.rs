//! berth's custom resources and what they mean.
//!
//! [`Application`] (`berth.dev/v1alpha1`) is the one short spec a team writes per service;
//! [`release::Release`] moves Applications to a new version, group by group.
//! [`load_applications`] reads it from YAML with positioned, fix-naming diagnostics
//! (unknown fields with "did you mean", wrong types, broken tier rules), [`tier`] holds the
//! defaults each service tier implies, and [`Application::resolved`] fills every default in
//! so that later stages never guess.
//!
//! Pure types and checks: this crate must not do I/O or know about kube clients.

mod application;
mod diagnostic;
mod duration;
mod intstr;
mod load;
pub mod names;
pub mod release;
mod resolve;
pub mod tier;
mod validate;

pub use application::*;
pub use diagnostic::{Diagnostic, Issue, Severity};
pub use duration::parse_duration;
pub use load::{
    API_VERSION, KIND, application_schema, load_application_document, load_applications,
};
pub use resolve::{
    Budget, CpuTarget, MAX_APP_NAME, ResolveError, Resolved, budget_for, slugify, version_key,
};
pub use resolve::{
    DEFAULT_NOT_READY_TOLERATION_SECONDS, DEFAULT_SWITCH_LABEL, GRACE_MARGIN_SECONDS,
};
pub use tier::Tier;
