//! A whole run: findings, unreadable input, and counts.

use berth_manifest::{LoadError, Object};

use crate::finding::{Finding, Severity};

/// Everything one `berth doctor` run found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Findings in deterministic order (file, document, item, line, rule).
    pub findings: Vec<Finding>,
    /// Input that could not be read as objects.
    pub errors: Vec<LoadError>,
    /// How many objects were checked.
    pub objects: usize,
    /// How many findings `berth.dev/ignore` annotations hid.
    pub suppressed: usize,
}

/// Counts for the last line of the table and the `summary` of JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// Objects checked.
    pub objects: usize,
    /// Findings of severity error.
    pub error: usize,
    /// Findings of severity warning.
    pub warning: usize,
    /// Findings of severity info.
    pub info: usize,
    /// Findings hidden by `berth.dev/ignore`.
    pub suppressed: usize,
    /// Input errors (unreadable documents).
    pub load_errors: usize,
}

impl Report {
    /// Checks `objects` and keeps the load errors found while reading them.
    pub fn new(objects: &[Object], errors: Vec<LoadError>) -> Self {
        let outcome = crate::engine::run(objects);
        Self {
            findings: outcome.findings,
            errors,
            objects: objects.len(),
            suppressed: outcome.suppressed,
        }
    }

    /// Whether the run should fail at `fail_on`: some finding is at least that severe, or
    /// some input could not be read (unreadable input counts as an error: nothing in it
    /// was checked).
    pub fn reaches(&self, fail_on: Severity) -> bool {
        !self.errors.is_empty() || self.findings.iter().any(|f| f.severity >= fail_on)
    }

    /// Counts by severity.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            objects: self.objects,
            suppressed: self.suppressed,
            load_errors: self.errors.len(),
            ..Summary::default()
        };
        for f in &self.findings {
            match f.severity {
                Severity::Error => s.error += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }
}
