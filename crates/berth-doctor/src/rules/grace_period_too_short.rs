//! `grace-period-too-short`: terminationGracePeriodSeconds does not outlast the preStop wait.
//!
//! Seed 003 §1: the grace timer starts together with preStop and does not wait for it. The
//! kubelet runs the hook for at most the grace period, then sends SIGTERM with whatever is
//! left, but never less than 2 seconds (`minimumGracePeriodInSeconds` in
//! pkg/kubelet/kuberuntime/kuberuntime_container.go `killContainer`), then SIGKILL. A 30s
//! preStop sleep under the default 30s grace period means the application gets SIGTERM
//! and is killed 2 seconds later, with no time to finish in-flight requests.
//!
//! A native `sleep` action longer than the grace period does not even get that far: the
//! API server rejects the pod ("must be greater than 0 and less than
//! terminationGracePeriodSeconds", pkg/apis/core/validation `validateSleepAction`).
//! `sleep infinity` never ends, so every termination takes the whole grace period (an
//! error whatever the period). Durations are kept in milliseconds and saturate at
//! `i64::MAX` seconds, so `sleep: {seconds: 9223372036854775807}` is read exactly.

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

/// Longest wait tracked, in milliseconds: `i64::MAX` seconds. Longer waits saturate here.
const MAX_MS: i128 = i64::MAX as i128 * 1000;

/// How long a preStop hook waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A bounded wait in milliseconds, saturated at [`MAX_MS`].
    Millis(i128),
    /// `sleep infinity`: the hook never ends by itself.
    Unbounded,
}

impl Wait {
    fn add(self, other: Wait) -> Wait {
        match (self, other) {
            (Wait::Millis(a), Wait::Millis(b)) => Wait::Millis(a.saturating_add(b).min(MAX_MS)),
            _ => Wait::Unbounded,
        }
    }

    /// Whole seconds, rounded up (saturated at `i64::MAX`); `None` when unbounded.
    fn ceil_secs(self) -> Option<i64> {
        match self {
            Wait::Millis(ms) => {
                let s = (ms + 999) / 1000;
                Some(i64::try_from(s).unwrap_or(i64::MAX))
            }
            Wait::Unbounded => None,
        }
    }
}

/// How long a preStop hook sleeps, when that can be read from the manifest:
/// `sleep.seconds`, or an exec command that is `sleep N` or a shell script made of
/// commands and `sleep N` steps (the sleeps are summed). `sleep infinity` is
/// [`Wait::Unbounded`]. Loops and variables make the duration unknown.
pub(crate) fn prestop_wait(pre_stop: &Node) -> Option<Wait> {
    if let Some(s) = pre_stop.path(&["sleep", "seconds"]).and_then(Node::as_i64) {
        return (s >= 0).then(|| Wait::Millis(i128::from(s) * 1000));
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
        return sum(argv[1..].iter().map(|a| parse_duration(a)));
    }
    let shells = ["sh", "bash", "ash", "dash", "zsh", "busybox"];
    if shells.contains(&program) {
        let script = argv
            .iter()
            .position(|a| *a == "-c")
            .and_then(|i| argv.get(i + 1))?;
        return script_sleep(script);
    }
    None
}

/// The sum of durations; `None` if any is unreadable or there are none.
fn sum(items: impl Iterator<Item = Option<Wait>>) -> Option<Wait> {
    let mut total: Option<Wait> = None;
    for w in items {
        let w = w?;
        total = Some(total.map_or(w, |t| t.add(w)));
    }
    total
}

/// Sum of the `sleep N` steps of a shell script; `None` when it has none, loops, or a
/// sleep whose argument is not a literal duration.
fn script_sleep(script: &str) -> Option<Wait> {
    let words: Vec<&str> = script
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')'))
        .filter(|w| !w.is_empty())
        .collect();
    if words
        .iter()
        .any(|w| matches!(*w, "while" | "until" | "for" | "do"))
    {
        return None;
    }
    let mut steps = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if w.rsplit('/').next() == Some("sleep") {
            steps.push(parse_duration(words.get(i + 1)?));
        }
    }
    sum(steps.into_iter())
}

/// A GNU/busybox `sleep` argument: `15`, `1.5`, `15s`, `2m`, `1h`, `1d`, or `infinity`
/// (GNU coreutils and busybox parse it with strtod, which also takes `inf`).
fn parse_duration(arg: &str) -> Option<Wait> {
    if matches!(arg.to_ascii_lowercase().as_str(), "inf" | "infinity") {
        return Some(Wait::Unbounded);
    }
    let (num, mult) = match arg.as_bytes().last()? {
        b's' => (&arg[..arg.len() - 1], 1.0),
        b'm' => (&arg[..arg.len() - 1], 60.0),
        b'h' => (&arg[..arg.len() - 1], 3600.0),
        b'd' => (&arg[..arg.len() - 1], 86400.0),
        _ => (arg, 1.0),
    };
    if num.is_empty() || !num.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    if v.is_nan() || v < 0.0 {
        return None;
    }
    let ms = v * mult * 1000.0;
    // `as` saturates (and maps +inf to the maximum); clamp to what is tracked.
    Some(Wait::Millis((ms.round() as i128).min(MAX_MS)))
}

/// `15s`, `1.5s`.
fn secs_ms(ms: i128) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        let frac = format!("{:03}", (ms % 1000).abs());
        format!("{}.{}s", ms / 1000, frac.trim_end_matches('0'))
    }
}

/// Sleeps longer than this are better shortened than covered by the grace period.
const LONG_SLEEP_SECONDS: i64 = 3600;

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
    let grace_ms = i128::from(grace) * 1000;
    for c in w.running_containers() {
        let Some(pre_stop) = c.node.path(&["lifecycle", "preStop"]) else {
            continue;
        };
        let Some(wait) = prestop_wait(pre_stop) else {
            continue;
        };
        let native = pre_stop.path(&["sleep", "seconds"]).is_some();
        let label = c.label();
        let Wait::Millis(ms) = wait else {
            out.emit(
                Severity::Error,
                &path,
                format!(
                    "the preStop hook of {label} never ends (`sleep infinity`): the kubelet runs it for the whole {shown}, so every termination takes the full grace period and the application gets SIGTERM only 2s (the kubelet's minimum) before SIGKILL, dropping in-flight requests"
                ),
                format!(
                    "replace the unbounded sleep of {label} with a bounded wait such as `preStop: {{sleep: {{seconds: 15}}}}`, and {}",
                    if grace < 30 {
                        format!("raise `{path}` to 30 (15s wait + 15s to drain)")
                    } else {
                        format!("keep `{path}` at {grace} (it covers the 15s wait and 15s or more to drain)")
                    }
                ),
            );
            continue;
        };
        let sleep = secs_ms(ms);
        let sleep_secs = wait.ceil_secs().unwrap_or(i64::MAX);
        let left = grace_ms - ms;
        let fix = if sleep_secs > LONG_SLEEP_SECONDS {
            format!(
                "shorten the preStop sleep of {label} to about 15s (it only has to outlast endpoint removal) and keep `{path}` at least 30"
            )
        } else {
            let want = sleep_secs.saturating_add(15);
            format!(
                "set `{path}: {want}` ({sleep} preStop sleep + 15s for the application to drain after SIGTERM), or shorten the preStop sleep of {label}"
            )
        };
        if native && left < 0 {
            // validation.go validateSleepAction: seconds must not exceed the grace period.
            out.emit(
                Severity::Error,
                &path,
                format!(
                    "the preStop sleep action of {label} ({sleep}) is longer than {shown}: the API server rejects the pod (\"must be greater than 0 and less than terminationGracePeriodSeconds ({grace})\"), and a workload's pods are never created"
                ),
                fix,
            );
        } else if left <= 0 {
            out.emit(
                Severity::Error,
                &path,
                format!(
                    "{shown} is not longer than the {sleep} preStop sleep of {label}: the grace timer starts with preStop, so the application gets SIGTERM only when the period has run out and is SIGKILLed 2s later (the kubelet's minimum), dropping in-flight requests"
                ),
                fix,
            );
        } else if left < i128::from(MARGIN_SECONDS) * 1000 {
            out.emit(
                Severity::Warning,
                &path,
                format!(
                    "{shown} leaves only {} after the {sleep} preStop sleep of {label} for the application to finish in-flight requests after SIGTERM (less than {MARGIN_SECONDS}s)",
                    secs_ms(left)
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
        use Wait::*;
        let max = i64::MAX;
        let cases: &[(&str, String, Option<Wait>)] = &[
            ("the native sleep action", "{sleep: {seconds: 20}}".into(), Some(Millis(20_000))),
            ("sleep as the command", "{exec: {command: [sleep, '15']}}".into(), Some(Millis(15_000))),
            ("an absolute sleep path", "{exec: {command: [/bin/sleep, 15s]}}".into(), Some(Millis(15_000))),
            ("minutes", "{exec: {command: [sleep, 1m]}}".into(), Some(Millis(60_000))),
            ("fractions", "{exec: {command: [sleep, '1.5']}}".into(), Some(Millis(1_500))),
            ("a shell script with a sleep", "{exec: {command: [/bin/sh, -c, 'sleep 10 && nginx -s quit']}}".into(), Some(Millis(10_000))),
            ("two sleeps add up", "{exec: {command: [sh, -c, 'sleep 5; kill -TERM 1; sleep 3']}}".into(), Some(Millis(8_000))),
            // GNU coreutils and busybox sleep take `infinity` (strtod).
            ("sleep infinity never ends", "{exec: {command: [sleep, infinity]}}".into(), Some(Unbounded)),
            ("sleep inf in a script", "{exec: {command: [sh, -c, 'nginx -s quit; sleep inf']}}".into(), Some(Unbounded)),
            // i64::MAX seconds is kept exactly, not rounded through f64.
            ("the largest native sleep saturates, no overflow", format!("{{sleep: {{seconds: {max}}}}}"), Some(Millis(MAX_MS))),
            ("a huge exec sleep saturates", "{exec: {command: [sleep, '1e300']}}".into(), Some(Millis(MAX_MS))),
            ("nan is unknown", "{exec: {command: [sleep, nan]}}".into(), None),
            ("a negative native sleep is invalid", "{sleep: {seconds: -1}}".into(), None),
            ("a loop waiting for connections is unknown", "{exec: {command: [sh, -c, 'while netstat -tn | grep -q ESTABLISHED; do sleep 1; done']}}".into(), None),
            ("a variable is unknown", "{exec: {command: [sh, -c, 'sleep $DELAY']}}".into(), None),
            ("an httpGet hook is unknown", "{httpGet: {path: /drain, port: 8080}}".into(), None),
            ("a script without sleep is unknown", "{exec: {command: [sh, -c, 'nginx -s quit']}}".into(), None),
        ];
        for (name, hook, want) in cases {
            let (objs, errs) = load_objects(
                "t.yaml",
                &format!("apiVersion: v1\nkind: X\nhook: {hook}\n"),
            );
            assert!(errs.is_empty(), "{name}: {errs:?}");
            let got = objs[0].node.get("hook").and_then(prestop_wait);
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn waits_print_exactly_and_round_up() {
        assert_eq!(secs_ms(MAX_MS), "9223372036854775807s");
        assert_eq!(secs_ms(1_500), "1.5s");
        assert_eq!(Wait::Millis(1_001).ceil_secs(), Some(2));
        assert_eq!(Wait::Millis(MAX_MS).ceil_secs(), Some(i64::MAX));
        assert_eq!(Wait::Unbounded.ceil_secs(), None);
    }
}
