//! berth's release engine: grouped, surge-first releases with gates between groups, pause,
//! and instant rollback, as a pure state machine.
//!
//! [`decide`] takes a [`View`] of the apps being released (each app's old and new
//! Deployment: replicas asked for, pods ready, pods left), the [`Plan`], the [`Status`] the
//! last decision left, and `now`; it returns a [`Decision`]: absolute replica counts to set,
//! the next status, a human-readable reason and when to look again. Every count is derived
//! from the status alone, so a controller that restarts at any point and decides again
//! issues the same counts: nothing moves twice.
//!
//! The rules:
//! - group `k` of `n` moves `ceil(total·k/n)` replicas to the new version, surge-first: the
//!   new Deployment grows by the group's share, and only once those pods are ready does the
//!   old one shrink by the same share, so the extra capacity a release needs is one group's
//!   share, never a second copy of the app;
//! - the old version never shrinks below what keeps the app's ready pods at its disruption
//!   budget's floor;
//! - group `k+1` never starts before group `k` is fully moved and the gate between them has
//!   passed (an interval since the group was ready, a manual approval, or a metric check
//!   the shell evaluates);
//! - several apps released together move in lockstep: a group is done when it is done for
//!   every app, and one gate holds them all;
//! - rollback, at any point, brings the old version back to full strength at once, then
//!   takes the new one to zero; pause freezes everything until resumed;
//! - a group that does not get ready within the progress deadline stops the release and
//!   says which app waits for what.
//!
//! Must not: talk to a cluster, read a clock, keep state anywhere but [`Status`].

use std::fmt::Write as _;

/// Virtual or real time in milliseconds.
pub type Millis = u64;

/// What must happen between two groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// At least this long after the previous group was ready.
    Interval(Millis),
    /// An approval recorded for this boundary.
    Manual,
    /// A named metric check, evaluated by the shell (PromQL against Prometheus).
    Metric(String),
}

/// How a release moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Number of groups (at least 1).
    pub groups: u32,
    /// The gate after each group but the last (`groups − 1` entries; missing ones pass).
    pub gates: Vec<Gate>,
    /// A group not ready this long after it started stops the release.
    pub progress_deadline: Millis,
}

/// One version's Deployment as the shell sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionView {
    /// Deployment name.
    pub deployment: String,
    /// `spec.replicas`.
    pub replicas: i32,
    /// Pods ready and not terminating.
    pub ready: i32,
    /// Pods that exist, terminating ones included.
    pub pods: i32,
}

/// One app being released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppView {
    /// App name.
    pub name: String,
    /// The version being replaced.
    pub old: VersionView,
    /// The version being released (the shell creates its Deployment at zero first).
    pub new: VersionView,
    /// Ready pods the app must keep (its disruption budget's floor).
    pub floor: i32,
}

/// What a user asked for on the Release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Nothing.
    None,
    /// Freeze.
    Pause,
    /// Go on after a pause.
    Resume,
    /// Back to the old version, now.
    Rollback,
}

/// Everything a decision looks at besides the status.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// The apps, in a fixed order.
    pub apps: Vec<AppView>,
    /// Boundaries approved (1 = between groups 1 and 2).
    pub approvals: Vec<u32>,
    /// Metric gate results by boundary.
    pub metrics: Vec<(u32, bool)>,
    /// The user's request.
    pub request: Request,
}

/// Where a release is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Moving a group.
    Progressing,
    /// A group is done; waiting for the gate.
    WaitingForGate,
    /// Frozen by the user.
    Paused,
    /// Every group moved: the new version owns the app.
    Succeeded,
    /// Going back to the old version.
    RollingBack,
    /// Back on the old version.
    RolledBack,
    /// Stopped: a group did not get ready in time, or a metric gate failed.
    Stalled,
}

impl Phase {
    /// Whether nothing more will happen.
    pub fn finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::RolledBack)
    }
}

/// Where within a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The new version grows by the group's share; waiting for those pods to be ready.
    Surge,
    /// The old version shrinks by the same share; waiting for its pods to go.
    Shrink,
}

/// What happened to one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupRecord {
    /// When it started.
    pub started: Option<Millis>,
    /// When it was fully moved.
    pub ready: Option<Millis>,
    /// When the gate after it passed.
    pub gate_passed: Option<Millis>,
}

/// The whole state of a release (what the Release object's status holds).
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// Phase.
    pub phase: Phase,
    /// The current group, from 1.
    pub group: u32,
    /// Stage within it.
    pub stage: Stage,
    /// Replicas to move per app, fixed when the release started.
    pub totals: Vec<i32>,
    /// One record per group.
    pub groups: Vec<GroupRecord>,
    /// The phase a pause interrupted.
    pub paused_from: Option<Phase>,
    /// When the current stage (or the wait) began.
    pub since: Millis,
    /// Every decision that changed something, with its reason.
    pub history: Vec<(Millis, String)>,
}

impl Status {
    /// The status of a release starting now: the totals are the old versions' replicas.
    pub fn start(view: &View, plan: &Plan, now: Millis) -> Status {
        let mut groups = vec![GroupRecord::default(); plan.groups.max(1) as usize];
        groups[0].started = Some(now);
        Status {
            phase: Phase::Progressing,
            group: 1,
            stage: Stage::Surge,
            totals: view
                .apps
                .iter()
                .map(|a| a.old.replicas + a.new.replicas)
                .collect(),
            groups,
            paused_from: None,
            since: now,
            history: vec![(now, format!("release started: {} groups", plan.groups))],
        }
    }
}

/// A write the shell makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Set a Deployment's `spec.replicas`.
    Scale {
        /// Index of the app in the view.
        app: usize,
        /// Deployment name.
        deployment: String,
        /// Absolute replica count.
        replicas: i32,
    },
}

/// What to do now.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Writes, in order.
    pub commands: Vec<Command>,
    /// The next status.
    pub status: Status,
    /// Why, in a sentence (for Events and the CLI).
    pub reason: String,
    /// Look again after this long at the latest.
    pub requeue_after: Option<Millis>,
}

/// Replicas on the new version once group `k` of `n` has moved: `ceil(total·k/n)`.
pub fn moved(total: i32, k: u32, n: u32) -> i32 {
    if n == 0 {
        return total;
    }
    let (t, k, n) = (i64::from(total), i64::from(k.min(n)), i64::from(n));
    ((t * k + n - 1) / n) as i32
}

/// The replicas each version should have in this status: (old, new) per app.
pub fn targets(status: &Status, plan: &Plan) -> Vec<(i32, i32)> {
    let n = plan.groups.max(1);
    status
        .totals
        .iter()
        .map(|&total| {
            let now_moved = moved(total, status.group, n);
            let before = moved(total, status.group.saturating_sub(1), n);
            match status.phase {
                Phase::Succeeded => (0, total),
                Phase::RollingBack | Phase::RolledBack => (total, 0),
                _ => match status.stage {
                    Stage::Surge => (total - before, now_moved),
                    Stage::Shrink => (total - now_moved, now_moved),
                },
            }
        })
        .collect()
}

/// Percent of each app's routed traffic (in `status.totals` order) the new version gets in
/// this status, for canary routing. A group's traffic moves once its new pods are ready
/// (stage `Shrink`, or waiting at the gate after it) and before any old pod goes, so it
/// never exceeds the new version's share of the pods it asked for: the share rounds down,
/// and `first` (a smaller canary slice for group 1) is capped at group 1's share. Success
/// takes it to 100. A rollback takes traffic off the new version as fast as the old one's
/// ready pods can carry it (`view`: the old version's ready count), never faster, so that
/// the old pods left are not flooded while the others start; rolled back, it is 0.
pub fn canary_weights(view: &View, status: &Status, plan: &Plan, first: Option<u32>) -> Vec<u32> {
    let n = plan.groups.max(1);
    status
        .totals
        .iter()
        .enumerate()
        .map(|(i, &total)| {
            let done = match status.phase {
                Phase::Succeeded => return 100,
                Phase::RolledBack => return 0,
                _ => match status.stage {
                    Stage::Surge => status.group.saturating_sub(1),
                    Stage::Shrink => status.group,
                },
            };
            let share = if done == 0 {
                0
            } else if done >= n {
                100
            } else if total > 0 {
                (100 * i64::from(moved(total, done, n)) / i64::from(total)) as u32
            } else {
                100 * done / n
            };
            let weight = match first {
                Some(f) if done == 1 && done < n => f.min(share),
                _ => share,
            };
            if status.phase != Phase::RollingBack {
                return weight;
            }
            let old_ready = view.apps.get(i).map_or(0, |a| a.old.ready);
            let uncovered = (i64::from(total) - i64::from(old_ready)).max(0);
            // Rounded up: the old version never gets more than its ready share.
            let left = if total > 0 {
                ((100 * uncovered + i64::from(total) - 1) / i64::from(total)) as u32
            } else {
                0
            };
            weight.min(left)
        })
        .collect()
}

/// Each version's autoscaler bounds for this phase: `((new_min, new_max), (old_min,
/// old_max))`. While a release runs each autoscaler is pinned to the count the engine gives
/// its version (min = max), so it cannot undo a group; during a rollback the new version
/// keeps what it has until the old one is back; at the end the winner gets the app's own
/// bounds and the loser, at zero replicas, stays disabled.
pub fn autoscaler_bounds(
    phase: Phase,
    (old_target, new_target): (i32, i32),
    new_replicas: i32,
    app_bounds: (i32, i32),
) -> ((i32, i32), (i32, i32)) {
    let pin = |n: i32| (n.max(1), n.max(1));
    match phase {
        Phase::Succeeded => (app_bounds, (1, 1)),
        Phase::RolledBack => ((1, 1), app_bounds),
        Phase::RollingBack => (pin(new_replicas), pin(old_target)),
        _ => (pin(new_target), pin(old_target)),
    }
}

/// How often to look while waiting on pods (the shell also wakes on changes).
const POLL: Millis = 5_000;

/// One decision.
pub fn decide(view: &View, plan: &Plan, status: &Status, now: Millis) -> Decision {
    let mut st = status.clone();
    // A status read back from an object someone edited, or a plan changed under a running
    // release, must stop the release with a reason, never panic or move replicas blindly.
    let n = plan.groups.max(1);
    let consistent = st.group >= 1
        && st.group <= n
        && st.groups.len() == n as usize
        && st.totals.len() == view.apps.len()
        // No gate follows the last group.
        && !(st.group == n
            && (st.phase == Phase::WaitingForGate
                || st.paused_from == Some(Phase::WaitingForGate)));
    if !consistent && !st.phase.finished() && st.phase != Phase::Stalled {
        st.phase = Phase::Stalled;
        let why = format!(
            "the release's status does not fit its plan (group {} of {} groups recorded, plan has {n}; {} totals for {} apps); it stops here",
            st.group,
            st.groups.len(),
            st.totals.len(),
            view.apps.len()
        );
        note(&mut st, now, &why);
        return Decision {
            commands: Vec::new(),
            status: st,
            reason: why,
            requeue_after: None,
        };
    }
    let reason;
    // Requests first: rollback wins over everything, pause freezes.
    match view.request {
        Request::Rollback if !matches!(st.phase, Phase::RollingBack | Phase::RolledBack) => {
            st.phase = Phase::RollingBack;
            st.paused_from = None;
            st.since = now;
            note(
                &mut st,
                now,
                "rollback requested: the old version goes back to full strength now",
            );
        }
        Request::Pause if !st.phase.finished() && st.phase != Phase::Paused => {
            st.paused_from = Some(st.phase);
            st.phase = Phase::Paused;
            note(&mut st, now, "paused");
        }
        Request::Resume if st.phase == Phase::Paused => {
            match st.paused_from.take() {
                // Paused after a stall (to fix its cause): the group gets a new deadline, and a
                // done group meets its gate again.
                Some(Phase::Stalled) => {
                    st.phase = Phase::Progressing;
                    st.since = now;
                    st.groups[(st.group - 1) as usize].started = Some(now);
                    note(
                        &mut st,
                        now,
                        "resumed after the stall: the group gets a new deadline",
                    );
                }
                from => {
                    st.phase = from.unwrap_or(Phase::Progressing);
                    note(&mut st, now, "resumed");
                }
            }
        }
        _ => {}
    }
    let mut requeue = Some(POLL);
    match st.phase {
        Phase::Paused => {
            reason = format!("paused in group {} of {}", st.group, plan.groups);
            requeue = None;
        }
        Phase::Succeeded => {
            reason = "release complete: the new version owns the app".into();
            requeue = None;
        }
        Phase::RolledBack => {
            reason = "rolled back: the old version serves the app".into();
            requeue = None;
        }
        Phase::Stalled => {
            reason = st
                .history
                .last()
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| "stalled".into());
            requeue = None;
        }
        Phase::RollingBack => {
            let behind = view
                .apps
                .iter()
                .zip(&st.totals)
                .find(|(a, t)| a.old.ready < **t);
            match behind {
                None => {
                    st.phase = Phase::RolledBack;
                    reason = "rolled back: the old version is at full strength; the new one goes to zero".into();
                    note(&mut st, now, &reason);
                    requeue = None;
                }
                Some((a, t)) => {
                    reason = format!(
                        "rolling back: {} has {} of {t} old pods ready",
                        a.name, a.old.ready
                    );
                }
            }
        }
        Phase::WaitingForGate => {
            let boundary = st.group;
            match gate_verdict(view, plan, &st, boundary, now) {
                Ok(()) => {
                    st.groups[(boundary - 1) as usize].gate_passed = Some(now);
                    st.group += 1;
                    st.stage = Stage::Surge;
                    st.phase = Phase::Progressing;
                    st.since = now;
                    st.groups[(st.group - 1) as usize].started = Some(now);
                    reason = format!(
                        "gate after group {boundary} passed; group {} of {} starts",
                        st.group, plan.groups
                    );
                    note(&mut st, now, &reason);
                }
                Err((why, wait, stall)) => {
                    reason = why;
                    requeue = wait;
                    if stall {
                        st.phase = Phase::Stalled;
                        note(&mut st, now, &reason);
                    }
                }
            }
        }
        Phase::Progressing => {
            reason = progress(view, plan, &mut st, now, &mut requeue);
        }
    }
    // Every decision states the counts its status implies; the shell sets only those
    // that differ, so deciding twice never moves a replica twice.
    let want = targets(&st, plan);
    let mut commands = Vec::new();
    for (i, (a, (old, new))) in view.apps.iter().zip(want).enumerate() {
        // The new version scales up before the old one scales down.
        if a.new.replicas != new {
            commands.push(Command::Scale {
                app: i,
                deployment: a.new.deployment.clone(),
                replicas: new,
            });
        }
        if a.old.replicas != old {
            commands.push(Command::Scale {
                app: i,
                deployment: a.old.deployment.clone(),
                replicas: old,
            });
        }
    }
    // A rollback puts the old version back before the new one leaves.
    if st.phase == Phase::RollingBack {
        commands.retain(|c| match c {
            Command::Scale {
                app, deployment, ..
            } => *deployment != view.apps[*app].new.deployment,
        });
    }
    Decision {
        commands,
        status: st,
        reason,
        requeue_after: requeue,
    }
}

fn note(st: &mut Status, now: Millis, what: &str) {
    st.history.push((now, what.to_string()));
}

/// A group's surge and shrink.
fn progress(
    view: &View,
    plan: &Plan,
    st: &mut Status,
    now: Millis,
    requeue: &mut Option<Millis>,
) -> String {
    let n = plan.groups.max(1);
    let k = st.group;
    match st.stage {
        Stage::Surge => {
            let mut short = None;
            for (a, &total) in view.apps.iter().zip(&st.totals) {
                let need = moved(total, k, n);
                if a.new.replicas < need || a.new.ready < need {
                    short = Some((a, need));
                    break;
                }
            }
            if let Some((a, need)) = short {
                let started = st.groups[(k - 1) as usize].started.unwrap_or(st.since);
                if now.saturating_sub(started) > plan.progress_deadline {
                    st.phase = Phase::Stalled;
                    let why = format!(
                        "stalled in group {k}: {} has {} of {need} new pods ready after {}; the release stops here (roll back; or pause, fix and resume)",
                        a.name,
                        a.new.ready,
                        fmt_ms(now - started)
                    );
                    note(st, now, &why);
                    *requeue = None;
                    return why;
                }
                return format!(
                    "group {k} of {n}: {} surges to {need} new pods ({} ready)",
                    a.name, a.new.ready
                );
            }
            // Every app has its new pods ready: shrink the old versions, unless that would
            // take an app below its budget's floor.
            for (a, &total) in view.apps.iter().zip(&st.totals) {
                let share = moved(total, k, n) - moved(total, k - 1, n);
                let after = a.old.ready.min(total - moved(total, k - 1, n)) - share + a.new.ready;
                if after < a.floor {
                    return format!(
                        "holding group {k}: taking {share} old pods from {} would leave {after} ready, below its floor of {}",
                        a.name, a.floor
                    );
                }
            }
            st.stage = Stage::Shrink;
            st.since = now;
            let why = format!(
                "group {k} of {n}: new pods ready; the old version shrinks by the same share"
            );
            note(st, now, &why);
            why
        }
        Stage::Shrink => {
            for (a, &total) in view.apps.iter().zip(&st.totals) {
                let keep = total - moved(total, k, n);
                if a.old.pods > keep {
                    let started = st.groups[(k - 1) as usize].started.unwrap_or(st.since);
                    if now.saturating_sub(started) > plan.progress_deadline {
                        st.phase = Phase::Stalled;
                        let why = format!(
                            "stalled in group {k}: {} old pods of {} still terminating after {} (stuck on an unreachable node?); the release stops here",
                            a.old.pods - keep,
                            a.name,
                            fmt_ms(now - started)
                        );
                        note(st, now, &why);
                        *requeue = None;
                        return why;
                    }
                    return format!(
                        "group {k} of {n}: waiting for {} old pods of {} to stop ({} left, {keep} kept)",
                        a.old.pods - keep,
                        a.name,
                        a.old.pods
                    );
                }
            }
            st.groups[(k - 1) as usize].ready = Some(now);
            st.since = now;
            if k >= n {
                st.phase = Phase::Succeeded;
                let why = format!("group {k} of {n} done: release complete");
                note(st, now, &why);
                *requeue = None;
                return why;
            }
            st.phase = Phase::WaitingForGate;
            let why = format!("group {k} of {n} done; waiting for the gate");
            note(st, now, &why);
            why
        }
    }
}

/// Whether the gate after group `boundary` lets the next one start: `Err` holds why not,
/// when to look again, and whether the release must stop.
fn gate_verdict(
    view: &View,
    plan: &Plan,
    st: &Status,
    boundary: u32,
    now: Millis,
) -> Result<(), (String, Option<Millis>, bool)> {
    let ready = st.groups[(boundary - 1) as usize].ready.unwrap_or(st.since);
    match plan.gates.get((boundary - 1) as usize) {
        None => Ok(()),
        Some(Gate::Interval(d)) => {
            let open = ready + d;
            if now >= open {
                Ok(())
            } else {
                Err((
                    format!(
                        "gate after group {boundary}: {} left of the {} interval",
                        fmt_ms(open - now),
                        fmt_ms(*d)
                    ),
                    Some(open - now),
                    false,
                ))
            }
        }
        Some(Gate::Manual) => {
            if view.approvals.contains(&boundary) {
                Ok(())
            } else {
                Err((
                    format!(
                        "gate after group {boundary}: waiting for an approval (`berth release approve`)"
                    ),
                    None,
                    false,
                ))
            }
        }
        Some(Gate::Metric(name)) => match view.metrics.iter().find(|(b, _)| *b == boundary) {
            Some((_, true)) => Ok(()),
            Some((_, false)) => Err((
                format!(
                    "gate after group {boundary}: metric check `{name}` failed; the release stops here"
                ),
                None,
                true,
            )),
            None => Err((
                format!("gate after group {boundary}: waiting for metric check `{name}`"),
                Some(POLL),
                false,
            )),
        },
    }
}

/// A duration as people write it (`1h30m`, `2m5s`, `40s`).
pub fn fmt_ms(ms: Millis) -> String {
    let s = ms / 1000;
    let mut out = String::new();
    if s >= 3600 {
        let _ = write!(out, "{}h", s / 3600);
    }
    if s % 3600 >= 60 {
        let _ = write!(out, "{}m", s % 3600 / 60);
    }
    if !s.is_multiple_of(60) || s == 0 {
        let _ = write!(out, "{}s", s % 60);
    }
    out
}

/// Whether a new release of these apps may start: refused while another release of any of
/// them is not finished.
pub fn admit(apps: &[&str], running: &[(String, Vec<String>)]) -> Result<(), String> {
    for (release, theirs) in running {
        if let Some(app) = apps.iter().find(|a| theirs.iter().any(|t| t == *a)) {
            return Err(format!(
                "{app} is already being released by {release}; wait for it to finish, or roll it back"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
