//! The control plane's controllers as the simulator runs them, each after its upstream
//! counterpart (Kubernetes v1.35):
//!
//! - Deployment (`pkg/controller/deployment/rolling.go`, `util/deployment_util.go`): a new
//!   ReplicaSet per template hash; `maxSurge` rounds up and `maxUnavailable` down, and both
//!   zero means one unavailable (`ResolveFenceposts`); the new ReplicaSet grows to
//!   `replicas + maxSurge` in total (`NewRSNewReplicas`); old ones shrink first by their
//!   unhealthy pods, then down to `replicas − maxUnavailable` available
//!   (`reconcileOldReplicaSets`); `minReadySeconds`; revision history cleanup; a change of
//!   `replicas` mid-rollout spread over the live ReplicaSets in proportion (`sync.go` scale,
//!   `GetProportion`, with the desired- and max-replicas annotations). Upstream does the
//!   scale-up and the scale-down of one rollout step in two syncs; here in one, at the same
//!   instant. Not modelled: progress deadlines, pausing.
//! - ReplicaSet (`pkg/controller/replicaset`): creates or deletes the difference at once
//!   (no slow-start batches), choosing pods to delete in `ActivePodsWithRanks` order.
//! - Scheduler: the model of `berth-scheduler` (the same code `berth explain` runs), one
//!   pod at a time in creation order, unschedulable pods retried when nodes or pods change.
//! - Node lifecycle (`pkg/controller/nodelifecycle`): a node whose Lease is older than
//!   `--node-monitor-grace-period` becomes Unknown, its pods NotReady, and it is tainted
//!   `unreachable:NoSchedule` at once and `unreachable:NoExecute` through the zone's rate
//!   limiter (`--node-eviction-rate`, the secondary rate in partially disrupted zones, 0
//!   in small ones, none at all when every zone is down); the taint-eviction controller
//!   deletes each pod when its toleration runs out.
//! - The eviction API and `kubectl drain` (`pkg/registry/core/pod/storage/eviction.go`,
//!   `pkg/controller/disruption`): cordon, then evict every pod, refused while a
//!   PodDisruptionBudget allows no disruption, retried every 5 s.

use berth_scheduler::{LabelSelector, OwnerSelector, schedule_quick};

use crate::engine::{Change, Drain, Ev, Sim};
use crate::time::{LEASE_RENEW, METRICS_RESOLUTION, Millis};
use crate::world::{
    Container, DepId, Health, Meta, NodeId, Phase, Pod, PodId, Rs, RsId, Runtime, Serve,
};

const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
impl Sim {
    pub(crate) fn pod_ref(&self, p: PodId) -> String {
        format!("pod/{}", self.pods[p].meta.name)
    }

    fn available(&self, p: PodId, min_ready: Millis) -> bool {
        let pod = &self.pods[p];
        pod.serving_ready() && self.now >= pod.ready_changed + min_ready
    }

    fn active(&self, p: PodId) -> bool {
        let pod = &self.pods[p];
        !pod.removed
            && pod.meta.deletion.is_none()
            && !matches!(pod.phase, Phase::Succeeded | Phase::Failed)
    }

    fn rs_available(&self, rs: RsId, min_ready: Millis) -> i32 {
        self.rss[rs]
            .pods
            .iter()
            .filter(|&&p| self.active(p) && self.available(p, min_ready))
            .count() as i32
    }

    /// `maxSurge` resolved against `replicas` (`MaxSurge`: 0 for Recreate).
    fn max_surge(&self, d: DepId) -> i32 {
        let dep = &self.deps[d];
        if dep.recreate {
            return 0;
        }
        let s = dep.max_surge.scaled(dep.replicas, true);
        let u = dep.max_unavailable.scaled(dep.replicas, false);
        if s == 0 && u == 0 { 0 } else { s }
    }

    fn scale_rs(&mut self, rs: RsId, to: i32) {
        let from = self.rss[rs].replicas;
        // The controller stamps the Deployment's size on every ReplicaSet it scales
        // (`SetReplicasAnnotations`): a later change of size is then a scaling event.
        let d = self.rss[rs].dep;
        let desired = self.deps[d].replicas;
        let max = desired + self.max_surge(d);
        self.rss[rs].desired_annotation = desired;
        self.rss[rs].max_annotation = max;
        if from == to {
            return;
        }
        self.rss[rs].replicas = to;
        self.rss[rs].meta.resource_version = self.bump();
        let verb = if to > from { "up" } else { "down" };
        let msg = format!(
            "Scaled {verb} replica set {} from {from} to {to}",
            self.rss[rs].meta.name
        );
        let obj = format!("deployment/{}", self.deps[d].meta.name);
        let app = self.deps[d].app;
        self.event(false, "ScalingReplicaSet", obj, Some(app), msg);
        self.notify(Change::Rs(rs));
    }

    fn new_rs(&mut self, d: DepId, replicas: i32) -> RsId {
        self.deps[d].revision += 1;
        let tpl = self.deps[d].tpl.clone();
        let name = format!("{}-{}", self.deps[d].meta.name, tpl.hash);
        let meta = Meta {
            name: name.clone(),
            namespace: self.deps[d].meta.namespace.clone(),
            uid: self.uid(),
            resource_version: self.bump(),
            created: self.now,
            deletion: None,
        };
        let mut selector = self.deps[d].selector.clone();
        selector
            .match_labels
            .insert("pod-template-hash".into(), tpl.hash.clone());
        self.cluster.owner_selectors.push(OwnerSelector {
            namespace: meta.namespace.clone(),
            kind: "ReplicaSet".into(),
            name,
            selector,
        });
        let id = self.rss.len();
        self.rss.push(Rs {
            meta,
            dep: d,
            replicas: 0,
            tpl,
            revision: self.deps[d].revision,
            pods: Vec::new(),
            removed: false,
            desired_annotation: 0,
            max_annotation: 0,
        });
        self.deps[d].rss.push(id);
        self.scale_rs(id, replicas);
        id
    }

    /// One sync of the Deployment controller.
    pub(crate) fn sync_deployment(&mut self, d: DepId) {
        if self.deps[d].removed {
            return;
        }
        let rss: Vec<RsId> = self.deps[d]
            .rss
            .iter()
            .copied()
            .filter(|&r| !self.rss[r].removed)
            .collect();
        // isScalingEvent: an active ReplicaSet stamped with another size.
        let desired_now = self.deps[d].replicas;
        if rss
            .iter()
            .any(|&r| self.rss[r].replicas > 0 && self.rss[r].desired_annotation != desired_now)
        {
            let hash = self.deps[d].tpl.hash.clone();
            let new = rss.iter().copied().find(|&r| self.rss[r].tpl.hash == hash);
            self.proportional_scale(d, new, &rss);
            return;
        }
        let hash = self.deps[d].tpl.hash.clone();
        let new = rss.iter().copied().find(|&r| self.rss[r].tpl.hash == hash);
        let olds: Vec<RsId> = rss.iter().copied().filter(|&r| Some(r) != new).collect();
        let desired = self.deps[d].replicas;
        let min_ready = self.deps[d].min_ready;
        let (surge, unavailable) = {
            let dep = &self.deps[d];
            let s = dep.max_surge.scaled(desired, true);
            let u = dep.max_unavailable.scaled(desired, false);
            if dep.recreate {
                (0, desired)
            } else if s == 0 && u == 0 {
                (0, 1)
            } else {
                (s, u)
            }
        };
        let old_total: i32 = olds.iter().map(|&r| self.rss[r].replicas).sum();
        let old_pods: usize = olds
            .iter()
            .flat_map(|&r| &self.rss[r].pods)
            .filter(|&&p| !self.pods[p].removed)
            .count();
        if self.deps[d].recreate && old_total + old_pods as i32 > 0 && new.is_none() {
            // Recreate: every old pod gone before the new ReplicaSet exists.
            for &r in &olds {
                self.scale_rs(r, 0);
            }
            if old_pods > 0 {
                return;
            }
        }
        let new = match new {
            Some(n) => n,
            None => {
                let total: i32 = rss.iter().map(|&r| self.rss[r].replicas).sum();
                let start = if olds.is_empty() || self.deps[d].recreate {
                    desired
                } else {
                    (desired + surge - total).clamp(0, desired)
                };
                if !olds.is_empty() {
                    self.deps[d].rolling = true;
                }
                self.new_rs(d, start)
            }
        };
        if old_total == 0 {
            self.scale_rs(new, desired);
        } else {
            // NewRSNewReplicas.
            let total: i32 = old_total + self.rss[new].replicas;
            let cur = self.rss[new].replicas;
            if total < desired + surge {
                let up = (desired + surge - total).min(desired - cur);
                if up > 0 {
                    self.scale_rs(new, cur + up);
                }
            }
            self.reconcile_old(d, new, &olds, desired, unavailable, min_ready);
        }
        // Rollout complete: every old pod gone and the new ReplicaSet fully available.
        let old_pods: usize = olds
            .iter()
            .flat_map(|&r| &self.rss[r].pods)
            .filter(|&&p| !self.pods[p].removed)
            .count();
        let old_total: i32 = olds.iter().map(|&r| self.rss[r].replicas).sum();
        if self.deps[d].rolling
            && old_total == 0
            && old_pods == 0
            && self.rs_available(new, min_ready) >= desired
        {
            self.deps[d].rolling = false;
            let obj = format!("deployment/{}", self.deps[d].meta.name);
            let app = self.deps[d].app;
            let msg = format!(
                "rollout complete: replica set {} has all {desired} replicas available",
                self.rss[new].meta.name
            );
            self.event(false, "RolloutComplete", obj, Some(app), msg);
        }
        // Revision history: keep the newest `revisionHistoryLimit` idle old ReplicaSets.
        let idle: Vec<RsId> = olds
            .iter()
            .copied()
            .filter(|&r| {
                self.rss[r].replicas == 0 && self.rss[r].pods.iter().all(|&p| self.pods[p].removed)
            })
            .collect();
        let limit = self.deps[d].history_limit;
        if idle.len() > limit {
            for &r in &idle[..idle.len() - limit] {
                self.rss[r].removed = true;
                self.rss[r].meta.deletion = Some(self.now);
            }
        }
        // minReadySeconds: look again when a ready pod becomes available.
        if min_ready > 0 {
            let mut next: Option<Millis> = None;
            for &r in std::iter::once(&new).chain(&olds) {
                for &p in &self.rss[r].pods {
                    let pod = &self.pods[p];
                    if pod.serving_ready() && self.now < pod.ready_changed + min_ready {
                        let t = pod.ready_changed + min_ready;
                        next = Some(next.map_or(t, |n: Millis| n.min(t)));
                    }
                }
            }
            if let Some(t) = next {
                self.at(t, Ev::Resync(d));
            }
        }
    }

    /// `sync` → `scale` (`pkg/controller/deployment/sync.go`): a change of `replicas`
    /// mid-rollout is spread over the live ReplicaSets in proportion to their size
    /// (`GetProportion` with the max-replicas annotation), leftovers to the largest.
    fn proportional_scale(&mut self, d: DepId, new: Option<RsId>, rss: &[RsId]) {
        let desired = self.deps[d].replicas;
        let active: Vec<RsId> = rss
            .iter()
            .copied()
            .filter(|&r| self.rss[r].replicas > 0)
            .collect();
        // FindActiveOrLatest: one live ReplicaSet (or none: the newest) takes it all.
        if active.len() <= 1 {
            let target = active
                .first()
                .copied()
                .or(new)
                .or_else(|| rss.last().copied());
            if let Some(r) = target {
                self.scale_rs(r, desired);
            }
            return;
        }
        // A saturated new ReplicaSet: the old ones go to zero.
        if let Some(n) = new
            && self.rss[n].replicas == desired
            && self.rs_available(n, self.deps[d].min_ready) == desired
        {
            for &r in &active {
                if r != n {
                    self.scale_rs(r, 0);
                }
            }
            return;
        }
        if self.deps[d].recreate {
            return;
        }
        let total: i32 = active.iter().map(|&r| self.rss[r].replicas).sum();
        let allowed = if desired > 0 {
            desired + self.max_surge(d)
        } else {
            0
        };
        let to_add = allowed - total;
        let mut order = active.clone();
        // Larger first; among equals newer first when growing, older first when shrinking.
        if to_add > 0 {
            order.sort_by(|&a, &b| {
                self.rss[b]
                    .replicas
                    .cmp(&self.rss[a].replicas)
                    .then(b.cmp(&a))
            });
        } else {
            order.sort_by(|&a, &b| {
                self.rss[b]
                    .replicas
                    .cmp(&self.rss[a].replicas)
                    .then(a.cmp(&b))
            });
        }
        let mut added = 0;
        let mut sizes: Vec<i32> = Vec::with_capacity(order.len());
        for &r in &order {
            let size = self.rss[r].replicas;
            let proportion = if to_add == 0 || size == 0 || to_add == added {
                0
            } else {
                // getReplicaSetFraction.
                let fraction = if desired == 0 {
                    -size
                } else {
                    let before = self.rss[r].max_annotation;
                    if before == 0 {
                        desired - before
                    } else {
                        let scaled = f64::from(size) * f64::from(allowed) / f64::from(before);
                        (scaled.round() as i32) - size
                    }
                };
                let room = to_add - added;
                if to_add > 0 {
                    fraction.min(room)
                } else {
                    fraction.max(room)
                }
            };
            sizes.push(size + proportion);
            added += proportion;
        }
        if let Some(first) = sizes.first_mut() {
            *first = (*first + to_add - added).max(0);
        }
        for (&r, &size) in order.iter().zip(&sizes) {
            self.scale_rs(r, size);
        }
    }

    /// `reconcileOldReplicaSets`: unhealthy old pods first, then availability-bounded.
    fn reconcile_old(
        &mut self,
        d: DepId,
        new: RsId,
        olds: &[RsId],
        desired: i32,
        max_unavailable: i32,
        min_ready: Millis,
    ) {
        let _ = d;
        let old_total: i32 = olds.iter().map(|&r| self.rss[r].replicas).sum();
        if old_total == 0 {
            return;
        }
        let all_total = old_total + self.rss[new].replicas;
        let min_available = desired - max_unavailable;
        let new_unavailable = self.rss[new].replicas - self.rs_available(new, min_ready);
        let max_scaled_down = all_total - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return;
        }
        // Oldest first (`ReplicaSetsByCreationTimestamp`); the list is in creation order.
        let mut cleaned = 0;
        for &r in olds {
            if cleaned >= max_scaled_down {
                break;
            }
            let spec = self.rss[r].replicas;
            let avail = self.rs_available(r, min_ready);
            if spec == 0 || spec <= avail {
                continue;
            }
            let down = (max_scaled_down - cleaned).min(spec - avail);
            self.scale_rs(r, spec - down);
            cleaned += down;
        }
        let available: i32 = std::iter::once(new)
            .chain(olds.iter().copied())
            .map(|r| self.rs_available(r, min_ready))
            .sum();
        if available <= min_available {
            return;
        }
        let total_down = available - min_available;
        let mut done = 0;
        for &r in olds {
            if done >= total_down {
                break;
            }
            let spec = self.rss[r].replicas;
            if spec == 0 {
                continue;
            }
            let down = spec.min(total_down - done);
            self.scale_rs(r, spec - down);
            done += down;
        }
    }

    /// Deletes a Deployment; the garbage collector deletes what it owns (background
    /// propagation: its ReplicaSets, then their pods, each with its grace period).
    pub(crate) fn delete_deployment(&mut self, d: DepId) {
        if self.deps[d].removed {
            return;
        }
        self.deps[d].removed = true;
        self.deps[d].meta.deletion = Some(self.now);
        self.deps[d].meta.resource_version = self.bump();
        let app = self.deps[d].app;
        for rs in self.deps[d].rss.clone() {
            if self.rss[rs].removed {
                continue;
            }
            self.rss[rs].removed = true;
            self.rss[rs].replicas = 0;
            self.rss[rs].meta.deletion = Some(self.now);
            let msg = format!(
                "deleted replicaset/{}: its owner deployment/{} is gone",
                self.rss[rs].meta.name, self.deps[d].meta.name
            );
            self.event(
                false,
                "GarbageCollected",
                "garbage-collector".into(),
                Some(app),
                msg,
            );
            for p in self.rss[rs].pods.clone() {
                let grace = self.pods[p].tpl.grace;
                self.delete_pod(p, grace, false);
            }
        }
    }

    /// One sync of the ReplicaSet controller.
    pub(crate) fn sync_replicaset(&mut self, rs: RsId) {
        self.rss[rs].pods.retain(|&p| !self.pods[p].removed);
        if self.rss[rs].removed {
            return;
        }
        let active: Vec<PodId> = self.rss[rs]
            .pods
            .iter()
            .copied()
            .filter(|&p| self.active(p))
            .collect();
        let want = self.rss[rs].replicas.max(0) as usize;
        if active.len() < want {
            for _ in active.len()..want {
                self.create_pod(rs);
            }
        } else if active.len() > want {
            let doomed = self.pods_to_delete(rs, &active, active.len() - want);
            for p in doomed {
                let grace = self.pods[p].tpl.grace;
                self.delete_pod(p, grace, false);
            }
        }
    }

    /// Upstream's `getPodsToDelete`: the first `n` pods in `ActivePodsWithRanks` order.
    fn pods_to_delete(&self, rs: RsId, active: &[PodId], n: usize) -> Vec<PodId> {
        let dep = self.rss[rs].dep;
        // Rank: how many active pods of the same Deployment share the pod's node.
        let mut per_node: std::collections::BTreeMap<NodeId, i64> = Default::default();
        for &r in &self.deps[dep].rss {
            for &p in &self.rss[r].pods {
                if let Some(node) = self.pods[p].node
                    && self.active(p)
                {
                    *per_node.entry(node).or_default() += 1;
                }
            }
        }
        let log = |d: Millis| -> u32 { 64 - (d + 1).leading_zeros() };
        let now = self.now;
        let key = |&p: &PodId| {
            let pod = &self.pods[p];
            let phase = match pod.phase {
                Phase::Pending => 0,
                Phase::Running => 2,
                _ => 1,
            };
            let rank = pod
                .node
                .map_or(0, |n| per_node.get(&n).copied().unwrap_or(0));
            (
                pod.node.is_some(),
                phase,
                pod.ready,
                std::cmp::Reverse(rank),
                // Ready for less time first (log2 buckets: LogarithmicScaleDown).
                if pod.ready {
                    log(now - pod.ready_changed)
                } else {
                    0
                },
                std::cmp::Reverse(pod.restarts),
                log(now - pod.meta.created),
                std::cmp::Reverse(p),
            )
        };
        let mut ranked = active.to_vec();
        ranked.sort_by_key(key);
        ranked.truncate(n);
        ranked
    }

    fn create_pod(&mut self, rs: RsId) {
        let tpl = self.rss[rs].tpl.clone();
        let name = format!("{}-{}", self.rss[rs].meta.name, self.rng.name_suffix());
        let ns = self.rss[rs].meta.namespace.clone();
        let dep = self.rss[rs].dep;
        let app = self.deps[dep].app;
        let services: Vec<usize> = (0..self.svcs.len())
            .filter(|&s| {
                let svc = &self.svcs[s];
                svc.meta.namespace == ns
                    && !svc.selector.is_empty()
                    && svc
                        .selector
                        .iter()
                        .all(|(k, v)| tpl.labels.get(k) == Some(v))
            })
            .collect();
        let meta = Meta {
            name: name.clone(),
            namespace: ns,
            uid: self.uid(),
            resource_version: self.bump(),
            created: self.now,
            deletion: None,
        };
        let p = self.pods.len();
        self.pods.push(Pod {
            meta,
            app,
            rs: Some(rs),
            tpl,
            node: None,
            sched: None,
            phase: Phase::Pending,
            ready: false,
            ready_changed: self.now,
            restarts: 0,
            grace: 0,
            services: services.clone(),
            evicted: false,
            removed: false,
            rt: Runtime {
                generation: 0,
                admitted: None,
                container: Container::Waiting,
                serve: Serve::Absent,
                probe_ready: false,
                killing: false,
                drain_since: None,
                kill_at: None,
                crash_streak: 0,
                capacity: 1.0,
                overloaded_since: None,
                metric: None,
                unready_by_overload: false,
                probe_fails: (0, 0),
                inflight: Default::default(),
            },
        });
        for s in services {
            self.svcs[s].pods.insert(p);
        }
        self.rss[rs].pods.push(p);
        self.apps[app].stats.created += 1;
        let obj = format!("replicaset/{}", self.rss[rs].meta.name);
        self.event(
            false,
            "SuccessfulCreate",
            obj,
            Some(app),
            format!("Created pod: {name}"),
        );
        self.sched_queue.push(p);
        self.wake_scheduler(0);
    }

    /// The API's graceful deletion: a deletion timestamp, then the kubelet's turn.
    pub(crate) fn delete_pod(&mut self, p: PodId, grace: Millis, evicted: bool) {
        if self.pods[p].meta.deletion.is_some() || self.pods[p].removed {
            return;
        }
        let was = self.pods[p].serving_ready();
        self.pods[p].meta.deletion = Some(self.now);
        self.pods[p].meta.resource_version = self.bump();
        self.pods[p].grace = grace;
        let app = self.pods[p].app;
        if evicted {
            self.pods[p].evicted = true;
            self.apps[app].stats.evictions += 1;
        }
        if was {
            self.ready_delta(app, -1);
        }
        match self.pods[p].node {
            // An unscheduled pod has nothing to stop: it goes at once.
            None => self.remove_pod(p),
            Some(n) => {
                if let Some(i) = self.pods[p].sched {
                    self.cluster.set_terminating(i);
                }
                if self.nodes[n].health == Health::Up {
                    self.kill_start(p);
                }
            }
        }
        self.notify(Change::Pod(p));
    }

    /// The pod object leaves the API.
    pub(crate) fn remove_pod(&mut self, p: PodId) {
        if self.pods[p].removed {
            return;
        }
        if self.pods[p].serving_ready() {
            let app = self.pods[p].app;
            self.ready_delta(app, -1);
        }
        self.pods[p].removed = true;
        self.pods[p].meta.resource_version = self.bump();
        if let Some(n) = self.pods[p].node {
            self.nodes[n].pods.retain(|&q| q != p);
        }
        if let Some(i) = self.pods[p].sched.take() {
            self.cluster.remove_pod(i);
        }
        for i in 0..self.pods[p].services.len() {
            let s = self.pods[p].services[i];
            self.svcs[s].pods.remove(&p);
        }
        self.notify(Change::Pod(p));
        if !self.unschedulable.is_empty() {
            self.wake_scheduler(1_000);
        }
    }

    /// Sets the Ready condition in the API.
    pub(crate) fn set_pod_ready(&mut self, p: PodId, ready: bool) {
        if self.pods[p].ready == ready || self.pods[p].removed {
            return;
        }
        let was = self.pods[p].serving_ready();
        self.pods[p].ready = ready;
        self.pods[p].ready_changed = self.now;
        self.pods[p].meta.resource_version = self.bump();
        let is = self.pods[p].serving_ready();
        let app = self.pods[p].app;
        if was != is {
            self.ready_delta(app, if is { 1 } else { -1 });
        }
        self.notify(Change::Pod(p));
    }

    /// Ready replicas of an app changed: track the extremes, and start its traffic the
    /// first time every replica is ready.
    fn ready_delta(&mut self, app: usize, delta: i64) {
        let st = &mut self.apps[app].stats;
        st.ready += delta;
        st.max_ready = st.max_ready.max(st.ready);
        if st.steady_at.is_some() {
            st.min_ready = Some(st.min_ready.map_or(st.ready, |m| m.min(st.ready)));
            return;
        }
        let desired: i64 = self.apps[app]
            .deps
            .iter()
            .filter(|&&d| !self.deps[d].removed)
            .map(|&d| i64::from(self.deps[d].replicas))
            .sum();
        if self.apps[app].stats.ready >= desired {
            let now = self.now;
            let st = &mut self.apps[app].stats;
            st.steady_at = Some(now);
            st.min_ready = Some(st.ready);
            let desc = if self.apps[app].behaviour.rate > 0.0 {
                format!(
                    "all {desired} replicas ready; traffic starts once the load balancer knows them ({})",
                    crate::time::fmt_millis(self.sc.lb.propagation)
                )
            } else {
                format!("all {desired} replicas ready")
            };
            let name = self.apps[app].name.clone();
            self.apps[app].stats.placement = self.placement(app);
            self.event(false, "AppReady", format!("app/{name}"), Some(app), desc);
            let delay = self.sc.lb.propagation;
            self.after(delay, Ev::TrafficStart(app));
        }
    }

    /// Where an app's live pods run: (switch, node, pods).
    fn placement(&self, app: usize) -> Vec<(String, String, u32)> {
        let mut per: std::collections::BTreeMap<(String, String), u32> = Default::default();
        for pod in &self.pods {
            if pod.app != app || pod.removed || pod.meta.deletion.is_some() {
                continue;
            }
            if let Some(n) = pod.node {
                let switch = self.cluster.nodes[n]
                    .labels
                    .get(&self.switch_label)
                    .cloned()
                    .unwrap_or_default();
                *per.entry((switch, self.nodes[n].meta.name.clone()))
                    .or_default() += 1;
            }
        }
        per.into_iter().map(|((s, n), c)| (s, n, c)).collect()
    }

    /// Traffic to an app begins.
    pub(crate) fn start_traffic(&mut self, app: usize) {
        let rate = self.apps[app].behaviour.rate;
        for s in self.apps[app].svcs.clone() {
            self.svcs[s].accounted = self.now;
            self.set_rate(s, rate);
        }
    }

    /// metrics-server's scrape of the pods autoscalers watch (`--metric-resolution`).
    pub(crate) fn scrape_metrics(&mut self) {
        for h in 0..self.hpas.len() {
            let d = self.hpas[h].dep;
            for r in self.deps[d].rss.clone() {
                for p in self.rss[r].pods.clone() {
                    let pod = &self.pods[p];
                    if pod.removed || !matches!(pod.rt.container, Container::Running(_)) {
                        continue;
                    }
                    // A throttled process uses its limit, not its demand.
                    let u = self.cpu_usage(p);
                    let used = pod.tpl.cpu_limit.map_or(u, |l| u.min(l as f64)).round() as i64;
                    self.pods[p].rt.metric = Some((self.now, used));
                }
            }
        }
    }

    /// The autoscalers' periodic sync (upstream's `--horizontal-pod-autoscaler-sync-period`).
    pub(crate) fn sync_hpas(&mut self) {
        for h in 0..self.hpas.len() {
            let d = self.hpas[h].dep;
            if self.deps[d].removed {
                continue;
            }
            let mut samples = Vec::new();
            for &r in &self.deps[d].rss {
                for &p in &self.rss[r].pods {
                    let pod = &self.pods[p];
                    if pod.removed {
                        continue;
                    }
                    let running = matches!(pod.rt.container, Container::Running(_));
                    samples.push(crate::hpa::PodSample {
                        ready: pod.ready,
                        terminating: pod.meta.deletion.is_some(),
                        failed: false,
                        start_time: pod.rt.admitted.unwrap_or(pod.meta.created),
                        ready_transition: pod.rt.admitted.map(|_| pod.ready_changed),
                        request_milli: pod.tpl.sched.requests.milli_cpu,
                        // What metrics-server last scraped (nothing yet for a new container).
                        usage_milli: pod.rt.metric.filter(|_| running).map(|(_, u)| u),
                        metric_window_start: pod
                            .rt
                            .metric
                            .map_or(self.now, |(t, _)| t.saturating_sub(METRICS_RESOLUTION)),
                        pending: pod.phase == Phase::Pending,
                    });
                }
            }
            let current = self.deps[d].replicas;
            let mut state = std::mem::take(&mut self.hpas[h].state);
            let decision =
                crate::hpa::sync(&self.hpas[h].spec, current, &samples, self.now, &mut state);
            self.hpas[h].state = state;
            if decision.scaled && decision.desired != current {
                self.deps[d].replicas = decision.desired;
                self.deps[d].meta.resource_version = self.bump();
                let app = self.deps[d].app;
                self.apps[app].stats.rescales += 1;
                let obj = format!("horizontalpodautoscaler/{}", self.hpas[h].meta.name);
                let msg = format!(
                    "New size: {}; reason: {}",
                    decision.desired, decision.reason
                );
                self.event(false, "SuccessfulRescale", obj, Some(app), msg);
                self.notify(Change::Dep(d));
            }
        }
    }

    pub(crate) fn wake_scheduler(&mut self, delay: Millis) {
        if !self.schedule_pending {
            self.schedule_pending = true;
            self.after(delay, Ev::Schedule);
        }
    }

    /// The scheduler works through its queue, then retries the unschedulable pods.
    pub(crate) fn schedule(&mut self) {
        self.schedule_pending = false;
        let mut queue = std::mem::take(&mut self.sched_queue);
        queue.extend(std::mem::take(&mut self.unschedulable));
        queue.sort_unstable();
        queue.dedup();
        for p in queue {
            let pod = &self.pods[p];
            if pod.removed || pod.meta.deletion.is_some() || pod.node.is_some() {
                continue;
            }
            let mut info = pod.tpl.sched.clone();
            info.name = pod.meta.name.clone();
            info.namespace = pod.meta.namespace.clone();
            info.labels
                .insert("pod-template-hash".into(), pod.tpl.hash.clone());
            if let Some(rs) = pod.rs {
                info.owner = Some(("ReplicaSet".into(), self.rss[rs].meta.name.clone()));
            }
            let decision =
                schedule_quick(&self.cluster, &info, &self.profile, &mut self.sched_state);
            let app = self.pods[p].app;
            let obj = self.pod_ref(p);
            match decision
                .selected
                .as_deref()
                .and_then(|name| self.node_index(name))
            {
                Some(n) => {
                    let idx = self.cluster.pods.len();
                    self.cluster.bind(info, n);
                    self.pods[p].sched = Some(idx);
                    self.pods[p].node = Some(n);
                    self.pods[p].meta.resource_version = self.bump();
                    self.nodes[n].pods.push(p);
                    let msg = format!(
                        "Successfully assigned {}/{} to {}",
                        self.pods[p].meta.namespace,
                        self.pods[p].meta.name,
                        self.nodes[n].meta.name
                    );
                    self.event(false, "Scheduled", obj, Some(app), msg);
                    self.kubelet_sees(p);
                    self.notify(Change::Pod(p));
                }
                None => {
                    if self.unschedulable.insert(p) {
                        let msg = decision
                            .message
                            .unwrap_or_else(|| "no node fits".to_string());
                        self.event(true, "FailedScheduling", obj, Some(app), msg);
                    }
                }
            }
        }
    }

    fn node_index(&self, name: &str) -> Option<NodeId> {
        // Nodes are stored in the scheduler cache's order.
        self.cluster.node_index(name)
    }

    /// The time of the node's last Lease renewal.
    fn last_renewal(&self, n: NodeId) -> Millis {
        let node = &self.nodes[n];
        let until = if node.health == Health::Up {
            self.now
        } else {
            node.health_since
        };
        if until < node.lease_phase {
            return 0;
        }
        until - (until - node.lease_phase) % LEASE_RENEW
    }

    /// The node lifecycle controller's periodic pass.
    pub(crate) fn monitor_nodes(&mut self) {
        let grace = self.sc.control_plane.node_monitor_grace;
        for n in 0..self.nodes.len() {
            let stale = self.now.saturating_sub(self.last_renewal(n)) > grace;
            let obj = format!("node/{}", self.nodes[n].meta.name);
            if self.nodes[n].ready && stale {
                self.nodes[n].ready = false;
                self.nodes[n].ready_changed = self.now;
                self.nodes[n].meta.resource_version = self.bump();
                self.add_taint(n, "NoSchedule");
                self.nodes[n].queued_for_taint = true;
                self.event(
                    true,
                    "NodeNotReady",
                    obj,
                    None,
                    format!(
                        "Node {} status is now: NodeNotReady (Kubelet stopped posting node status)",
                        self.nodes[n].meta.name
                    ),
                );
                // MarkPodsNotReady.
                for p in self.nodes[n].pods.clone() {
                    self.set_pod_ready(p, false);
                }
                self.notify(Change::Node);
            } else if !self.nodes[n].ready && !stale && self.nodes[n].health == Health::Up {
                self.nodes[n].ready = true;
                self.nodes[n].ready_changed = self.now;
                self.nodes[n].meta.resource_version = self.bump();
                self.nodes[n].taints.retain(|t| t.key != UNREACHABLE);
                self.cluster.nodes[n]
                    .taints
                    .retain(|t| t.key != UNREACHABLE);
                self.nodes[n].queued_for_taint = false;
                self.nodes[n].no_execute_since = None;
                self.event(
                    false,
                    "NodeReady",
                    obj,
                    None,
                    format!("Node {} status is now: NodeReady", self.nodes[n].meta.name),
                );
                for p in self.nodes[n].pods.clone() {
                    self.report_status(p);
                }
                self.notify(Change::Node);
            }
        }
        self.taint_through_limiters();
        self.last_monitor = self.now;
    }

    fn add_taint(&mut self, n: NodeId, effect: &str) {
        let t = berth_scheduler::Taint {
            key: UNREACHABLE.into(),
            value: String::new(),
            effect: effect.into(),
        };
        if !self.nodes[n].taints.contains(&t) {
            self.nodes[n].taints.push(t.clone());
            self.cluster.nodes[n].taints.push(t);
        }
    }

    /// Zone states and their eviction rates, then NoExecute taints for the queued nodes.
    fn taint_through_limiters(&mut self) {
        let cp = self.sc.control_plane.clone();
        let mut zones: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
        for node in &self.nodes {
            let z = zones.entry(node.zone.clone()).or_default();
            z.0 += 1;
            if !node.ready {
                z.1 += 1;
            }
        }
        let all_down = zones.values().all(|&(total, down)| total == down);
        if all_down {
            // "Entering master disruption mode": every node NotReady means the controller
            // itself is likely cut off; it takes the NoExecute taints off and evicts nothing.
            let mut lifted = 0;
            for n in 0..self.nodes.len() {
                if self.nodes[n].no_execute_since.take().is_some() {
                    lifted += 1;
                    let gone = |t: &berth_scheduler::Taint| {
                        t.key == UNREACHABLE && t.effect == "NoExecute"
                    };
                    self.nodes[n].taints.retain(|t| !gone(t));
                    self.cluster.nodes[n].taints.retain(|t| !gone(t));
                }
            }
            if lifted > 0 {
                self.event(
                    true,
                    "MasterDisruption",
                    "kube-controller-manager".into(),
                    None,
                    format!("every node is NotReady: evictions stop and {lifted} NoExecute taints are lifted"),
                );
            }
        }
        // Like processTaintBaseEviction, every pass queues the NotReady nodes not yet tainted.
        for n in 0..self.nodes.len() {
            if !self.nodes[n].ready && self.nodes[n].no_execute_since.is_none() {
                self.nodes[n].queued_for_taint = true;
            }
        }
        let elapsed = (self.now - self.last_monitor) as f64 / 1000.0;
        for (zone, &(total, down)) in &zones {
            let full = total == down;
            let partial = !full
                && down > 2
                && f64::from(down) / f64::from(total) >= cp.unhealthy_zone_threshold;
            let rate = if all_down {
                0.0
            } else if partial {
                if total > cp.large_cluster_threshold {
                    cp.secondary_eviction_rate
                } else {
                    0.0
                }
            } else {
                cp.eviction_rate
            };
            let tokens = self.zone_tokens.entry(zone.clone()).or_insert(1.0);
            *tokens = (*tokens + rate * elapsed).min(1.0);
        }
        for n in 0..self.nodes.len() {
            if !self.nodes[n].queued_for_taint {
                continue;
            }
            let zone = self.nodes[n].zone.clone();
            let tokens = self.zone_tokens.entry(zone).or_insert(1.0);
            if *tokens < 1.0 {
                continue;
            }
            *tokens -= 1.0;
            self.nodes[n].queued_for_taint = false;
            self.nodes[n].no_execute_since = Some(self.now);
            self.add_taint(n, "NoExecute");
            let obj = format!("node/{}", self.nodes[n].meta.name);
            self.event(
                true,
                "TaintManagerEviction",
                obj,
                None,
                format!(
                    "tainted {UNREACHABLE}:NoExecute: its pods are evicted as their tolerations run out"
                ),
            );
            for p in self.nodes[n].pods.clone() {
                let tol = self.pods[p]
                    .tpl
                    .condition_tolerations
                    .iter()
                    .find(|(k, _)| k == UNREACHABLE)
                    .and_then(|(_, s)| *s);
                if let Some(secs) = tol {
                    self.after(secs, Ev::TaintEvict(p, n));
                } else if !self.pods[p]
                    .tpl
                    .condition_tolerations
                    .iter()
                    .any(|(k, _)| k == UNREACHABLE)
                {
                    self.after(0, Ev::TaintEvict(p, n));
                }
            }
        }
    }

    /// A pod's toleration ran out: the taint-eviction controller deletes it.
    pub(crate) fn taint_evict(&mut self, p: PodId, n: NodeId) {
        if self.nodes[n].no_execute_since.is_none()
            || self.pods[p].node != Some(n)
            || self.pods[p].removed
            || self.pods[p].meta.deletion.is_some()
        {
            return;
        }
        let grace = self.pods[p].tpl.grace;
        let msg = format!(
            "Marking for deletion Pod {}/{}",
            self.pods[p].meta.namespace, self.pods[p].meta.name
        );
        let obj = self.pod_ref(p);
        let app = self.pods[p].app;
        self.event(true, "TaintManagerEviction", obj, Some(app), msg);
        self.delete_pod(p, grace, true);
    }

    pub(crate) fn start_drain(&mut self, n: NodeId, timeout: Option<Millis>) {
        self.nodes[n].unschedulable = true;
        self.cluster.nodes[n].unschedulable = true;
        let obj = format!("node/{}", self.nodes[n].meta.name);
        self.event(
            false,
            "NodeNotSchedulable",
            obj,
            None,
            format!(
                "Node {} status is now: NodeNotSchedulable",
                self.nodes[n].meta.name
            ),
        );
        let i = self.drains.len();
        self.drains.push(Drain {
            node: n,
            deadline: timeout.map(|t| self.now + t),
            done: false,
            gave_up: false,
            blocked_reported: Default::default(),
        });
        self.after(0, Ev::DrainTick(i));
    }

    /// Disruptions a PDB allows now (`disruptionsAllowed`). Pods of one ReplicaSet share
    /// their labels, so the selector is matched once per ReplicaSet, not once per pod.
    fn disruptions_allowed(&self, b: usize) -> i64 {
        let pdb = &self.pdbs[b];
        let mut healthy = 0i64;
        let mut deps: std::collections::BTreeSet<DepId> = Default::default();
        for rs in &self.rss {
            if rs.meta.namespace != pdb.meta.namespace || rs.pods.is_empty() {
                continue;
            }
            let mut labels = rs.tpl.labels.clone();
            labels.insert("pod-template-hash".into(), rs.tpl.hash.clone());
            if !pdb.selector.matches(&labels) {
                continue;
            }
            let mut any = false;
            for &p in &rs.pods {
                let pod = &self.pods[p];
                if pod.removed {
                    continue;
                }
                any = true;
                if pod.serving_ready() {
                    healthy += 1;
                }
            }
            if any {
                deps.insert(rs.dep);
            }
        }
        let expected: i32 = deps.iter().map(|&d| self.deps[d].replicas).sum();
        let desired = match (pdb.min_available, pdb.max_unavailable) {
            (Some(m), _) => i64::from(m.scaled(expected, true)),
            (None, Some(u)) => i64::from(expected - u.scaled(expected, true)),
            (None, None) => 1,
        };
        healthy - desired
    }

    fn pdbs_for(&self, p: PodId) -> Vec<usize> {
        let pod = &self.pods[p];
        let mut labels = pod.tpl.labels.clone();
        labels.insert("pod-template-hash".into(), pod.tpl.hash.clone());
        (0..self.pdbs.len())
            .filter(|&b| {
                self.pdbs[b].meta.namespace == pod.meta.namespace
                    && !LabelSelector::is_empty(&self.pdbs[b].selector)
                    && self.pdbs[b].selector.matches(&labels)
            })
            .collect()
    }

    pub(crate) fn drain_tick(&mut self, i: usize) {
        if self.drains[i].done || self.drains[i].gave_up {
            return;
        }
        let n = self.drains[i].node;
        let pods: Vec<PodId> = self.nodes[n]
            .pods
            .iter()
            .copied()
            .filter(|&p| self.pods[p].meta.deletion.is_none())
            .collect();
        for p in pods {
            let blocked = self
                .pdbs_for(p)
                .into_iter()
                .find(|&b| self.disruptions_allowed(b) <= 0);
            let obj = self.pod_ref(p);
            let app = self.pods[p].app;
            match blocked {
                Some(b) => {
                    if self.drains[i].blocked_reported.insert(p) {
                        let msg = format!(
                            "Cannot evict pod as it would violate the pod's disruption budget (poddisruptionbudget/{} allows no disruption); kubectl drain retries every 5s",
                            self.pdbs[b].meta.name
                        );
                        self.event(true, "EvictionBlocked", obj, Some(app), msg);
                    }
                }
                None => {
                    let grace = self.pods[p].tpl.grace;
                    self.event(
                        false,
                        "Evicted",
                        obj,
                        Some(app),
                        "evicted by kubectl drain".into(),
                    );
                    self.delete_pod(p, grace, true);
                }
            }
        }
        let obj = format!("node/{}", self.nodes[n].meta.name);
        if self.nodes[n].pods.is_empty() {
            self.drains[i].done = true;
            let msg = format!("node {} drained", self.nodes[n].meta.name);
            self.event(false, "Drained", obj, None, msg);
            return;
        }
        if self.drains[i].deadline.is_some_and(|d| self.now >= d) {
            self.drains[i].gave_up = true;
            let left = self.nodes[n].pods.len();
            let msg = format!("kubectl drain timed out with {left} pods left on the node");
            self.event(true, "DrainTimeout", obj, None, msg);
            return;
        }
        self.after(5_000, Ev::DrainTick(i));
    }

    /// For tests: the pods an app has in the API now.
    pub fn live_pods(&self, app: &str) -> usize {
        self.pods
            .iter()
            .filter(|p| !p.removed && self.apps[p.app].name == app)
            .count()
    }
}
