//! The event loop: a virtual clock, a queue of timed steps ordered by (time, sequence), and
//! the change notifications that wake controllers, as informers and workqueues do.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap};
use std::rc::Rc;

use berth_scheduler::{Cluster, Profile, State};

use crate::report::{AppReport, AssertionReport, Event, Report};
use crate::rng::Rng;
use crate::scenario::Measure;
use crate::scenario::{Action, Scenario};
use crate::time::Millis;
use crate::world::{App, Dep, Hpa, NodeId, NodeObj, Pdb, Pod, PodId, Rs, RsId, Svc, SvcId};

/// One kubelet step for a pod; stale once the pod's runtime generation moves on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// The kubelet takes the pod on.
    Admit,
    /// The image is on the node: start the container.
    Pulled,
    /// The process listens on its port.
    Listening,
    /// The readiness probe passes.
    ProbeReady,
    /// The startup probe gives up: restart.
    StartupFailed,
    /// The liveness probe gives up: restart.
    LivenessFailed,
    /// The process crashes on its own.
    Crash,
    /// CrashLoopBackOff is over: start again.
    Restart,
    /// The preStop hook is done (or cut short): SIGTERM.
    PreStopDone,
    /// The process exits after SIGTERM.
    Exit,
    /// The grace period is over: SIGKILL.
    Kill,
    /// A quarter of the warm-up after a start has passed.
    WarmupEnd,
    /// A readiness (false) or liveness (true) probe tick on a process overloaded since
    /// this time.
    OverloadProbe(Millis, bool),
}

/// Something that happens at a time.
#[derive(Debug, Clone)]
pub(crate) enum Ev {
    /// A timeline action.
    Action(usize),
    /// Controllers work off their queues.
    Reconcile,
    /// The scheduler works off its queue.
    Schedule,
    /// A kubelet step for a pod, with the runtime generation it was planned in.
    Kubelet(PodId, u32, Step),
    /// The balancer learns a Service's endpoints.
    LbUpdate(SvcId, Rc<Vec<PodId>>),
    /// The node lifecycle controller's periodic pass.
    NodeMonitor,
    /// A pod's toleration of a NoExecute taint runs out.
    TaintEvict(PodId, NodeId),
    /// `kubectl drain` tries its evictions again.
    DrainTick(usize),
    /// A Deployment looks again (minReadySeconds passed).
    Resync(usize),
    /// An app's traffic begins.
    TrafficStart(usize),
    /// The autoscalers' periodic sync.
    HpaSync,
    /// A slow-start weight step for a Service's backends.
    LbRamp(SvcId),
    /// A plugged controller's turn.
    Plugin(usize),
    /// metrics-server scrapes the kubelets.
    MetricsScrape,
    /// One request arrives at a Service (per-request traffic), in an arrival chain.
    Request(SvcId, u32),
    /// The end of the run.
    End,
}

struct Entry {
    at: Millis,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    // Reversed: the heap pops the earliest, and among equals the first scheduled.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// A change to a stored object, routed to the controllers that watch its kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change {
    /// A pod was added, changed or deleted.
    Pod(PodId),
    /// A ReplicaSet changed.
    Rs(RsId),
    /// A Deployment changed.
    Dep(usize),
    /// A node changed (taints, readiness, cordon).
    Node,
}

/// A `kubectl drain` in progress.
#[derive(Debug, Clone)]
pub(crate) struct Drain {
    pub node: NodeId,
    pub deadline: Option<Millis>,
    pub done: bool,
    pub gave_up: bool,
    pub blocked_reported: BTreeSet<PodId>,
}

/// The simulator: the store, the controllers' queues and the clock.
pub struct Sim {
    pub(crate) now: Millis,
    seq: u64,
    queue: BinaryHeap<Entry>,
    pub(crate) rng: Rng,
    pub(crate) sc: Scenario,
    pub(crate) resource_version: u64,
    pub(crate) next_uid: u64,
    pub(crate) nodes: Vec<NodeObj>,
    pub(crate) pods: Vec<Pod>,
    pub(crate) rss: Vec<Rs>,
    pub(crate) deps: Vec<Dep>,
    pub(crate) svcs: Vec<Svc>,
    pub(crate) pdbs: Vec<Pdb>,
    pub(crate) hpas: Vec<Hpa>,
    /// berth's own objects: the Applications of the scenario, with their metadata.
    pub(crate) applications: Vec<(crate::world::Meta, berth_model::Application)>,
    pub(crate) apps: Vec<App>,
    pub(crate) cluster: Cluster,
    pub(crate) profile: Profile,
    pub(crate) sched_state: State,
    pub(crate) sched_queue: Vec<PodId>,
    pub(crate) unschedulable: BTreeSet<PodId>,
    pub(crate) schedule_pending: bool,
    pub(crate) dirty_deps: BTreeSet<usize>,
    pub(crate) dirty_rss: BTreeSet<RsId>,
    pub(crate) dirty_svcs: BTreeSet<SvcId>,
    pub(crate) reconcile_pending: bool,
    pub(crate) drains: Vec<Drain>,
    pub(crate) zone_tokens: std::collections::BTreeMap<String, f64>,
    pub(crate) last_monitor: Millis,
    pub(crate) events: Vec<Event>,
    pub(crate) notes: Vec<String>,
    pub(crate) switch_label: String,
    /// Image pull time overrides: for every node (`None`) or one.
    pub(crate) slow_pulls: Vec<(Option<NodeId>, crate::time::Dist)>,
    /// Controller writes fail at this rate until this time.
    pub(crate) api_errors: (f64, Millis),
    /// Controllers stopped until this time (a controller-manager restart).
    pub(crate) controllers_down_until: Millis,
    pub(crate) plugins: Vec<Option<Box<dyn crate::plugin::Controller>>>,
    autoscaling: bool,
    ended: bool,
}

impl Sim {
    /// Builds the cluster and the workloads of a scenario, at time 0.
    pub fn new(sc: Scenario) -> Result<Sim, crate::SimError> {
        let mut sim = Sim {
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            rng: Rng::new(sc.seed),
            sched_state: State::new(sc.seed),
            sc,
            resource_version: 0,
            next_uid: 0,
            nodes: Vec::new(),
            pods: Vec::new(),
            rss: Vec::new(),
            deps: Vec::new(),
            svcs: Vec::new(),
            pdbs: Vec::new(),
            hpas: Vec::new(),
            applications: Vec::new(),
            apps: Vec::new(),
            cluster: Cluster::default(),
            profile: Profile::default(),
            sched_queue: Vec::new(),
            unschedulable: BTreeSet::new(),
            schedule_pending: false,
            dirty_deps: BTreeSet::new(),
            dirty_rss: BTreeSet::new(),
            dirty_svcs: BTreeSet::new(),
            reconcile_pending: false,
            drains: Vec::new(),
            zone_tokens: Default::default(),
            last_monitor: 0,
            events: Vec::new(),
            notes: Vec::new(),
            switch_label: berth_model::DEFAULT_SWITCH_LABEL.to_string(),
            slow_pulls: Vec::new(),
            api_errors: (0.0, 0),
            controllers_down_until: 0,
            plugins: Vec::new(),
            autoscaling: false,
            ended: false,
        };
        sim.build_cluster();
        sim.ingest()?;
        for i in 0..sim.sc.timeline.len() {
            let at = sim.sc.timeline[i].0;
            sim.at(at, Ev::Action(i));
        }
        let period = sim.sc.control_plane.node_monitor_period;
        sim.at(period, Ev::NodeMonitor);
        sim.start_autoscaling();
        let end = sim.sc.duration;
        sim.at(end, Ev::End);
        Ok(sim)
    }

    /// Starts the autoscaler's and metrics-server's periodic work once there is an HPA.
    pub(crate) fn start_autoscaling(&mut self) {
        if self.autoscaling || self.hpas.is_empty() {
            return;
        }
        self.autoscaling = true;
        let sync = crate::hpa::DEFAULT_SYNC_PERIOD;
        let next = (self.now / sync + 1) * sync;
        self.at(next, Ev::HpaSync);
        // Scrapes fall between the autoscaler's syncs, so what it sees is up to one
        // resolution old, as with a real metrics-server.
        self.at(next.saturating_sub(10_000).max(self.now), Ev::MetricsScrape);
    }

    /// Runs to the end and returns the report.
    pub fn run(mut self) -> Report {
        self.run_until(Millis::MAX);
        self.finish()
    }

    /// Runs every event up to and including time `t` (or the end of the scenario).
    pub fn run_until(&mut self, t: Millis) {
        while let Some(top) = self.queue.peek() {
            if top.at > t || self.ended {
                break;
            }
            let Some(e) = self.queue.pop() else { break };
            self.now = e.at;
            self.dispatch(e.ev);
        }
    }

    /// Virtual time now.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Whether the run reached its end.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Events recorded so far.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub(crate) fn at(&mut self, t: Millis, ev: Ev) {
        self.seq += 1;
        self.queue.push(Entry {
            at: t.max(self.now),
            seq: self.seq,
            ev,
        });
    }

    pub(crate) fn after(&mut self, d: Millis, ev: Ev) {
        self.at(self.now.saturating_add(d), ev);
    }

    pub(crate) fn bump(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    pub(crate) fn uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    fn dispatch(&mut self, ev: Ev) {
        match ev {
            Ev::Action(i) => {
                let action = self.sc.timeline[i].1.clone();
                self.action(&action);
            }
            Ev::Reconcile => self.reconcile(),
            Ev::Schedule => self.schedule(),
            Ev::Kubelet(p, generation, step) => {
                if self.pods[p].rt.generation == generation {
                    self.kubelet(p, step);
                }
            }
            Ev::LbUpdate(s, set) => self.lb_update(s, set),
            Ev::NodeMonitor => {
                if self.now >= self.controllers_down_until {
                    self.monitor_nodes();
                }
                let period = self.sc.control_plane.node_monitor_period;
                self.after(period, Ev::NodeMonitor);
            }
            Ev::TaintEvict(p, n) => self.taint_evict(p, n),
            Ev::DrainTick(d) => self.drain_tick(d),
            Ev::Resync(d) => self.notify(Change::Dep(d)),
            Ev::TrafficStart(app) => self.start_traffic(app),
            Ev::HpaSync => {
                if self.now >= self.controllers_down_until {
                    self.sync_hpas();
                }
                self.after(crate::hpa::DEFAULT_SYNC_PERIOD, Ev::HpaSync);
            }
            Ev::LbRamp(s) => self.lb_ramp(s),
            Ev::Plugin(i) => self.run_plugin(i),
            Ev::Request(s, chain) => self.request(s, chain),
            Ev::MetricsScrape => {
                self.scrape_metrics();
                self.after(crate::time::METRICS_RESOLUTION, Ev::MetricsScrape);
            }
            Ev::End => {
                for s in 0..self.svcs.len() {
                    self.account(s);
                }
                self.ended = true;
            }
        }
    }

    /// Routes a change to the controllers that watch it (the informers' event handlers).
    pub(crate) fn notify(&mut self, c: Change) {
        match c {
            Change::Pod(p) => {
                if let Some(rs) = self.pods[p].rs {
                    self.dirty_rss.insert(rs);
                    self.dirty_deps.insert(self.rss[rs].dep);
                }
                for i in 0..self.pods[p].services.len() {
                    let s = self.pods[p].services[i];
                    self.dirty_svcs.insert(s);
                }
            }
            Change::Rs(rs) => {
                self.dirty_rss.insert(rs);
                self.dirty_deps.insert(self.rss[rs].dep);
            }
            Change::Dep(d) => {
                self.dirty_deps.insert(d);
            }
            Change::Node => {
                self.wake_scheduler(1_000);
            }
        }
        if !self.reconcile_pending {
            self.reconcile_pending = true;
            self.after(0, Ev::Reconcile);
        }
    }

    /// Runs the controllers until their queues are empty.
    fn reconcile(&mut self) {
        self.reconcile_pending = false;
        if self.now < self.controllers_down_until {
            // No leader: the queues wait for the next one, which starts with a full resync.
            self.reconcile_pending = true;
            self.at(self.controllers_down_until, Ev::Reconcile);
            return;
        }
        let (mut retry_deps, mut retry_rss) = (BTreeSet::new(), BTreeSet::new());
        let mut failed = 0;
        // Each pass can dirty more (a Deployment scales a ReplicaSet, which creates pods,
        // which change endpoints); the bound only guards against a controller bug.
        for _ in 0..64 {
            if self.dirty_deps.is_empty() && self.dirty_rss.is_empty() && self.dirty_svcs.is_empty()
            {
                break;
            }
            for d in std::mem::take(&mut self.dirty_deps) {
                if self.write_fails() {
                    failed += 1;
                    retry_deps.insert(d);
                } else {
                    self.sync_deployment(d);
                }
            }
            for rs in std::mem::take(&mut self.dirty_rss) {
                if self.write_fails() {
                    failed += 1;
                    retry_rss.insert(rs);
                } else {
                    self.sync_replicaset(rs);
                }
            }
            for s in std::mem::take(&mut self.dirty_svcs) {
                self.sync_endpoints(s);
            }
        }
        if failed > 0 {
            // The workqueue puts failed keys back with a back-off; 1 s stands for it.
            self.event(
                true,
                "FailedSync",
                "kube-controller-manager".into(),
                None,
                format!("{failed} syncs failed on API errors (500, 409 Conflict); requeued"),
            );
            self.dirty_deps.extend(retry_deps);
            self.dirty_rss.extend(retry_rss);
            self.reconcile_pending = true;
            self.after(1_000, Ev::Reconcile);
        }
    }

    /// Whether a controller's write fails now (an `apiErrors` fault).
    fn write_fails(&mut self) -> bool {
        let (rate, until) = self.api_errors;
        self.now < until && (self.rng.below(1_000_000) as f64) < rate * 1_000_000.0
    }

    /// Records a Kubernetes-style Event.
    pub(crate) fn event(
        &mut self,
        warning: bool,
        reason: &str,
        object: String,
        app: Option<usize>,
        message: String,
    ) {
        self.events.push(Event {
            t: self.now,
            warning,
            reason: reason.to_string(),
            object,
            app: app.map(|a| self.apps[a].name.clone()),
            message,
        });
    }

    fn find_node(&mut self, name: &str) -> Option<NodeId> {
        let found = self.nodes.iter().position(|n| n.meta.name == name);
        if found.is_none() {
            let hint = berth_manifest::schema::closest(
                name,
                self.nodes.iter().map(|n| n.meta.name.as_str()),
            )
            .map(|c| format!(" (did you mean {c}?)"))
            .unwrap_or_default();
            self.event(
                true,
                "ActionFailed",
                format!("Node/{name}"),
                None,
                format!("no node named {name}{hint}; the action was skipped"),
            );
        }
        found
    }

    fn app_id(&self, name: &str) -> Option<usize> {
        self.apps.iter().position(|a| a.name == name)
    }

    fn action(&mut self, a: &Action) {
        self.event(false, "Action", "timeline".into(), None, a.describe());
        match a {
            Action::RolloutRestart(app) => {
                if let Some(id) = self.app_id(app) {
                    let stamp = format!("sim-{}", self.now);
                    self.change_templates(id, |t| {
                        crate::template::set_annotation(
                            t,
                            "kubectl.kubernetes.io/restartedAt",
                            &stamp,
                        )
                    });
                }
            }
            Action::SetImage(app, image) => {
                if let Some(id) = self.app_id(app) {
                    let image = image.clone();
                    self.change_templates(id, |t| crate::template::set_image(t, &image));
                }
            }
            Action::Scale(app, n) => {
                if let Some(id) = self.app_id(app) {
                    for d in self.apps[id].deps.clone() {
                        self.deps[d].replicas = *n;
                        self.deps[d].meta.resource_version = self.bump();
                        self.notify(Change::Dep(d));
                    }
                }
            }
            Action::DeletePods(app, n) => {
                if let Some(id) = self.app_id(app) {
                    let mut live: Vec<PodId> = (0..self.pods.len())
                        .filter(|&p| {
                            let pod = &self.pods[p];
                            pod.app == id && !pod.removed && pod.meta.deletion.is_none()
                        })
                        .collect();
                    for _ in 0..(*n as usize).min(live.len()) {
                        let k = self.rng.below(live.len() as u64) as usize;
                        let p = live.swap_remove(k);
                        let grace = self.pods[p].tpl.grace;
                        self.delete_pod(p, grace, false);
                    }
                }
            }
            Action::Partition(n) => {
                if let Some(n) = self.find_node(n) {
                    self.set_health(n, crate::world::Health::Partitioned);
                }
            }
            Action::Heal(n) => {
                if let Some(n) = self.find_node(n) {
                    self.set_health(n, crate::world::Health::Up);
                }
            }
            Action::Crash(n) => {
                if let Some(n) = self.find_node(n) {
                    self.set_health(n, crate::world::Health::Down);
                }
            }
            Action::Restart(n) => {
                if let Some(n) = self.find_node(n) {
                    self.set_health(n, crate::world::Health::Up);
                }
            }
            Action::Drain(n, timeout) => {
                if let Some(n) = self.find_node(n) {
                    self.start_drain(n, *timeout);
                }
            }
            Action::SlowPulls(node, d) => {
                let n = match node {
                    Some(name) => match self.find_node(name) {
                        Some(n) => Some(n),
                        None => return,
                    },
                    None => None,
                };
                self.slow_pulls.retain(|(m, _)| n.is_some() && *m != n);
                self.slow_pulls.push((n, *d));
            }
            Action::ApiErrors(rate, d) => self.api_errors = (*rate, self.now + d),
            Action::RestartControllers(d) => {
                self.controllers_down_until = self.now + d;
                // What the controllers kept in memory is gone; the stores are rebuilt
                // from the API by the new leader's informers.
                for h in &mut self.hpas {
                    h.state = Default::default();
                }
                self.zone_tokens.clear();
                self.last_monitor = self.now + d;
                for dep in 0..self.deps.len() {
                    self.dirty_deps.insert(dep);
                }
                for rs in 0..self.rss.len() {
                    self.dirty_rss.insert(rs);
                }
                for s in 0..self.svcs.len() {
                    self.dirty_svcs.insert(s);
                }
                self.reconcile_pending = true;
                self.at(self.now + d, Ev::Reconcile);
            }
            Action::Release(app, version, groups, gate, deadline) => {
                self.start_release(app, version, *groups, gate.clone(), *deadline);
            }
            Action::ReleaseRequest(what, app) => {
                if !self.plugin_request(what, app) {
                    let id = self.app_id(app);
                    self.event(
                        true,
                        "ReleaseRequestIgnored",
                        format!("app/{app}"),
                        id,
                        format!("no release of {app} is running to {what}"),
                    );
                }
            }
            Action::Traffic(app, rate) => {
                if let Some(id) = self.app_id(app) {
                    self.apps[id].behaviour.rate = *rate;
                    if self.apps[id].stats.steady_at.is_some() {
                        for s in self.apps[id].svcs.clone() {
                            self.set_rate(s, *rate);
                        }
                    }
                }
            }
        }
    }

    /// Gives every Deployment of an app a new template (a rollout).
    fn change_templates(&mut self, app: usize, f: impl Fn(&mut serde_json::Value)) {
        for d in self.apps[app].deps.clone() {
            let mut json = self.deps[d].tpl.json.clone();
            f(&mut json);
            match crate::template::read(&json, &self.sc.control_plane) {
                Ok(t) => {
                    self.deps[d].tpl = Rc::new(t);
                    self.deps[d].meta.resource_version = self.bump();
                    self.notify(Change::Dep(d));
                }
                Err(e) => self.notes.push(e.to_string()),
            }
        }
    }

    /// The report of a finished (or stopped) run.
    pub fn finish(self) -> Report {
        build(self)
    }
}

/// Builds the report of a finished run and judges its assertions.
fn build(sim: Sim) -> Report {
    let apps: Vec<AppReport> = sim
        .apps
        .iter()
        .map(|a| {
            let s = &a.stats;
            AppReport {
                name: a.name.clone(),
                requests: s.requests,
                failed: s.failed(),
                failed_502: s.failed_502,
                failed_503: s.failed_503,
                failed_504: s.failed_504,
                min_ready: s.min_ready,
                max_ready: s.max_ready,
                restarts: s.restarts,
                evictions: s.evictions,
                rescales: s.rescales,
                ready_at: s.steady_at,
                placement: s.placement.clone(),
            }
        })
        .collect();
    let drains_done = sim.drains.iter().all(|d| d.done);
    let mut assertions = Vec::new();
    for c in &sim.sc.checks {
        let chosen: Vec<&AppReport> = apps
            .iter()
            .filter(|a| c.app.as_ref().is_none_or(|n| *n == a.name))
            .collect();
        let sum = |f: fn(&AppReport) -> u64| chosen.iter().map(|a| f(a)).sum::<u64>();
        let (passed, detail) = match c.measure {
            Measure::MaxFailed(v) => {
                let n = sum(|a| a.failed);
                (
                    n <= v,
                    format!("{n} failed of {} (at most {v})", sum(|a| a.requests)),
                )
            }
            Measure::MinFailed(v) => {
                let n = sum(|a| a.failed);
                (
                    n >= v,
                    format!("{n} failed of {} (at least {v})", sum(|a| a.requests)),
                )
            }
            Measure::MinReady(v) => {
                let m = chosen.iter().filter_map(|a| a.min_ready).min();
                match m {
                    Some(m) => (m >= v, format!("lowest {m} ready (at least {v})")),
                    None => (false, "never had all its replicas ready".into()),
                }
            }
            Measure::MaxEvictions(v) => {
                let n = sum(|a| a.evictions);
                (n <= v, format!("{n} evicted (at most {v})"))
            }
            Measure::MinEvictions(v) => {
                let n = sum(|a| a.evictions);
                (n >= v, format!("{n} evicted (at least {v})"))
            }
            Measure::MaxRestarts(v) => {
                let n = sum(|a| a.restarts);
                (n <= v, format!("{n} restarts (at most {v})"))
            }
            Measure::MinRestarts(v) => {
                let n = sum(|a| a.restarts);
                (n >= v, format!("{n} restarts (at least {v})"))
            }
            Measure::MaxRescales(v) => {
                let n = sum(|a| a.rescales);
                (n <= v, format!("{n} rescales (at most {v})"))
            }
            Measure::MinRescales(v) => {
                let n = sum(|a| a.rescales);
                (n >= v, format!("{n} rescales (at least {v})"))
            }
            Measure::ReleasePhase(ref want) => {
                let app = c.app.as_deref().unwrap_or("");
                let prefix = format!("release/{app}-");
                let last = sim
                    .events
                    .iter()
                    .rev()
                    .find(|e| e.object.starts_with(&prefix) && e.reason.starts_with("Release"));
                match last {
                    Some(e) => (
                        e.reason == format!("Release{want}"),
                        format!("last: {} ({})", e.reason, e.message),
                    ),
                    None => (false, "no release ran".into()),
                }
            }
            Measure::RollbackWithin(limit) => {
                let app = c.app.as_deref().unwrap_or("");
                let asked = sim.events.iter().find(|e| {
                    e.reason == "Action" && e.message == format!("berth release rollback {app}")
                });
                let done = sim.events.iter().find(|e| {
                    e.reason == "ReleaseRolledBack"
                        && e.object.starts_with(&format!("release/{app}-"))
                });
                match (asked, done) {
                    (Some(a), Some(d)) => {
                        let took = d.t - a.t;
                        (
                            took <= limit,
                            format!(
                                "old version back at full strength {} after the request (at most {})",
                                crate::time::fmt_millis(took),
                                crate::time::fmt_millis(limit)
                            ),
                        )
                    }
                    _ => (false, "no rollback finished".into()),
                }
            }
            Measure::DrainsComplete(want) => {
                let n = sim.drains.iter().filter(|d| d.done).count();
                let total = sim.drains.len();
                (
                    drains_done == want && total > 0,
                    format!("{n} of {total} drains finished"),
                )
            }
        };
        assertions.push(AssertionReport {
            name: c.name.clone(),
            passed,
            detail,
        });
    }
    Report {
        scenario: sim.sc.name.clone(),
        description: sim.sc.description.clone(),
        seed: sim.sc.seed,
        duration: sim.sc.duration,
        nodes: sim.nodes.len(),
        events: sim.events,
        apps,
        assertions,
        notes: sim.notes,
    }
}
