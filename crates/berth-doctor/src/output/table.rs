//! The human table: findings grouped by object, a `fix:` line under each, a summary line.

use std::fmt::Write;

use crate::finding::Severity;
use crate::report::Report;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";

fn colour(s: Severity) -> &'static str {
    match s {
        Severity::Error => "\x1b[31m",
        Severity::Warning => "\x1b[33m",
        Severity::Info => "\x1b[36m",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The report as text for a terminal; ANSI colour only when `color` is true.
pub fn table(report: &Report, color: bool) -> String {
    let paint = |code: &str, text: &str| -> String {
        if color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for e in &report.errors {
        let _ = writeln!(
            out,
            "{} {e}",
            paint(colour(Severity::Error), "input error:")
        );
    }
    if !report.errors.is_empty() {
        out.push('\n');
    }
    let mut i = 0;
    let fs = &report.findings;
    while i < fs.len() {
        let first = &fs[i];
        let mut j = i;
        while j < fs.len()
            && fs[j].file == first.file
            && fs[j].object_pos == first.object_pos
            && fs[j].object == first.object
        {
            j += 1;
        }
        let group = &fs[i..j];
        let header = format!(
            "{}  ({}:{})",
            first.object, first.file, first.object_pos.line
        );
        let _ = writeln!(out, "{}", paint(BOLD, &header));
        let rule_w = group.iter().map(|f| f.rule.len()).max().unwrap_or(0);
        for f in group {
            let sev = format!("{:<7}", f.severity.as_str());
            let _ = writeln!(
                out,
                "  {} {:<rule_w$}  {}  {}",
                paint(colour(f.severity), &sev),
                f.rule,
                paint(DIM, &format!("{} (line {})", f.path, f.pos.line)),
                f.message,
            );
            let _ = writeln!(out, "  {:7} {:<rule_w$}  fix: {}", "", "", f.fix);
        }
        out.push('\n');
        i = j;
    }
    let s = report.summary();
    let objects = plural(s.objects, "object", "objects");
    if fs.is_empty() {
        let mut line = format!("No findings in {objects}");
        if s.suppressed > 0 {
            line.push_str(&format!(" ({} suppressed)", s.suppressed));
        }
        if s.load_errors > 0 {
            line.push_str(&format!(
                "; {} could not be read",
                plural(s.load_errors, "document", "documents")
            ));
        }
        line.push('.');
        let _ = writeln!(
            out,
            "{}",
            paint(
                if s.load_errors > 0 {
                    colour(Severity::Error)
                } else {
                    "\x1b[32m"
                },
                &line
            )
        );
    } else {
        let mut line = format!(
            "{objects} checked: {}, {}, {} info",
            plural(s.error, "error", "errors"),
            plural(s.warning, "warning", "warnings"),
            s.info
        );
        if s.suppressed > 0 {
            line.push_str(&format!(", {} suppressed", s.suppressed));
        }
        if s.load_errors > 0 {
            line.push_str(&format!(
                "; {} could not be read",
                plural(s.load_errors, "document", "documents")
            ));
        }
        line.push('.');
        let _ = writeln!(out, "{}", paint(BOLD, &line));
    }
    out
}
