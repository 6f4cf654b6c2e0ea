//! `liveness-without-startup`: a liveness probe that can kill a slow-starting container.
//!
//! Seed 003 §5: before startupProbe existed, a long `initialDelaySeconds` on liveness was
//! the only guard against killing a container that starts slowly (JVM warm-up, cache load);
//! a startupProbe holds liveness off until the application has started. The kubelet kills a
//! container once liveness fails `failureThreshold` times in a row, `periodSeconds` apart,
//! after `initialDelaySeconds` (defaults 3, 10s and 0s: 30s after start).

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "liveness-without-startup";

/// A container must be allowed at least this long to start before liveness can kill it.
pub const STARTUP_BUDGET_SECONDS: i64 = 60;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A livenessProbe without a startupProbe kills the container if it has not answered within 60s of starting (initialDelaySeconds + failureThreshold × periodSeconds).",
    source: "seed 003 §5 (startupProbe protects slow starters; initialDelaySeconds was the old workaround)",
    help: "Without a startupProbe the liveness probe starts counting failures after initialDelaySeconds; a container that needs longer to start (JVM warm-up, cache loading, migrations) is killed and restarted in a loop. Add a startupProbe with the same handler and a generous failureThreshold × periodSeconds.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let spec_path = w.spec_path();
    for c in w.running_containers() {
        let Some(live) = c.get("livenessProbe").filter(|n| n.as_map().is_some()) else {
            continue;
        };
        if c.get("startupProbe").is_some_and(|n| !n.is_null()) {
            continue;
        }
        let num = |k: &str, d: i64| live.get(k).and_then(Node::as_i64).unwrap_or(d);
        let delay = num("initialDelaySeconds", 0);
        let failures = num("failureThreshold", 3).max(1);
        let period = num("periodSeconds", 10).max(1);
        let budget = delay.saturating_add(failures.saturating_mul(period));
        if budget >= STARTUP_BUDGET_SECONDS {
            continue;
        }
        let cpath = c.path(&spec_path);
        let handler = ["httpGet", "tcpSocket", "grpc", "exec"]
            .iter()
            .find_map(|k| live.get(k).map(|h| (*k, h)))
            .map_or("<the livenessProbe handler>".to_string(), |(k, h)| {
                format!("{k}: {}", crate::engine::flow(h))
            });
        out.warn(
            &cpath.key("livenessProbe"),
            format!(
                "livenessProbe of {} kills it unless it answers within {budget}s of starting (initialDelaySeconds {delay} + failureThreshold {failures} × periodSeconds {period}) and there is no startupProbe: a start slower than {budget}s (JVM warm-up, cache load) becomes a restart loop",
                c.label()
            ),
            format!(
                "add `startupProbe: {{{handler}, periodSeconds: 5, failureThreshold: 30}}` to `{cpath}` (up to 150s to start; liveness begins only after it succeeds) and drop `initialDelaySeconds` from the livenessProbe"
            ),
        );
    }
}
