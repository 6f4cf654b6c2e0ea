//! `grace-period-too-short`: terminationGracePeriodSeconds does not outlast the preStop wait.
//!
//! Seed 003 §1: the grace timer starts together with preStop and does not wait for it. The
//! kubelet runs the hook for at most the grace period, then sends SIGTERM with whatever is
//! left, but never less than 2 seconds (`minimumGracePeriodInSeconds` in
//! pkg/kubelet/kuberuntime/kuberuntime_container.go `killContainer`), then SIGKILL. A 30s
//! preStop sleep under the default 30s grace period means the application gets SIGTERM
//! and is killed 2 seconds later, with no time to finish in-flight requests.

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "grace-period-too-short";

/// Below this many seconds between the end of preStop and SIGKILL, the finding is a warning.
pub const MARGIN_SECONDS: i64 = 5;

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "terminationGracePeriodSeconds (default 30) is not longer than a container's preStop sleep, or leaves less than 5s after it.",
    source: "seed 003 §1 (the grace timer starts with preStop and does not wait for it); kubelet kuberuntime_container.go killContainer, minimumGracePeriodInSeconds = 2",
    help: "The grace period covers the preStop hook and the shutdown after SIGTERM together. When the preStop sleep uses it all up, the application is SIGKILLed 2 seconds after SIGTERM. Set terminationGracePeriodSeconds to the preStop sleep plus the time the application needs to drain (15s or more), or shorten the sleep.",
};

/// How long a preStop hook sleeps, when that can be read from the manifest:
/// `sleep.seconds`, or an exec command that is `sleep N` or a shell script made of
/// commands and `sleep N` steps (the sleeps are summed). Loops and variables make the
/// duration unknown.
pub(crate) fn prestop_seconds(pre_stop: &Node) -> Option<f64> {
    if let Some(s) = pre_stop.path(&["sleep", "seconds"]).and_then(Node::as_i64) {
        return Some(s as f64);
    }
    let argv: Vec<&str> = pre_stop
        .path(&["exec", "command"])?
        .as_seq()
        .iter()
        .map(Node::as_str)
        .collect::<Option<_>>()?;
    let first = argv.first()?;
    let program = first.rsplit('/').next().unwrap_or(first);
    if program == "sleep" {
        return argv[1..].iter().map(|a| parse_duration(a)).sum();
    }
    let shells = ["sh", "bash", "ash", "dash", "zsh", "busybox"];
    if shells.contains(&program) {
        let script = argv.iter().position(|a| *a == "-c").and_then(|i| argv.get(i + 1))?;
        return script_sleep(script);
    }
    None
}

/// Sum of the `sleep N` steps of a shell script; `None` when it has none, loops, or a
/// sleep whose argument is not a literal duration.
fn script_sleep(script: &str) -> Option<f64> {
    let words: Vec<&str> = script
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| matches!(*w, "while" | "until" | "for" | "do")) {
        return None;
    }
    let mut total = None;
    for (i, w) in words.iter().enumerate() {
        if w.rsplit('/').next() == Some("sleep") {
            let d = parse_duration(words.get(i + 1)?)?;
            total = Some(total.unwrap_or(0.0) + d);
        }
    }
    total
}

/// A GNU/busybox `sleep` argument: `15`, `1.5`, `15s`, `2m`, `1h`.
fn parse_duration(arg: &str) -> Option<f64> {
    let (num, mult) = match arg.as_bytes().last()? {
        b's' => (&arg[..arg.len() - 1], 1.0),
        b'm' => (&arg[..arg.len() - 1], 60.0),
        b'h' => (&arg[..arg.len() - 1], 3600.0),
        b'd' => (&arg[..arg.len() - 1], 86400.0),
        _ => (arg, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * mult)
}

fn secs(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}s")
    } else {
        format!("{v}s")
    }
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let (grace, written) = w.grace_period();
    let spec_path = w.spec_path();
    let path = spec_path.key("terminationGracePeriodSeconds");
    let shown = if written {
        format!("terminationGracePeriodSeconds {grace}")
    } else {
        format!("terminationGracePeriodSeconds {grace} (the default)")
    };
    for c in w.running_containers() {
        let Some(pre_stop) = c.node.path(&["lifecycle", "preStop"]) else { continue };
        let Some(sleep) = prestop_seconds(pre_stop) else { continue };
        let left = grace as f64 - sleep;
        let want = (sleep.ceil() as i64).saturating_add(15);
        let fix = format!(
            "set `{path}: {want}` ({} preStop sleep + 15s for the application to drain after SIGTERM), or shorten the preStop sleep of {}",
            secs(sleep),
            c.label()
        );
        if left <= 0.0 {
            out.emit(
                Severity::Error,
                &path,
                format!(
                    "{shown} is not longer than the {} preStop sleep of {}: the grace timer starts with preStop, so the application gets SIGTERM only when the period has run out and is SIGKILLed 2s later (the kubelet's minimum), dropping in-flight requests",
                    secs(sleep),
                    c.label()
                ),
                fix,
            );
        } else if left < MARGIN_SECONDS as f64 {
            out.emit(
                Severity::Warning,
                &path,
                format!(
                    "{shown} leaves only {} after the {} preStop sleep of {} for the application to finish in-flight requests after SIGTERM (less than {MARGIN_SECONDS}s)",
                    secs(left),
                    secs(sleep),
                    c.label()
                ),
                fix,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_manifest::load_objects;

    #[test]
    fn prestop_durations_are_read_from_every_common_form() {
        let cases: &[(&str, &str, Option<f64>)] = &[
            ("the native sleep action", "{sleep: {seconds: 20}}", Some(20.0)),
            ("sleep as the command", "{exec: {command: [sleep, '15']}}", Some(15.0)),
            ("an absolute sleep path", "{exec: {command: [/bin/sleep, 15s]}}", Some(15.0)),
            ("minutes", "{exec: {command: [sleep, 1m]}}", Some(60.0)),
            ("a shell script with a sleep", "{exec: {command: [/bin/sh, -c, 'sleep 10 && nginx -s quit']}}", Some(10.0)),
            ("two sleeps add up", "{exec: {command: [sh, -c, 'sleep 5; kill -TERM 1; sleep 3']}}", Some(8.0)),
            ("a loop waiting for connections is unknown", "{exec: {command: [sh, -c, 'while netstat -tn | grep -q ESTABLISHED; do sleep 1; done']}}", None),
            ("a variable is unknown", "{exec: {command: [sh, -c, 'sleep $DELAY']}}", None),
            ("an httpGet hook is unknown", "{httpGet: {path: /drain, port: 8080}}", None),
            ("a script without sleep is unknown", "{exec: {command: [sh, -c, 'nginx -s quit']}}", None),
        ];
        for (name, hook, want) in cases {
            let (objs, errs) = load_objects("t.yaml", &format!("apiVersion: v1\nkind: X\nhook: {hook}\n"));
            assert!(errs.is_empty(), "{name}: {errs:?}");
            let got = objs[0].node.get("hook").and_then(prestop_seconds);
            assert_eq!(got, *want, "{name}");
        }
    }
}
