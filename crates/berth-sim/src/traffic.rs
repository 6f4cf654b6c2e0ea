//! Traffic: requests at a rate per Service, spread round-robin over the endpoints the load
//! balancer knows, counted exactly per interval in which nothing changes.
//!
//! Between two changes (the balancer's endpoint set, a backend's state, the rate) every
//! backend either answers or does not, so the requests of the interval can be counted in one
//! step: `floor(rate·t)` requests have been sent by time `t`, and each interval's requests go
//! round-robin over the set. Nothing is simulated per request, which keeps an hour of 500
//! busy Services cheap. Before any change, the Service's traffic is counted up to now with
//! the old state.
//!
//! A request fails when it lands on a backend that does not answer: refused (nothing
//! listens: a 502 from the balancer), or no answer at all (the pod's sandbox or node is gone:
//! a 504), or when the process dies while the request is in flight (502, or 504 if the node
//! went down). With no endpoint at all the balancer answers 503. Passive health checks
//! follow nginx's `max_fails`/`fail_timeout`: a backend that failed `max_fails` times is left
//! out for `fail_timeout`, its share going to the others. Retries (nginx's
//! `proxy_next_upstream error timeout`) send a request that could not connect to the next
//! backends in turn; a request cut mid-flight is not retried (nginx does not retry a request
//! it has already sent unless told the method is idempotent).

use std::rc::Rc;

use crate::engine::{Ev, Sim};
use crate::world::{PodId, Serve, SvcId};

impl Sim {
    /// Changes what a pod answers, counting traffic up to now first.
    pub(crate) fn set_serve(&mut self, p: PodId, s: Serve) {
        if self.pods[p].rt.serve == s {
            return;
        }
        for i in 0..self.pods[p].services.len() {
            let svc = self.pods[p].services[i];
            if self.svcs[svc].lb.binary_search(&p).is_ok() {
                self.account(svc);
                if s == Serve::Accept {
                    self.svcs[svc].peers.remove(&p);
                }
            }
        }
        self.pods[p].rt.serve = s;
    }

    /// Sets a Service's request rate.
    pub(crate) fn set_rate(&mut self, s: SvcId, rate: f64) {
        self.account(s);
        self.svcs[s].rate = rate;
        self.svcs[s].rate_since = self.now;
        if self.per_request(s) {
            self.restart_arrivals(s);
        }
        let lb = self.svcs[s].lb.clone();
        for &p in lb.iter() {
            self.reassess(p);
        }
    }

    /// The balancer learns a new endpoint set.
    pub(crate) fn lb_update(&mut self, s: SvcId, set: Rc<Vec<PodId>>) {
        self.account(s);
        let old = self.svcs[s].lb.clone();
        let now = self.now;
        let slow = self.slow_start(s);
        let svc = &mut self.svcs[s];
        svc.peers.retain(|p, _| set.binary_search(p).is_ok());
        svc.joined.retain(|p, _| set.binary_search(p).is_ok());
        let mut joined_now = false;
        for &p in set.iter() {
            if old.binary_search(&p).is_err() {
                svc.joined.insert(p, now);
                joined_now = true;
            }
        }
        svc.rr = if set.is_empty() {
            0
        } else {
            svc.rr % set.len()
        };
        svc.lb = set.clone();
        if slow > 0 && joined_now {
            for k in 1..=3 {
                self.after(slow * k / 4, Ev::LbRamp(s));
            }
        }
        let mut touched: Vec<PodId> = old.iter().chain(set.iter()).copied().collect();
        touched.sort_unstable();
        touched.dedup();
        for p in touched {
            self.reassess(p);
        }
    }

    /// A slow-start step: new backends get more weight from now on.
    pub(crate) fn lb_ramp(&mut self, s: SvcId) {
        self.account(s);
        let lb = self.svcs[s].lb.clone();
        for &p in lb.iter() {
            self.reassess(p);
        }
    }

    /// The slow-start ramp of a Service's backends: the app's own, else the balancer's.
    fn slow_start(&self, s: SvcId) -> u64 {
        self.svcs[s]
            .app
            .and_then(|a| self.apps[a].behaviour.slow_start)
            .unwrap_or(self.sc.lb.slow_start)
    }

    /// A backend's weight at the balancer: nginx's `slow_start` ramp, in quarter steps,
    /// and, under a canary split, its version's share spread over that version's backends.
    /// With one version's backends only, they take everything: ingress-nginx sends a
    /// canary's share to the main backend when the canary has no endpoint.
    pub(crate) fn weight(&self, s: SvcId, p: PodId) -> f64 {
        let base = self.ramp(s, p);
        let Some((new, fraction)) = &self.svcs[s].split else {
            return base;
        };
        let is_new = |q: PodId| self.deployment_of(q).is_some_and(|d| d == new.as_str());
        let mine = is_new(p);
        let group: f64 = self.svcs[s]
            .lb
            .iter()
            .filter(|&&q| is_new(q) == mine)
            .map(|&q| self.ramp(s, q))
            .sum();
        let share = if mine { *fraction } else { 1.0 - fraction };
        if group <= 0.0 {
            return base;
        }
        base * share / group
    }

    /// nginx's `slow_start` ramp, in quarter steps.
    fn ramp(&self, s: SvcId, p: PodId) -> f64 {
        let slow = self.slow_start(s);
        if slow == 0 {
            return 1.0;
        }
        match self.svcs[s].joined.get(&p) {
            Some(&j) if self.now < j + slow => ((self.now - j) * 4 / slow + 1) as f64 / 4.0,
            _ => 1.0,
        }
    }

    /// The Deployment a pod belongs to (through its ReplicaSet).
    pub(crate) fn deployment_of(&self, p: PodId) -> Option<&str> {
        let rs = self.pods[p].rs?;
        Some(self.deps[self.rss[rs].dep].meta.name.as_str())
    }

    /// Requests per second each Deployment of `app` gets now, by Deployment name.
    pub fn version_rates(&self, app: &str) -> Vec<(String, f64)> {
        let mut out: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
        for (p, pod) in self.pods.iter().enumerate() {
            if pod.removed || self.apps[pod.app].name != app {
                continue;
            }
            if let Some(d) = self.deployment_of(p) {
                *out.entry(d.to_string()).or_insert(0.0) += self.backend_rate(p);
            }
        }
        out.into_iter().collect()
    }

    /// Sets (or, with `None`, removes) the canary split of Service `s`: `percent` of its
    /// requests to Deployment `new`'s pods.
    pub(crate) fn set_split(&mut self, s: SvcId, split: Option<(String, u32)>) {
        let split = split.map(|(d, pct)| (d, f64::from(pct.min(100)) / 100.0));
        if self.svcs[s].split == split {
            return;
        }
        self.account(s);
        self.svcs[s].split = split;
        let lb = self.svcs[s].lb.clone();
        for &p in lb.iter() {
            self.reassess(p);
        }
    }

    /// Requests per second a backend gets from all its Services now.
    pub(crate) fn backend_rate(&self, p: PodId) -> f64 {
        let mut rps = 0.0;
        for &s in &self.pods[p].services {
            let svc = &self.svcs[s];
            if svc.rate <= 0.0 || svc.lb.binary_search(&p).is_err() {
                continue;
            }
            let total: f64 = svc.lb.iter().map(|&q| self.weight(s, q)).sum();
            rps += svc.rate * self.weight(s, p) / total;
        }
        rps
    }

    /// CPU a pod's process uses now, in millicores.
    pub(crate) fn cpu_usage(&self, p: PodId) -> f64 {
        let pod = &self.pods[p];
        let b = &self.apps[pod.app].behaviour;
        // The extra cost fades in quarter steps over the warm-up (JIT compiling the hot
        // paths), so a ramp of traffic can keep pace with it.
        let warm = match pod.rt.container {
            crate::world::Container::Running(since) if self.now < since + b.warmup => {
                let quarters = ((self.now - since) * 4 / b.warmup) as f64;
                1.0 + (b.warmup_factor - 1.0) * (1.0 - quarters / 4.0)
            }
            _ => 1.0,
        };
        b.idle_cpu + self.backend_rate(p) * b.cpu_per_request * warm
    }

    /// Re-evaluates whether a process is CPU-throttled past its limit: beyond it, the
    /// requests it cannot serve in time fail (504), and its liveness probe times out.
    pub(crate) fn reassess(&mut self, p: PodId) {
        let Some(limit) = self.pods[p].tpl.cpu_limit else {
            return;
        };
        if self.apps[self.pods[p].app].behaviour.cpu_per_request <= 0.0
            || !matches!(
                self.pods[p].rt.container,
                crate::world::Container::Running(_)
            )
        {
            return;
        }
        let usage = self.cpu_usage(p);
        let cap = if usage > limit as f64 {
            limit as f64 / usage
        } else {
            1.0
        };
        if (cap - self.pods[p].rt.capacity).abs() < 1e-9 {
            return;
        }
        for i in 0..self.pods[p].services.len() {
            let s = self.pods[p].services[i];
            if self.svcs[s].lb.binary_search(&p).is_ok() {
                self.account(s);
            }
        }
        self.pods[p].rt.capacity = cap;
        if cap < 1.0 {
            if self.pods[p].rt.overloaded_since.is_none() {
                self.pods[p].rt.overloaded_since = Some(self.now);
                let app = self.pods[p].app;
                let obj = self.pod_ref(p);
                self.event(
                    true,
                    "Overloaded",
                    obj,
                    Some(app),
                    format!(
                        "CPU {usage:.0}m over its {limit}m limit: throttled, {:.0}% of requests time out",
                        (1.0 - cap) * 100.0
                    ),
                );
                self.plan_overload_kill(p);
            }
        } else {
            self.pods[p].rt.overloaded_since = None;
            self.overload_ended(p);
        }
    }

    /// The EndpointSlice controller publishes every endpoint with its conditions (ready:
    /// Ready and not terminating; serving: Ready; terminating: being deleted), and the
    /// balancer, one propagation delay later, routes to the ready ones, or, when there are
    /// none and it falls back like kube-proxy (KEP-1669), to the serving terminating ones.
    pub(crate) fn sync_endpoints(&mut self, s: SvcId) {
        let mut ready = Vec::new();
        let mut serving_terminating = Vec::new();
        for &p in &self.svcs[s].pods {
            let pod = &self.pods[p];
            if pod.removed || pod.node.is_none() || !pod.ready {
                continue;
            }
            if pod.meta.deletion.is_none() {
                ready.push(p);
            } else {
                serving_terminating.push(p);
            }
        }
        let routed = if ready.is_empty() && self.sc.lb.terminating_fallback {
            serving_terminating
        } else {
            ready
        };
        if routed != *self.svcs[s].published {
            let set = Rc::new(routed);
            self.svcs[s].published = set.clone();
            self.svcs[s].slice_version = self.bump();
            let delay = self.sc.lb.propagation;
            self.after(delay, Ev::LbUpdate(s, set));
        }
    }

    /// Counts a Service's traffic from where it was last counted up to now.
    pub(crate) fn account(&mut self, s: SvcId) {
        let (a, b) = (self.svcs[s].accounted, self.now);
        if b <= a {
            return;
        }
        self.svcs[s].accounted = b;
        if self.per_request(s) {
            return;
        }
        let rate = self.svcs[s].rate;
        let Some(app) = self.svcs[s].app else { return };
        if rate <= 0.0 {
            return;
        }
        let since = self.svcs[s].rate_since;
        let sent = |t: u64| (rate * (t - since) as f64 / 1000.0).floor() as u64;
        let n = sent(b) - sent(a);
        if n == 0 {
            return;
        }
        self.apps[app].stats.requests += n;
        let lb = self.svcs[s].lb.clone();
        let k = lb.len() as u64;
        if k == 0 {
            self.apps[app].stats.failed_503 += n;
            return;
        }
        let serve: Vec<Serve> = lb.iter().map(|&p| self.pods[p].rt.serve).collect();
        let any_accepts = serve.contains(&Serve::Accept);
        // Shares by weight (all 1 without slow start: plain round-robin); the remainder
        // goes one by one from the round-robin position.
        let weights: Vec<f64> = lb.iter().map(|&p| self.weight(s, p)).collect();
        let total: f64 = weights.iter().sum();
        let mut shares: Vec<u64> = weights
            .iter()
            .map(|w| (n as f64 * w / total).floor() as u64)
            .collect();
        let extra = n - shares.iter().sum::<u64>().min(n);
        let rr = self.svcs[s].rr as u64;
        for j in 0..extra {
            shares[((rr + j) % k) as usize] += 1;
        }
        let params = self.sc.lb.clone();
        let (mut f502, mut f504) = (0u64, 0u64);
        for (i, &p) in lb.iter().enumerate() {
            let c = shares[i];
            if serve[i] == Serve::Accept {
                let cap = self.pods[p].rt.capacity;
                if cap < 1.0 {
                    f504 += c - (c as f64 * cap).round() as u64;
                }
                continue;
            }
            let i = i as u64;
            if c == 0 {
                continue;
            }
            let mut failing = c;
            if params.max_fails > 0 {
                failing = self.passive(s, p, c, a, b);
                let diverted = c - failing;
                if !any_accepts {
                    // No live backend left: nginx answers 502.
                    f502 += diverted;
                }
            }
            let rescued = params.retries > 0
                && (1..=u64::from(params.retries).min(k - 1))
                    .any(|j| serve[((i + j) % k) as usize] == Serve::Accept);
            if rescued {
                continue;
            }
            match serve[i as usize] {
                Serve::Absent => f504 += failing,
                _ => f502 += failing,
            }
        }
        self.svcs[s].rr = ((rr + extra) % k) as usize;
        let st = &mut self.apps[app].stats;
        st.failed_502 += f502;
        st.failed_504 += f504;
    }

    /// How many of `c` requests sent to a failing backend over `[a, b)` it really gets,
    /// with nginx's passive health checks taking it out after `max_fails` failures.
    fn passive(&mut self, s: SvcId, p: PodId, c: u64, a: u64, b: u64) -> u64 {
        let max_fails = f64::from(self.sc.lb.max_fails);
        let fail_timeout = self.sc.lb.fail_timeout as f64;
        let per_ms = c as f64 / (b - a) as f64;
        let peer = self.svcs[s].peers.entry(p).or_default();
        let mut t = a.max(peer.down_until) as f64;
        let mut got = 0.0;
        while t < b as f64 {
            let need = max_fails - peer.fails;
            let dt = need / per_ms;
            if t + dt >= b as f64 {
                let x = (b as f64 - t) * per_ms;
                got += x;
                peer.fails += x;
                break;
            }
            got += need;
            peer.fails = 0.0;
            t += dt + fail_timeout;
            peer.down_until = t.ceil() as u64;
        }
        (got.round() as u64).min(c)
    }

    /// Requests in flight on a process that just died: the last `cut` milliseconds of its
    /// share of each Service's traffic.
    pub(crate) fn lose_in_flight(&mut self, p: PodId, cut: u64, node_down: bool) {
        for i in 0..self.pods[p].services.len() {
            let s = self.pods[p].services[i];
            let Some(app) = self.svcs[s].app else {
                continue;
            };
            let k = self.svcs[s].lb.len();
            if self.per_request(s)
                || self.svcs[s].rate <= 0.0
                || self.svcs[s].lb.binary_search(&p).is_err()
            {
                continue;
            }
            self.account(s);
            let lost = (self.svcs[s].rate / k as f64 * cut as f64 / 1000.0).floor() as u64;
            let st = &mut self.apps[app].stats;
            if node_down {
                st.failed_504 += lost;
            } else {
                st.failed_502 += lost;
            }
        }
    }
}
