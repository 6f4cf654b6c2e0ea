//! Problems found in a spec: [`Issue`] without a position (pure validation), [`Diagnostic`]
//! with the file, line and column it was read from.

use std::fmt;

use berth_manifest::{FieldPath, Pos};

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Allowed, but against the tier's recommendation.
    Warning,
    /// The spec cannot be used.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A problem with one field of a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Error or warning.
    pub severity: Severity,
    /// The field, from the object's root (`spec.scaling.minReplicas`).
    pub path: FieldPath,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: Option<String>,
}

impl Issue {
    /// An error at `path`.
    pub fn error(path: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            path: FieldPath::parse(path),
            message: message.into(),
            fix: Some(fix.into()),
        }
    }

    /// A warning at `path`.
    pub fn warning(path: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(path, message, fix)
        }
    }
}

/// An [`Issue`] placed in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file as the user named it.
    pub file: String,
    /// Where the field is written (or its nearest parent, for a missing field).
    pub pos: Pos,
    /// The field (`spec.scaling.minReplicas`); empty for the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}:{}:{}: ",
            self.severity, self.file, self.pos.line, self.pos.col
        )?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n  help: {fix}")?;
        }
        Ok(())
    }
}
