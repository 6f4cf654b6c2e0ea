//! The kubelet and the processes it runs: image pull, container start, probes, crashes and
//! CrashLoopBackOff, termination (preStop, SIGTERM, grace period, SIGKILL), and what a node
//! going away or losing the API server does to all of that.
//!
//! Upstream semantics modelled (Kubernetes v1.35, `pkg/kubelet`):
//! - probes tick every `periodSeconds` from when the pod's probe workers start (when the
//!   kubelet takes the pod on), skip results until `initialDelaySeconds` after the container
//!   started, and need `successThreshold`/`failureThreshold` results in a row; liveness and
//!   readiness wait for the startup probe to succeed (`prober/worker.go`);
//! - a pod without a readiness probe is ready once its container runs;
//! - CrashLoopBackOff waits 10 s, doubling to 5 min, and forgets after 10 min of running
//!   (`kuberuntime`'s back-off);
//! - the grace period starts with the preStop hook; SIGTERM follows the hook; a hook that
//!   outlives the grace period gets a one-off 2 s extension before SIGKILL
//!   (`kuberuntime_container.go` killContainer);
//! - the pod object is deleted from the API only once its containers have stopped.
//!
//! Simplifications: probes are evaluated in closed form from the process's start, listen
//! and ready times (the exact tick they would pass or fail on) rather than one event per
//! tick, which keeps an hour of 20,000 pods cheap; only while a process is overloaded are
//! its probe ticks simulated one by one (each times out with the odds a request does). One
//! container per pod (the first).

use crate::engine::{Change, Ev, Sim, Step};
use crate::time::Millis;
use crate::world::{Container, Health, NodeId, Phase, PodId, PreStop, Serve};

/// The kubelet's delay from seeing a pod to running its sandbox.
const SANDBOX: Millis = 1_000;
/// CrashLoopBackOff's first wait and cap.
const BACKOFF_START: Millis = 10_000;
const BACKOFF_MAX: Millis = 300_000;
/// Running this long resets the back-off.
const BACKOFF_RESET: Millis = 600_000;

/// The first tick of a probe worker started at `anchor` with `period`, at or after `t`.
fn tick_at_or_after(anchor: Millis, period: Millis, t: Millis) -> Millis {
    if t <= anchor {
        return anchor;
    }
    anchor + (t - anchor).div_ceil(period) * period
}

impl Sim {
    fn kstep(&mut self, p: PodId, d: Millis, step: Step) {
        let generation = self.pods[p].rt.generation;
        self.after(d, Ev::Kubelet(p, generation, step));
    }

    /// Whether the pod's kubelet can talk to the API server.
    fn connected(&self, p: PodId) -> bool {
        self.pods[p]
            .node
            .is_some_and(|n| self.nodes[n].health == Health::Up)
    }

    /// A pod was bound: its kubelet will see it (when it can).
    pub(crate) fn kubelet_sees(&mut self, p: PodId) {
        if self.connected(p) {
            self.kstep(p, SANDBOX, Step::Admit);
        }
    }

    pub(crate) fn kubelet(&mut self, p: PodId, step: Step) {
        let Some(node) = self.pods[p].node else {
            return;
        };
        if self.nodes[node].health == Health::Down {
            return;
        }
        let obj = self.pod_ref(p);
        let app = self.pods[p].app;
        match step {
            Step::Admit => {
                if self.pods[p].rt.admitted.is_some() {
                    return;
                }
                self.pods[p].rt.admitted = Some(self.now);
                if self.pods[p].meta.deletion.is_some() {
                    self.finish_pod(p);
                    return;
                }
                let image = self.pods[p].tpl.image.clone();
                if self.nodes[node].images.contains(&image) {
                    self.start_container(p);
                } else {
                    let dist = self
                        .slow_pulls
                        .iter()
                        .rev()
                        .find(|(n, _)| n.is_none_or(|n| n == node))
                        .map(|(_, d)| *d)
                        .unwrap_or(self.apps[app].behaviour.image_pull);
                    let pull = dist.sample(&mut self.rng);
                    self.event(
                        false,
                        "Pulling",
                        obj,
                        Some(app),
                        format!("Pulling image \"{image}\""),
                    );
                    self.kstep(p, pull, Step::Pulled);
                }
            }
            Step::Pulled => {
                let image = self.pods[p].tpl.image.clone();
                self.nodes[node].images.insert(image);
                self.start_container(p);
            }
            Step::Listening => {
                if self.pods[p].rt.drain_since.is_none() {
                    self.set_serve(p, Serve::Accept);
                }
            }
            Step::ProbeReady => {
                self.pods[p].rt.probe_ready = true;
                self.report_status(p);
            }
            Step::StartupFailed | Step::LivenessFailed => {
                let which = if step == Step::StartupFailed {
                    "Startup"
                } else {
                    "Liveness"
                };
                self.event(
                    true,
                    "Unhealthy",
                    obj.clone(),
                    Some(app),
                    format!("{which} probe failed: the container will be restarted"),
                );
                self.container_died(p, false);
            }
            Step::Crash => {
                self.event(
                    true,
                    "Crashed",
                    obj,
                    Some(app),
                    "the process exited on its own".into(),
                );
                self.container_died(p, true);
            }
            Step::Restart => {
                if self.pods[p].rt.killing {
                    self.finish_pod(p);
                } else {
                    self.start_container(p);
                }
            }
            Step::PreStopDone => self.sigterm(p),
            Step::WarmupEnd => self.reassess(p),
            Step::OverloadProbe(since, liveness) => {
                if self.pods[p].rt.overloaded_since != Some(since) {
                    return;
                }
                let probe = if liveness {
                    self.pods[p].tpl.liveness
                } else {
                    self.pods[p].tpl.readiness
                };
                let Some(pr) = probe else { return };
                let cap = self.pods[p].rt.capacity;
                let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let fails = if liveness {
                    &mut self.pods[p].rt.probe_fails.1
                } else {
                    &mut self.pods[p].rt.probe_fails.0
                };
                if unit < cap {
                    *fails = 0;
                } else {
                    *fails += 1;
                }
                if *fails >= pr.failure {
                    *fails = 0;
                    if liveness {
                        self.event(
                            true,
                            "Unhealthy",
                            obj,
                            Some(app),
                            "Liveness probe failed: timeout (the process is CPU-throttled); the container will be restarted".into(),
                        );
                        self.container_died(p, false);
                        return;
                    }
                    if self.pods[p].rt.probe_ready {
                        self.event(
                            true,
                            "Unhealthy",
                            obj,
                            Some(app),
                            "Readiness probe failed: timeout (the process is CPU-throttled)".into(),
                        );
                        self.pods[p].rt.probe_ready = false;
                        self.pods[p].rt.unready_by_overload = true;
                        self.report_status(p);
                    }
                }
                self.kstep(p, pr.period, Step::OverloadProbe(since, liveness));
            }
            Step::Exit => {
                self.end_process(p, Serve::Absent, false);
                self.finish_pod(p);
            }
            Step::Kill => {
                if matches!(self.pods[p].rt.container, Container::Running(_)) {
                    self.event(
                        true,
                        "Killing",
                        obj,
                        Some(app),
                        "grace period over: SIGKILL".into(),
                    );
                    self.end_process(p, Serve::Absent, false);
                }
                self.finish_pod(p);
            }
        }
    }

    /// Starts (or restarts) the container and plans what its probes will see.
    fn start_container(&mut self, p: PodId) {
        let app = self.pods[p].app;
        let b = self.apps[app].behaviour.clone();
        let now = self.now;
        {
            let rt = &mut self.pods[p].rt;
            rt.generation += 1;
            rt.container = Container::Running(now);
            rt.probe_ready = false;
            rt.drain_since = None;
            rt.capacity = 1.0;
            rt.overloaded_since = None;
            rt.metric = None;
            rt.unready_by_overload = false;
        }
        if b.warmup > 0 {
            for k in 1..=4 {
                self.kstep(p, b.warmup * k / 4, Step::WarmupEnd);
            }
        }
        self.pods[p].phase = Phase::Running;
        self.set_serve(p, Serve::Refuse);
        let obj = self.pod_ref(p);
        self.event(
            false,
            "Started",
            obj,
            Some(app),
            "Started container app".into(),
        );
        let listen = now + b.start.sample(&mut self.rng);
        let healthy = listen + b.ready.sample(&mut self.rng);
        let anchor = self.pods[p].rt.admitted.unwrap_or(now);
        let tpl = self.pods[p].tpl.clone();
        self.kstep(p, listen - now, Step::Listening);
        // Startup probe: passes on the first tick the app is healthy, or gives up after
        // failureThreshold failing ticks past its initial delay.
        let mut gate = now;
        if let Some(s) = tpl.startup {
            let first = tick_at_or_after(anchor, s.period, now + s.initial_delay);
            let pass = tick_at_or_after(anchor, s.period, healthy.max(first));
            let give_up = first + u64::from(s.failure - 1) * s.period;
            if pass > give_up {
                self.kstep(p, give_up - now, Step::StartupFailed);
                return;
            }
            gate = pass;
        }
        // Liveness: fails if the process does not listen within failureThreshold ticks.
        if let Some(l) = tpl.liveness {
            let first = tick_at_or_after(anchor, l.period, (now + l.initial_delay).max(gate));
            let alive = tick_at_or_after(anchor, l.period, listen.max(first));
            let give_up = first + u64::from(l.failure - 1) * l.period;
            if alive > give_up {
                self.kstep(p, give_up - now, Step::LivenessFailed);
            }
        }
        let ready_at = match tpl.readiness {
            Some(r) => {
                let first = tick_at_or_after(anchor, r.period, (now + r.initial_delay).max(gate));
                tick_at_or_after(anchor, r.period, healthy.max(first))
                    + u64::from(r.success - 1) * r.period
            }
            // Without a readiness probe a pod is ready as soon as its container runs,
            // listening or not: one of the pitfalls the doctor warns about.
            None => gate,
        };
        self.kstep(p, ready_at - now, Step::ProbeReady);
        if let Some(c) = b.crash_after {
            let d = c.sample(&mut self.rng);
            self.kstep(p, d, Step::Crash);
        }
    }

    /// Liveness probes time out on an overloaded process: the restart comes on the
    /// failureThreshold-th tick from now.
    pub(crate) fn plan_overload_kill(&mut self, p: PodId) {
        let Some(since) = self.pods[p].rt.overloaded_since else {
            return;
        };
        let anchor = self.pods[p].rt.admitted.unwrap_or(self.now);
        self.pods[p].rt.probe_fails = (0, 0);
        // Probes queue behind the requests: each one times out with the same chance as a
        // request does. Ticks are simulated only while the process is overloaded.
        for (probe, liveness) in [
            (self.pods[p].tpl.readiness, false),
            (self.pods[p].tpl.liveness, true),
        ] {
            if let Some(pr) = probe {
                let at = tick_at_or_after(anchor, pr.period, self.now);
                self.kstep(p, at - self.now, Step::OverloadProbe(since, liveness));
            }
        }
    }

    /// The overload is over: a pod it had made unready passes its readiness probe again
    /// after successThreshold ticks.
    pub(crate) fn overload_ended(&mut self, p: PodId) {
        if !self.pods[p].rt.unready_by_overload {
            return;
        }
        self.pods[p].rt.unready_by_overload = false;
        let Some(r) = self.pods[p].tpl.readiness else {
            return;
        };
        let anchor = self.pods[p].rt.admitted.unwrap_or(self.now);
        let first = tick_at_or_after(anchor, r.period, self.now + 1);
        let at = first + u64::from(r.success - 1) * r.period;
        self.kstep(p, at - self.now, Step::ProbeReady);
    }

    /// The container stopped on its own (crash, failed probe): restart after back-off.
    fn container_died(&mut self, p: PodId, crashed: bool) {
        let since = match self.pods[p].rt.container {
            Container::Running(t) => t,
            _ => return,
        };
        let _ = crashed;
        self.end_process(p, Serve::Refuse, false);
        self.pods[p].rt.generation += 1;
        self.pods[p].rt.probe_ready = false;
        self.pods[p].rt.container = Container::BackOff;
        if self.now - since >= BACKOFF_RESET {
            self.pods[p].rt.crash_streak = 0;
        }
        let streak = self.pods[p].rt.crash_streak;
        self.pods[p].rt.crash_streak += 1;
        let wait = BACKOFF_START
            .saturating_mul(1u64 << streak.min(16))
            .min(BACKOFF_MAX);
        let app = self.pods[p].app;
        self.pods[p].restarts += 1;
        self.apps[app].stats.restarts += 1;
        self.report_status(p);
        if self.pods[p].rt.killing {
            self.finish_pod(p);
            return;
        }
        if streak > 0 {
            let obj = self.pod_ref(p);
            self.event(
                true,
                "BackOff",
                obj,
                Some(app),
                format!(
                    "Back-off {} restarting failed container",
                    crate::time::fmt_millis(wait)
                ),
            );
        }
        self.kstep(p, wait, Step::Restart);
    }

    /// The process stops answering: requests in flight on it fail, unless it had stopped
    /// accepting long enough ago for them to finish (`graceful`).
    fn end_process(&mut self, p: PodId, after: Serve, node_down: bool) {
        let was = self.pods[p].rt.serve;
        let req = self.apps[self.pods[p].app].behaviour.request;
        // Requests that arrived while it still accepted and had not finished yet.
        let cut = match (was, self.pods[p].rt.drain_since) {
            (Serve::Accept, _) => req,
            (_, Some(d)) => req.saturating_sub(self.now - d),
            _ => 0,
        };
        if cut > 0 {
            self.lose_in_flight(p, cut, node_down);
        }
        self.drop_in_flight(p, node_down);
        self.set_serve(p, after);
        self.pods[p].rt.container = Container::Exited;
    }

    /// The kubelet begins terminating a deleted pod.
    pub(crate) fn kill_start(&mut self, p: PodId) {
        if self.pods[p].rt.killing {
            return;
        }
        self.pods[p].rt.killing = true;
        if !matches!(self.pods[p].rt.container, Container::Running(_)) {
            self.pods[p].rt.generation += 1;
            self.finish_pod(p);
            return;
        }
        let grace = self.pods[p].grace;
        let tpl = self.pods[p].tpl.clone();
        let app = self.pods[p].app;
        let hook = match tpl.pre_stop {
            PreStop::None | PreStop::Unknown => 0,
            PreStop::Sleep(s) => s,
            PreStop::Drain { sleep, timeout } => {
                // The wait for connections ends once the balancer has forgotten the pod
                // and the last request it sent has finished.
                let quiet = self.sc.lb.propagation + self.apps[app].behaviour.request;
                sleep.max(quiet.min(sleep + timeout))
            }
        };
        let obj = self.pod_ref(p);
        self.event(
            false,
            "Killing",
            obj,
            Some(app),
            if hook > 0 && tpl.berth_init {
                format!(
                    "Stopping container app: berth-init drains ({}), then SIGTERM to the app; grace period {}",
                    crate::time::fmt_millis(hook),
                    crate::time::fmt_millis(grace)
                )
            } else if hook > 0 {
                format!(
                    "Stopping container app: preStop hook ({}), then SIGTERM; grace period {}",
                    crate::time::fmt_millis(hook),
                    crate::time::fmt_millis(grace)
                )
            } else {
                format!(
                    "Stopping container app: SIGTERM; grace period {}",
                    crate::time::fmt_millis(grace)
                )
            },
        );
        let generation = self.pods[p].rt.generation + 1;
        self.pods[p].rt.generation = generation;
        let (term, kill) = if hook < grace {
            (hook, grace)
        } else {
            (grace, grace + 2_000)
        };
        self.pods[p].rt.kill_at = Some(self.now + kill);
        self.kstep(p, term, Step::PreStopDone);
        self.kstep(p, kill, Step::Kill);
    }

    fn sigterm(&mut self, p: PodId) {
        let app = self.pods[p].app;
        let b = self.apps[app].behaviour.clone();
        if !matches!(self.pods[p].rt.container, Container::Running(_)) {
            return;
        }
        if !b.honors_sigterm {
            return;
        }
        self.pods[p].rt.drain_since = Some(self.now);
        if self.pods[p].rt.serve == Serve::Accept {
            self.set_serve(p, Serve::Refuse);
        }
        let stop = b.stop.sample(&mut self.rng);
        if self.pods[p].rt.kill_at.is_none_or(|k| self.now + stop < k) {
            self.kstep(p, stop, Step::Exit);
        }
    }

    /// The containers are gone: the pod leaves the API (when its kubelet can say so).
    pub(crate) fn finish_pod(&mut self, p: PodId) {
        self.pods[p].rt.container = Container::Exited;
        self.pods[p].rt.generation += 1;
        if self.pods[p].rt.serve != Serve::Absent {
            self.set_serve(p, Serve::Absent);
        }
        self.pods[p].phase = Phase::Succeeded;
        if self.pods[p].node.is_none() || self.connected(p) {
            self.remove_pod(p);
        }
    }

    /// Tells the API what the kubelet knows about the pod's readiness.
    pub(crate) fn report_status(&mut self, p: PodId) {
        if !self.connected(p) {
            return;
        }
        let ready = self.pods[p].rt.probe_ready
            && matches!(self.pods[p].rt.container, Container::Running(_));
        self.set_pod_ready(p, ready);
    }

    /// A node's machine changes: partition, heal, crash, boot.
    pub(crate) fn set_health(&mut self, n: NodeId, h: Health) {
        let was = self.nodes[n].health;
        if was == h {
            return;
        }
        self.nodes[n].health = h;
        self.nodes[n].health_since = self.now;
        let pods = self.nodes[n].pods.clone();
        match h {
            Health::Partitioned => {}
            Health::Down => {
                for p in pods {
                    if matches!(self.pods[p].rt.container, Container::Running(_)) {
                        self.end_process(p, Serve::Absent, true);
                    } else if self.pods[p].rt.serve != Serve::Absent {
                        self.set_serve(p, Serve::Absent);
                    }
                    let rt = &mut self.pods[p].rt;
                    rt.generation += 1;
                    rt.probe_ready = false;
                    rt.killing = false;
                    rt.admitted = None;
                    rt.drain_since = None;
                    rt.container = Container::Waiting;
                }
            }
            Health::Up => {
                // The kubelet (re)connects: it reports what it runs, starts what was bound
                // to it meanwhile, and carries out deletions it could not see.
                for p in pods {
                    if self.pods[p].removed {
                        continue;
                    }
                    if was == Health::Down {
                        // Containers did not survive the reboot.
                        if self.pods[p].meta.deletion.is_some() {
                            self.finish_pod(p);
                            continue;
                        }
                        self.pods[p].restarts += 1;
                        let app = self.pods[p].app;
                        self.apps[app].stats.restarts += 1;
                        self.kstep(p, SANDBOX, Step::Admit);
                        self.report_status(p);
                        continue;
                    }
                    if matches!(self.pods[p].rt.container, Container::Exited) {
                        self.remove_pod(p);
                        continue;
                    }
                    self.report_status(p);
                    if self.pods[p].rt.admitted.is_none() {
                        self.kstep(p, SANDBOX, Step::Admit);
                    } else if self.pods[p].meta.deletion.is_some() {
                        self.kill_start(p);
                    }
                }
            }
        }
        self.notify(Change::Node);
    }
}
