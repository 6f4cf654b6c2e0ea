//! `qos-mismatch-tier`: the QoS a workload gets does not match its tier.
//!
//! Seed 003 §2.3: core services set requests equal to limits (Guaranteed QoS); non-core
//! services set requests to 0.6–0.9 of limits (Burstable, overcommitted on purpose). The
//! tier is read from the labels `berth.dev/tier` (any value), or `tier` / `criticality`
//! with a known value (`core`, `critical` → core; `standard`, `batch`, `non-core`,
//! `noncore` → not core), on the object or its pod template. Quantities are compared
//! exactly (`1` equals `1000m`). A pod is Guaranteed only when every container, init
//! containers included, has cpu and memory limits equal to its requests.

use berth_manifest::quantity::Quantity;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::and_list;
use crate::workload::{RESOURCE_NAMES, Resources, Workload, show_quantity};

/// Rule id.
pub const NAME: &str = "qos-mismatch-tier";

/// Requests/limits ratios a non-core tier should stay within (seed 003 §2.3).
pub const NON_CORE_RATIO: (f64, f64) = (0.6, 0.9);

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A core-tier workload whose containers are not Guaranteed (requests == limits for cpu and memory), or a non-core one whose requests/limits ratio is outside 0.6–0.9 (info).",
    source: "seed 003 §2.3 (core: requests = limits, Guaranteed; non-core: requests 0.6–0.9 × limits, Burstable); berth-model tier.rs",
    help: "Core services must not be throttled or evicted before others: give every container cpu and memory limits equal to its requests so the pod is Guaranteed. Non-core services are overcommitted on purpose: requests at 0.6–0.9 of limits.",
};

/// Whether a workload is core (`Some(true)`), another known tier (`Some(false)`), or untiered.
fn tier(cx: &Cx<'_>, w: &Workload<'_>) -> Option<(bool, String, String)> {
    let label = |k: &str| cx.object.label(k).or_else(|| w.pod_label(k));
    if let Some(v) = label("berth.dev/tier") {
        let core = matches!(v.to_ascii_lowercase().as_str(), "core" | "critical");
        return Some((core, "berth.dev/tier".into(), v.into()));
    }
    for key in ["tier", "criticality"] {
        if let Some(v) = label(key) {
            match v.to_ascii_lowercase().as_str() {
                "core" | "critical" => return Some((true, key.into(), v.into())),
                "standard" | "batch" | "non-core" | "noncore" => {
                    return Some((false, key.into(), v.into()));
                }
                _ => {}
            }
        }
    }
    None
}

fn q(v: Option<Quantity>, i: usize) -> String {
    v.map_or("unset".into(), |q| show_quantity(q, i))
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let Some((core, key, value)) = tier(cx, w) else { return };
    let spec_path = w.spec_path();
    for c in w.containers() {
        let r = Resources::of(&c, cx.limits());
        let cpath = c.path(&spec_path);
        if core {
            let mut problems = Vec::new();
            for (i, name) in RESOURCE_NAMES.into_iter().enumerate() {
                match (r.request[i], r.limit[i]) {
                    (_, None) => problems.push(format!("no {name} limit")),
                    (Some(a), Some(b)) if a != b => problems.push(format!(
                        "{name} requests {} ≠ limits {}",
                        q(Some(a), i),
                        q(Some(b), i)
                    )),
                    _ => {}
                }
            }
            if problems.is_empty() {
                continue;
            }
            let vals: Vec<String> = RESOURCE_NAMES
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let v = r.limit[i].or(r.request[i]).map_or(
                        if i == 0 { "1".into() } else { "1Gi".into() },
                        |x| show_quantity(x, i),
                    );
                    format!("{n}: {v}")
                })
                .collect();
            let both = vals.join(", ");
            out.warn(
                &cpath.key("resources"),
                format!(
                    "label {key}: {value} marks a core service, but {} is not Guaranteed: {}; the pod is Burstable and is throttled and evicted before Guaranteed pods",
                    c.label(),
                    and_list(&problems)
                ),
                format!("set `{cpath}.resources: {{requests: {{{both}}}, limits: {{{both}}}}}` (requests equal to limits)"),
            );
        } else {
            for (i, name) in RESOURCE_NAMES.into_iter().enumerate() {
                let (Some(req), Some(lim)) = (r.written_request[i], r.written_limit[i]) else {
                    continue;
                };
                if lim.0 <= 0 {
                    continue;
                }
                // Compared at two decimals, as printed: requests written in whole Mi or
                // millicores (0.6 × 2Gi = 1228.8Mi → 1228Mi) must not fall just outside.
                let ratio = (req.as_f64() / lim.as_f64() * 100.0).round() / 100.0;
                let (lo, hi) = NON_CORE_RATIO;
                if (lo..=hi).contains(&ratio) {
                    continue;
                }
                let target = if ratio < lo { lo } else { hi };
                let suggested = Quantity((lim.0 as f64 * target).round() as i128);
                let suggested = if i == 0 {
                    format!("{}m", suggested.millis())
                } else {
                    let mi = suggested.0 / (1_000_000_000 * 1024 * 1024);
                    format!("{mi}Mi")
                };
                out.emit(
                    Severity::Info,
                    &cpath.key("resources").key("requests").key(name),
                    format!(
                        "label {key}: {value} marks a non-core service, but {} requests {} of {name} against a limit of {} (ratio {ratio:.2}, outside {lo}–{hi}): {}",
                        c.label(),
                        q(Some(req), i),
                        q(Some(lim), i),
                        if ratio > hi {
                            "it reserves capacity a non-core service rarely uses"
                        } else {
                            "it is overcommitted so far that it is throttled or OOM-killed whenever neighbours are busy"
                        }
                    ),
                    format!("set `{cpath}.resources.requests.{name}: {suggested}` ({target} × the {} limit)", q(Some(lim), i)),
                );
            }
        }
    }
}
