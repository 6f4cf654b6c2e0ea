//! `short-not-ready-toleration`: a pod that tolerates a NotReady/unreachable node for less
//! than the 300s default.
//!
//! The DefaultTolerationSeconds admission plugin gives every pod 300s tolerations for
//! `node.kubernetes.io/not-ready` and `node.kubernetes.io/unreachable` (NoExecute). A shorter
//! `tolerationSeconds` evicts the pod sooner when its node blips; seed 000 raised the
//! eviction tolerance precisely so that a node briefly NotReady does not set off an eviction
//! avalanche. Longer (or unbounded) tolerations are fine.

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "short-not-ready-toleration";

/// The default tolerationSeconds the DefaultTolerationSeconds admission plugin sets.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A toleration for node.kubernetes.io/not-ready or unreachable (NoExecute) has tolerationSeconds below the 300s default, so a short node blip evicts the pod.",
    source: "seed 000 (raise eviction tolerance; node blips must not cause eviction avalanches); DefaultTolerationSeconds admission plugin (300s)",
    help: "When a node stops reporting, pods that tolerate not-ready/unreachable for N seconds are evicted after N seconds. Values below the 300s default turn a brief kubelet or network blip into a mass eviction. Remove the toleration (to get 300s) or raise tolerationSeconds.",
};

const KEYS: [&str; 2] = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let tpath = w.spec_path().key("tolerations");
    for (i, t) in w.spec_field("tolerations").map_or(&[][..], Node::as_seq).iter().enumerate() {
        let Some(key) = t.get("key").and_then(Node::as_str) else { continue };
        if !KEYS.contains(&key) {
            continue;
        }
        let effect = t.get("effect").and_then(Node::as_str).unwrap_or("");
        if !(effect.is_empty() || effect == "NoExecute") {
            continue;
        }
        let Some(secs) = t.get("tolerationSeconds").and_then(Node::as_i64) else { continue };
        if secs >= DEFAULT_TOLERATION_SECONDS {
            continue;
        }
        let p = tpath.index(i).key("tolerationSeconds");
        out.warn(
            &p,
            format!(
                "toleration for {key}:NoExecute has tolerationSeconds {secs}, below the {DEFAULT_TOLERATION_SECONDS}s default: the pod is evicted {}s after its node stops reporting, so a short kubelet or network blip evicts it (and every pod like it) instead of waiting",
                secs.max(0)
            ),
            format!(
                "set `{p}: {DEFAULT_TOLERATION_SECONDS}` or more, or remove this toleration to get the {DEFAULT_TOLERATION_SECONDS}s default"
            ),
        );
    }
}
