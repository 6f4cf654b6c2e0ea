//! The doctor: rules over Kubernetes objects that report the pitfalls the seeds describe.
//!
//! Start with [`check`] (objects in, [`Finding`]s out) or [`Report::new`], which also keeps
//! load errors and counts suppressions; [`output`] renders a report as a table, JSON or
//! SARIF 2.1.0. [`rules()`] lists every rule; each lives in one file under `src/rules/`
//! with a `NAME` constant, and `RULES.md` beside this crate documents them.
//!
//! Rules read objects through [`berth_manifest`] trees and treat wrong shapes as absent, so
//! no input makes them panic. Cross-object rules (PDBs, HPAs, Services, NetworkPolicies)
//! share one index built per call, grouped by namespace.
//!
//! Must not print or exit: findings are values; the CLI formats them.

mod engine;
mod finding;
mod index;
pub mod output;
mod report;
pub mod rules;
mod workload;

use berth_manifest::Object;

pub use engine::IGNORE_ANNOTATION;
pub use finding::{Finding, ObjectRef, ParseSeverityError, RuleInfo, Severity};
pub use report::{Report, Summary};
pub use rules::{rule, rules};

/// Runs every rule over `objects` and returns the findings that no `berth.dev/ignore`
/// annotation suppresses, ordered by file, document, item, line and rule. Pure and
/// deterministic.
pub fn check(objects: &[Object]) -> Vec<Finding> {
    engine::run(objects).findings
}
