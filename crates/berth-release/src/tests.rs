//! One test per rule of the release engine, against a tiny deterministic world in which
//! scaled pods become ready (or not) one step later.

use proptest::prelude::*;

use super::*;

/// A cluster as small as the rules need: per app, two Deployments whose pods appear and get
/// ready one step after they are asked for (except those told never to be ready).
#[derive(Debug, Clone)]
struct World {
    apps: Vec<(VersionView, VersionView, i32)>,
    never_ready_new: bool,
}

impl World {
    fn new(totals: &[i32]) -> World {
        World {
            apps: totals
                .iter()
                .enumerate()
                .map(|(i, &t)| {
                    (
                        VersionView {
                            deployment: format!("app{i}-v1"),
                            replicas: t,
                            ready: t,
                            pods: t,
                        },
                        VersionView {
                            deployment: format!("app{i}-v2"),
                            replicas: 0,
                            ready: 0,
                            pods: 0,
                        },
                        t - (t / 4).max(1),
                    )
                })
                .collect(),
            never_ready_new: false,
        }
    }

    fn view(&self, request: Request, approvals: &[u32]) -> View {
        View {
            apps: self
                .apps
                .iter()
                .enumerate()
                .map(|(i, (o, n, floor))| AppView {
                    name: format!("app{i}"),
                    old: o.clone(),
                    new: n.clone(),
                    floor: *floor,
                })
                .collect(),
            approvals: approvals.to_vec(),
            metrics: Vec::new(),
            request,
        }
    }

    fn apply(&mut self, commands: &[Command]) {
        for Command::Scale {
            app,
            deployment,
            replicas,
        } in commands
        {
            let (o, n, _) = &mut self.apps[*app];
            let v = if o.deployment == *deployment { o } else { n };
            v.replicas = *replicas;
            // Scaling down takes ready pods away at once (they start terminating).
            v.ready = v.ready.min(*replicas);
        }
    }

    /// One step of time: pods converge on what was asked.
    fn step(&mut self) {
        for (o, n, _) in &mut self.apps {
            o.pods = o.replicas;
            o.ready = o.replicas;
            n.pods = n.replicas;
            n.ready = if self.never_ready_new { 0 } else { n.replicas };
        }
    }
}

fn plan(groups: u32, gate: Option<Gate>) -> Plan {
    Plan {
        groups,
        gates: gate.map_or(Vec::new(), |g| vec![g; groups as usize - 1]),
        progress_deadline: 600_000,
    }
}

/// Runs decide/apply/step until the release finishes or `limit` steps pass, 1 s a step;
/// calls `check` after every decision.
fn drive(
    world: &mut World,
    plan: &Plan,
    mut check: impl FnMut(&World, &Decision, Millis),
    limit: u64,
) -> Status {
    let mut now = 0;
    let mut status = Status::start(&world.view(Request::None, &[]), plan, now);
    for _ in 0..limit {
        let d = decide(&world.view(Request::None, &[]), plan, &status, now);
        world.apply(&d.commands);
        check(world, &d, now);
        status = d.status;
        if status.phase.finished() || status.phase == Phase::Stalled {
            break;
        }
        world.step();
        now += 1_000;
    }
    status
}

#[test]
fn durations_read_as_people_write_them() {
    let shown: Vec<String> = [0, 40_000, 552_000, 600_000, 5_400_000, 86_400_000]
        .into_iter()
        .map(fmt_ms)
        .collect();
    assert_eq!(shown, ["0s", "40s", "9m12s", "10m", "1h30m", "24h"]);
}

#[test]
fn groups_move_ceil_of_their_share() {
    let forty: Vec<i32> = (1..=4).map(|k| moved(40, k, 4)).collect();
    assert_eq!(forty, [10, 20, 30, 40]);
    let five: Vec<i32> = (1..=4).map(|k| moved(5, k, 4)).collect();
    assert_eq!(five, [2, 3, 4, 5]);
    assert_eq!(moved(7, 0, 3), 0);
}

#[test]
fn a_release_moves_every_replica_and_succeeds() {
    let mut w = World::new(&[40]);
    let st = drive(&mut w, &plan(4, None), |_, _, _| {}, 100);
    assert_eq!(st.phase, Phase::Succeeded);
    assert_eq!(w.apps[0].0.replicas, 0);
    assert_eq!(w.apps[0].1.replicas, 40);
    assert!(st.groups.iter().all(|g| g.ready.is_some()));
}

#[test]
fn the_new_version_grows_before_the_old_one_shrinks() {
    let mut w = World::new(&[40]);
    let mut seen_old_shrink_before_new_ready = false;
    drive(
        &mut w,
        &plan(4, None),
        |w, d, _| {
            for c in &d.commands {
                let Command::Scale {
                    deployment,
                    replicas,
                    ..
                } = c;
                if deployment.ends_with("v1") && w.apps[0].1.ready < 40 - replicas {
                    seen_old_shrink_before_new_ready = true;
                }
            }
        },
        100,
    );
    assert!(!seen_old_shrink_before_new_ready);
}

#[test]
fn extra_capacity_is_one_groups_share_at_most() {
    let mut w = World::new(&[40]);
    let mut most = 0;
    drive(
        &mut w,
        &plan(4, None),
        |w, _, _| most = most.max(w.apps[0].0.replicas + w.apps[0].1.replicas),
        100,
    );
    assert_eq!(most, 50, "40 replicas plus one group of 10");
}

#[test]
fn group_never_starts_before_gate_passes() {
    let mut w = World::new(&[40]);
    let st = drive(
        &mut w,
        &plan(4, Some(Gate::Interval(60_000))),
        |_, _, _| {},
        1_000,
    );
    assert_eq!(st.phase, Phase::Succeeded);
    for pair in st.groups.windows(2) {
        let ready = pair[0].ready.expect("ready");
        let next = pair[1].started.expect("started");
        assert!(next >= ready + 60_000, "{pair:?}");
    }
}

#[test]
fn a_manual_gate_waits_for_its_approval() {
    let mut w = World::new(&[8]);
    let p = plan(2, Some(Gate::Manual));
    let mut st = Status::start(&w.view(Request::None, &[]), &p, 0);
    let mut now = 0;
    for _ in 0..20 {
        let d = decide(&w.view(Request::None, &[]), &p, &st, now);
        w.apply(&d.commands);
        st = d.status;
        w.step();
        now += 1_000;
    }
    assert_eq!(st.phase, Phase::WaitingForGate);
    assert_eq!(st.group, 1);
    let d = decide(&w.view(Request::None, &[1]), &p, &st, now);
    assert_eq!(d.status.group, 2);
    assert!(d.reason.contains("passed"), "{}", d.reason);
}

#[test]
fn a_failed_metric_gate_stops_the_release() {
    let mut w = World::new(&[8]);
    let p = plan(2, Some(Gate::Metric("error-rate".into())));
    let mut st = Status::start(&w.view(Request::None, &[]), &p, 0);
    for t in 0..10 {
        let d = decide(&w.view(Request::None, &[]), &p, &st, t * 1_000);
        w.apply(&d.commands);
        st = d.status;
        w.step();
    }
    assert_eq!(st.phase, Phase::WaitingForGate);
    let mut v = w.view(Request::None, &[]);
    v.metrics.push((1, false));
    let d = decide(&v, &p, &st, 20_000);
    assert_eq!(d.status.phase, Phase::Stalled);
    assert!(d.reason.contains("error-rate"), "{}", d.reason);
}

#[test]
fn a_group_whose_pods_never_get_ready_stalls_and_says_why() {
    let mut w = World::new(&[10]);
    w.never_ready_new = true;
    let mut p = plan(2, None);
    p.progress_deadline = 30_000;
    let st = drive(&mut w, &p, |_, _, _| {}, 100);
    assert_eq!(st.phase, Phase::Stalled);
    let (_, why) = st.history.last().expect("history");
    assert!(why.contains("app0 has 0 of 5 new pods ready"), "{why}");
    // The old version was never touched.
    assert_eq!(w.apps[0].0.replicas, 10);
}

#[test]
fn a_stalled_release_paused_fixed_and_resumed_gets_a_new_deadline_and_goes_on() {
    let mut w = World::new(&[10]);
    w.never_ready_new = true;
    let mut p = plan(2, None);
    p.progress_deadline = 30_000;
    let st = drive(&mut w, &p, |_, _, _| {}, 100);
    assert_eq!(st.phase, Phase::Stalled);
    let now = 100_000;
    let paused = decide(&w.view(Request::Pause, &[]), &p, &st, now).status;
    assert_eq!(paused.phase, Phase::Paused);
    // The cause is fixed (pods can get ready again), then the release is resumed.
    w.never_ready_new = false;
    let resumed = decide(&w.view(Request::Resume, &[]), &p, &paused, now + 1_000).status;
    assert_eq!(resumed.phase, Phase::Progressing);
    assert_eq!(resumed.groups[0].started, Some(now + 1_000));
    w.step();
    let mut st = resumed;
    let mut t = now + 2_000;
    for _ in 0..20 {
        let d = decide(&w.view(Request::None, &[]), &p, &st, t);
        w.apply(&d.commands);
        st = d.status;
        w.step();
        t += 1_000;
    }
    assert_eq!(st.phase, Phase::Succeeded);
}

#[test]
fn rollback_restores_the_old_version_at_once_then_removes_the_new() {
    let mut w = World::new(&[40]);
    let p = plan(4, Some(Gate::Interval(60_000)));
    let mut st = Status::start(&w.view(Request::None, &[]), &p, 0);
    let mut now = 0;
    while st.group < 3 {
        let d = decide(&w.view(Request::None, &[]), &p, &st, now);
        w.apply(&d.commands);
        st = d.status;
        w.step();
        now += 1_000;
    }
    // Mid group 3: rollback.
    let d = decide(&w.view(Request::Rollback, &[]), &p, &st, now);
    assert_eq!(d.status.phase, Phase::RollingBack);
    assert_eq!(
        d.commands,
        vec![Command::Scale {
            app: 0,
            deployment: "app0-v1".into(),
            replicas: 40
        }],
        "the old version goes back to full strength in one step; the new one stays for now"
    );
    w.apply(&d.commands);
    st = d.status;
    w.step();
    let d = decide(&w.view(Request::Rollback, &[]), &p, &st, now + 1_000);
    assert_eq!(d.status.phase, Phase::RolledBack);
    assert_eq!(
        d.commands,
        vec![Command::Scale {
            app: 0,
            deployment: "app0-v2".into(),
            replicas: 0
        }]
    );
}

#[test]
fn pause_freezes_and_resume_goes_on() {
    let mut w = World::new(&[8]);
    let p = plan(4, None);
    let st = Status::start(&w.view(Request::None, &[]), &p, 0);
    let d = decide(&w.view(Request::Pause, &[]), &p, &st, 0);
    assert_eq!(d.status.phase, Phase::Paused);
    // Paused: the counts stay where the status puts them; nothing advances.
    let mut st = d.status;
    for t in 1..5 {
        w.step();
        let d = decide(&w.view(Request::None, &[]), &p, &st, t * 1_000);
        w.apply(&d.commands);
        st = d.status;
        assert_eq!(st.phase, Phase::Paused);
        assert_eq!(st.group, 1);
    }
    let d = decide(&w.view(Request::Resume, &[]), &p, &st, 10_000);
    assert_eq!(d.status.phase, Phase::Progressing);
}

#[test]
fn deciding_twice_moves_nothing_twice() {
    // A controller that restarts decides again from the status it saved: the same
    // absolute counts, and none at all once they are applied.
    let mut w = World::new(&[40]);
    let p = plan(4, None);
    let st = Status::start(&w.view(Request::None, &[]), &p, 0);
    let a = decide(&w.view(Request::None, &[]), &p, &st, 0);
    let b = decide(&w.view(Request::None, &[]), &p, &st, 0);
    assert_eq!(a.commands, b.commands);
    w.apply(&a.commands);
    let again = decide(&w.view(Request::None, &[]), &p, &st, 0);
    assert!(again.commands.is_empty(), "{:?}", again.commands);
}

#[test]
fn apps_released_together_move_in_lockstep() {
    let mut w = World::new(&[8, 20]);
    let p = plan(4, Some(Gate::Interval(10_000)));
    let st = drive(
        &mut w,
        &p,
        |w, d, _| {
            // No app is ever more than one group ahead of the other.
            let g0 = w.apps[0].1.replicas * 4 / 8;
            let g1 = w.apps[1].1.replicas * 4 / 20;
            assert!((g0 - g1).abs() <= 1, "{:?}", d.status);
        },
        1_000,
    );
    assert_eq!(st.phase, Phase::Succeeded);
    // One gate for all: group 2 started once, after both apps finished group 1.
    assert_eq!(st.groups.len(), 4);
}

#[test]
fn a_status_that_does_not_fit_its_plan_stops_the_release_without_moving_anything() {
    let w = World::new(&[8]);
    let p = plan(4, None);
    let mut st = Status::start(&w.view(Request::None, &[]), &p, 0);
    st.group = 7; // edited by hand, or a plan shrunk under a running release
    let d = decide(&w.view(Request::None, &[]), &p, &st, 1_000);
    assert_eq!(d.status.phase, Phase::Stalled);
    assert!(d.commands.is_empty());
    assert!(d.reason.contains("does not fit its plan"), "{}", d.reason);
    let mut st = Status::start(&w.view(Request::None, &[]), &p, 0);
    st.groups.truncate(2);
    assert_eq!(
        decide(&w.view(Request::None, &[]), &p, &st, 0).status.phase,
        Phase::Stalled
    );
    // No gate follows the last group: waiting at one would start a group 5.
    let mut st = Status::start(&w.view(Request::None, &[]), &p, 0);
    st.group = 4;
    st.stage = Stage::Shrink;
    st.phase = Phase::WaitingForGate;
    assert_eq!(
        decide(&w.view(Request::None, &[]), &p, &st, 0).status.phase,
        Phase::Stalled
    );
}

#[test]
fn a_second_release_of_the_same_app_is_refused() {
    let running = vec![("web-2-0".to_string(), vec!["web".to_string()])];
    let err = admit(&["api", "web"], &running).expect_err("refused");
    assert!(
        err.contains("web is already being released by web-2-0"),
        "{err}"
    );
    assert!(admit(&["api"], &running).is_ok());
}

#[test]
fn canary_traffic_follows_ready_groups_and_returns_at_once_on_rollback() {
    let mut w = World::new(&[40, 10]);
    let p = plan(4, None);
    let mut seen = Vec::new();
    drive(
        &mut w,
        &p,
        |world, d, _| {
            let weights = canary_weights(&world.view(Request::None, &[]), &d.status, &p, None);
            // Traffic only reaches pods that are ready.
            for ((_, new, _), (&w, &total)) in
                world.apps.iter().zip(weights.iter().zip(&d.status.totals))
            {
                assert!(
                    i64::from(w) * i64::from(total) <= 100 * i64::from(new.ready),
                    "{w}% of {total} with {} new pods ready",
                    new.ready
                );
            }
            if seen.last() != Some(&weights) {
                seen.push(weights);
            }
        },
        200,
    );
    // 40 replicas move 10 a group (25%); 10 move 3, 5, 8, 10 (30%, 50%, 80%).
    assert_eq!(
        seen,
        [
            vec![0, 0],
            vec![25, 30],
            vec![50, 50],
            vec![75, 80],
            vec![100, 100]
        ]
    );
    // Group 1's pods are ready: a 5% canary slice applies to group 1 only, and is never
    // above the group's share.
    let mut w = World::new(&[40]);
    let mut st = Status::start(&w.view(Request::None, &[]), &p, 0);
    st.stage = Stage::Shrink;
    let weights =
        |w: &World, st: &Status, first| canary_weights(&w.view(Request::None, &[]), st, &p, first);
    assert_eq!(weights(&w, &st, Some(5)), [5]);
    assert_eq!(weights(&w, &st, Some(60)), [25]);
    st.group = 2;
    assert_eq!(weights(&w, &st, Some(5)), [50]);

    // Rolled back in group 2: 20 old pods left ready; traffic leaves the new version as the
    // old one's pods come back, never faster.
    st.phase = Phase::RollingBack;
    w.apps[0].0.ready = 20;
    assert_eq!(weights(&w, &st, None), [50]);
    w.apps[0].0.ready = 31;
    assert_eq!(weights(&w, &st, None), [23]);
    w.apps[0].0.ready = 40;
    assert_eq!(weights(&w, &st, None), [0]);
    st.phase = Phase::RolledBack;
    w.apps[0].0.ready = 0;
    assert_eq!(weights(&w, &st, None), [0]);

    // A succeeded release rolled back: the new version keeps all traffic until old pods
    // are ready to take it.
    st.group = 4;
    st.phase = Phase::RollingBack;
    w.apps[0].0.ready = 0;
    assert_eq!(weights(&w, &st, None), [100]);
    w.apps[0].0.ready = 30;
    assert_eq!(weights(&w, &st, None), [25]);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(7),
        ..ProptestConfig::default()
    })]

    /// Whatever the size, groups, lost writes and restarts: the app never has fewer ready
    /// pods than its floor, never more than one group's share extra, and the release ends.
    #[test]
    fn invariants_hold_through_lost_writes_and_restarts(
        total in 1i32..60,
        groups in 1u32..8,
        faults in proptest::collection::vec(0u8..4, 0..200),
    ) {
        let mut w = World::new(&[total]);
        let floor = w.apps[0].2;
        let p = plan(groups, Some(Gate::Interval(2_000)));
        let mut saved = Status::start(&w.view(Request::None, &[]), &p, 0);
        let share = moved(total, 1, groups);
        let mut now = 0;
        let mut faults = faults.into_iter();
        for _ in 0..2_000 {
            let d = decide(&w.view(Request::None, &[]), &p, &saved, now);
            match faults.next().unwrap_or(0) {
                // The API refused the writes: nothing applied, status not saved.
                1 => {}
                // The controller died after writing but before saving its status.
                2 => w.apply(&d.commands),
                // Normal: writes applied, status saved.
                _ => {
                    w.apply(&d.commands);
                    saved = d.status.clone();
                }
            }
            let (o, n, _) = &w.apps[0];
            prop_assert!(o.ready + n.ready >= floor, "ready {} below floor {floor}", o.ready + n.ready);
            // Canary traffic never exceeds the new version's share of the pods the status
            // asks for.
            let weight = canary_weights(&w.view(Request::None, &[]), &saved, &p, Some(10))[0];
            let asked = targets(&saved, &p)[0].1;
            prop_assert!(
                i64::from(weight) * i64::from(total) <= 100 * i64::from(asked),
                "weight {weight}% with {asked} of {total} new replicas asked"
            );
            prop_assert!(o.replicas + n.replicas <= total + share, "{} > {total}+{share}", o.replicas + n.replicas);
            if saved.phase.finished() {
                break;
            }
            w.step();
            now += 1_000;
        }
        prop_assert_eq!(saved.phase, Phase::Succeeded);
        prop_assert_eq!(w.apps[0].1.replicas, total);
        prop_assert_eq!(w.apps[0].0.replicas, 0);
    }
}
