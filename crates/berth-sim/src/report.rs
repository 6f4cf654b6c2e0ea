//! What a run produced: the timeline of Events, per-app counters, the assertions' verdicts;
//! as a value, as JSON, and as the text the CLI prints.

use std::fmt::Write as _;

use serde_json::json;

use crate::time::{Millis, fmt_clock, fmt_millis};

/// A Kubernetes-style Event on the virtual timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When.
    pub t: Millis,
    /// `Warning` rather than `Normal`.
    pub warning: bool,
    /// Upstream's reason (`Killing`, `NodeNotReady`, ...).
    pub reason: String,
    /// `kind/name` of the object.
    pub object: String,
    /// The app it concerns.
    pub app: Option<String>,
    /// The message.
    pub message: String,
}

/// One app's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct AppReport {
    /// App name.
    pub name: String,
    /// Requests sent.
    pub requests: u64,
    /// Failed requests.
    pub failed: u64,
    /// Of which refused or cut mid-request.
    pub failed_502: u64,
    /// Of which met no endpoint.
    pub failed_503: u64,
    /// Of which got no answer.
    pub failed_504: u64,
    /// Lowest ready count once first fully ready (`None`: never fully ready).
    pub min_ready: Option<i64>,
    /// Highest ready count.
    pub max_ready: i64,
    /// Container restarts.
    pub restarts: u64,
    /// Pods evicted.
    pub evictions: u64,
    /// Autoscaler rescales.
    pub rescales: u64,
    /// When all its replicas were first ready.
    pub ready_at: Option<Millis>,
    /// Where its pods ran then: (switch, node, pods).
    pub placement: Vec<(String, String, u32)>,
}

/// One assertion's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertionReport {
    /// Its name.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// The measured value against the bound.
    pub detail: String,
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Its description.
    pub description: Option<String>,
    /// The seed.
    pub seed: u64,
    /// Virtual time covered.
    pub duration: Millis,
    /// Nodes in the cluster.
    pub nodes: usize,
    /// The timeline.
    pub events: Vec<Event>,
    /// Per app.
    pub apps: Vec<AppReport>,
    /// Verdicts.
    pub assertions: Vec<AssertionReport>,
    /// What the run could not model, and similar remarks.
    pub notes: Vec<String>,
}

impl Report {
    /// Whether every assertion held.
    pub fn passed(&self) -> bool {
        self.assertions.iter().all(|a| a.passed)
    }

    /// One app's counters.
    pub fn app(&self, name: &str) -> Option<&AppReport> {
        self.apps.iter().find(|a| a.name == name)
    }

    /// The JSON form: `seed`, `virtual_seconds`, `events`, `apps`, `assertions`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "virtual_seconds": self.duration as f64 / 1000.0,
            "nodes": self.nodes,
            "events": self.events.iter().map(|e| json!({
                "t": e.t as f64 / 1000.0,
                "type": if e.warning { "Warning" } else { "Normal" },
                "reason": e.reason,
                "object": e.object,
                "app": e.app,
                "message": e.message,
            })).collect::<Vec<_>>(),
            "apps": self.apps.iter().map(|a| json!({
                "name": a.name,
                "requests": a.requests,
                "failed": a.failed,
                "failed_502": a.failed_502,
                "failed_503": a.failed_503,
                "failed_504": a.failed_504,
                "min_ready": a.min_ready,
                "max_ready": a.max_ready,
                "restarts": a.restarts,
                "evictions": a.evictions,
                "rescales": a.rescales,
                "ready_at": a.ready_at.map(|t| t as f64 / 1000.0),
                "placement": a.placement.iter().map(|(s, n, c)| json!({"switch": s, "node": n, "pods": c})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "assertions": self.assertions.iter().map(|a| json!({
                "name": a.name,
                "passed": a.passed,
                "detail": a.detail,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// Events of these reasons only.
    pub fn highlights(&self, reasons: &[&str]) -> Report {
        let mut r = self.clone();
        r.events.retain(|e| reasons.contains(&e.reason.as_str()));
        r
    }

    /// The timeline, grouped: events of the same app and reason within the same second
    /// become one line with a count.
    pub fn timeline_text(&self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.events.len() {
            let second = self.events[i].t / 1000;
            let mut j = i;
            while j < self.events.len() && self.events[j].t / 1000 == second {
                j += 1;
            }
            let mut groups: Vec<(&Event, usize)> = Vec::new();
            for e in &self.events[i..j] {
                // Timeline actions are each worth a line of their own.
                match groups.iter_mut().find(|(g, _)| {
                    e.reason != "Action"
                        && g.reason == e.reason
                        && g.app == e.app
                        && g.warning == e.warning
                        && kind_of(&g.object) == kind_of(&e.object)
                }) {
                    Some((_, n)) => *n += 1,
                    None => groups.push((e, 1)),
                }
            }
            for (e, n) in groups {
                let mark = if e.warning { "!" } else { " " };
                let who = e.app.as_deref().unwrap_or("");
                let _ = write!(
                    out,
                    "  {:>10} {mark} {:<16} {:<22}",
                    fmt_clock(e.t),
                    who,
                    e.reason
                );
                if n > 1 {
                    let _ = writeln!(out, " ×{n}  e.g. {}: {}", e.object, e.message);
                } else {
                    let _ = writeln!(out, " {}: {}", e.object, e.message);
                }
            }
            i = j;
        }
        out
    }

    /// The per-app table.
    pub fn summary_text(&self) -> String {
        let mut out = String::new();
        let w = self
            .apps
            .iter()
            .map(|a| a.name.len())
            .max()
            .unwrap_or(3)
            .max(3);
        let _ = writeln!(
            out,
            "  {:<w$}  {:>9}  {:>7}  {:>5}  {:>5}  {:>5}  {:>9}  {:>9}  {:>8}  {:>9}  {:>8}",
            "APP",
            "REQUESTS",
            "FAILED",
            "502",
            "503",
            "504",
            "MIN-READY",
            "MAX-READY",
            "RESTARTS",
            "EVICTIONS",
            "RESCALES"
        );
        for a in &self.apps {
            let _ = writeln!(
                out,
                "  {:<w$}  {:>9}  {:>7}  {:>5}  {:>5}  {:>5}  {:>9}  {:>9}  {:>8}  {:>9}  {:>8}",
                a.name,
                a.requests,
                a.failed,
                a.failed_502,
                a.failed_503,
                a.failed_504,
                a.min_ready.map_or("-".to_string(), |m| m.to_string()),
                a.max_ready,
                a.restarts,
                a.evictions,
                a.rescales
            );
        }
        out
    }

    /// The assertions' verdicts.
    pub fn assertions_text(&self) -> String {
        let mut out = String::new();
        for a in &self.assertions {
            let mark = if a.passed { "PASS" } else { "FAIL" };
            let _ = writeln!(out, "  {mark}  {}: {}", a.name, a.detail);
        }
        out
    }

    /// Everything, as `berth sim -o text` prints it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "scenario {} (seed {}): {} nodes, {} apps, {} of virtual time",
            self.scenario,
            self.seed,
            self.nodes,
            self.apps.len(),
            fmt_millis(self.duration)
        );
        if let Some(d) = &self.description {
            let _ = writeln!(out, "  {d}");
        }
        for n in &self.notes {
            let _ = writeln!(out, "  note: {n}");
        }
        let _ = writeln!(out, "\nTimeline\n{}", self.timeline_text());
        let _ = writeln!(out, "Summary\n{}", self.summary_text());
        if !self.assertions.is_empty() {
            let _ = write!(out, "Assertions\n{}", self.assertions_text());
        }
        out
    }
}

fn kind_of(object: &str) -> &str {
    object.split('/').next().unwrap_or(object)
}
