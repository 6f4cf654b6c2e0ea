//! The values the doctor hands back: severities, findings and rule descriptions.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use berth_manifest::{Object, Pos};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; not wrong on its own.
    Info,
    /// Likely to hurt in production; fix or suppress with a reason.
    Warning,
    /// Broken or dangerous as written.
    Error,
}

impl Severity {
    /// All severities, lowest first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Error];

    /// The lowercase name (`info`, `warning`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    /// The lowercase name; honours width and alignment (`{:<7}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A severity name that is not one of `info`, `warning`, `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {given:?}; valid values are `info`, `warning` and `error`")]
pub struct ParseSeverityError {
    /// The text that was given.
    pub given: String,
}

impl FromStr for Severity {
    type Err = ParseSeverityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "error" => Ok(Severity::Error),
            _ => Err(ParseSeverityError {
                given: s.to_string(),
            }),
        }
    }
}

/// Which Kubernetes object a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    /// `apiVersion` as written.
    pub api_version: String,
    /// `kind` as written.
    pub kind: String,
    /// `metadata.namespace`, when the manifest sets it.
    pub namespace: Option<String>,
    /// `metadata.name` (empty when missing).
    pub name: String,
}

impl ObjectRef {
    /// The reference of a loaded object.
    pub fn of(object: &Object) -> Self {
        Self {
            api_version: object.api_version().to_string(),
            kind: object.kind().to_string(),
            namespace: object.namespace().map(str::to_string),
            name: object.name().to_string(),
        }
    }
}

impl fmt::Display for ObjectRef {
    /// `Deployment prod/web`, or `Deployment web` without a namespace.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.name.is_empty() {
            "<unnamed>"
        } else {
            &self.name
        };
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{name}", self.kind),
            None => write!(f, "{} {name}", self.kind),
        }
    }
}

/// One problem found in one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule id, e.g. `missing-prestop`.
    pub rule: &'static str,
    /// How bad it is (a rule may emit below or at its registered severity).
    pub severity: Severity,
    /// The object the finding is about.
    pub object: ObjectRef,
    /// The file the object was read from.
    pub file: Arc<str>,
    /// Where the field is, or its nearest existing parent when the field is missing.
    pub pos: Pos,
    /// The field, printed like `spec.template.spec.containers[0].lifecycle`.
    pub path: String,
    /// What is wrong, with the numbers that make it wrong.
    pub message: String,
    /// Exactly what to write to fix it.
    pub fix: String,
    /// Where the object itself starts in `file` (for grouping and headers).
    pub object_pos: Pos,
}

/// A rule as the registry lists it (`berth doctor --list-rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id, kebab-case; what `berth.dev/ignore` names.
    pub id: &'static str,
    /// The highest severity the rule emits (some findings of a rule are milder).
    pub severity: Severity,
    /// One sentence: what the rule detects.
    pub summary: &'static str,
    /// Where the pitfall is documented: a seed section or an upstream source file or page.
    pub source: &'static str,
    /// Why it matters and how to fix it, in a few sentences (SARIF help text).
    pub help: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_from_info_to_error() {
        assert!(Severity::Info < Severity::Warning);
        assert!(Severity::Warning < Severity::Error);
    }

    #[test]
    fn severities_round_trip_through_their_lowercase_names() {
        for s in Severity::ALL {
            assert_eq!(s.to_string().parse::<Severity>(), Ok(s));
        }
        assert_eq!("ERROR".parse::<Severity>(), Ok(Severity::Error));
        assert_eq!(format!("[{:<7}]", Severity::Info), "[info   ]");
    }

    #[test]
    fn an_unknown_severity_lists_the_valid_ones() {
        let e = "fatal"
            .parse::<Severity>()
            .expect_err("fatal is not a severity");
        let text = e.to_string();
        assert!(text.contains("`info`, `warning` and `error`"), "{text}");
        assert!(text.contains("\"fatal\""), "{text}");
    }
}
