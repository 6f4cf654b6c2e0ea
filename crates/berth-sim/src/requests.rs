//! Per-request traffic, for the apps whose scenario asks for it: Poisson arrivals from the
//! seed, each request routed by the balancer (round-robin, or by weight during a slow
//! start), retried on connection errors, counted against nginx's `max_fails`, and tracked in
//! flight on the pod it reached so that a process dying mid-request loses exactly the
//! requests it held. The counted model (`traffic.rs`) gives the same totals at any rate;
//! this one shows single requests and checks the other.

use crate::engine::{Ev, Sim};
use crate::world::{PodId, Serve, SvcId};

impl Sim {
    /// Whether a Service's traffic is simulated request by request.
    pub(crate) fn per_request(&self, s: SvcId) -> bool {
        self.svcs[s]
            .app
            .is_some_and(|a| self.apps[a].behaviour.per_request)
    }

    /// Starts (or restarts, after a rate change) the chain of arrivals.
    pub(crate) fn restart_arrivals(&mut self, s: SvcId) {
        self.svcs[s].arrivals += 1;
        self.svcs[s].next_arrival = self.now as f64;
        self.next_request(s);
    }

    fn next_request(&mut self, s: SvcId) {
        let rate = self.svcs[s].rate;
        if rate <= 0.0 {
            return;
        }
        // An exponential gap: 53 random bits as a uniform draw in (0, 1].
        let u = ((self.rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        self.svcs[s].next_arrival += -u.ln() * 1000.0 / rate;
        let at = self.svcs[s].next_arrival.floor() as u64;
        let chain = self.svcs[s].arrivals;
        self.at(at, Ev::Request(s, chain));
    }

    /// One request arrives at the balancer.
    pub(crate) fn request(&mut self, s: SvcId, chain: u32) {
        if chain != self.svcs[s].arrivals {
            return;
        }
        self.next_request(s);
        let Some(app) = self.svcs[s].app else { return };
        self.apps[app].stats.requests += 1;
        let lb = self.svcs[s].lb.clone();
        let k = lb.len();
        if k == 0 {
            self.apps[app].stats.failed_503 += 1;
            return;
        }
        let start = self.pick(s, &lb);
        let tries = 1 + self.sc.lb.retries as usize;
        let mut last = Serve::Refuse;
        let mut tried = 0;
        for i in 0..k {
            if tried == tries {
                break;
            }
            let p = lb[(start + i) % k];
            if self.peer_down(s, p) {
                continue;
            }
            tried += 1;
            match self.pods[p].rt.serve {
                Serve::Accept => {
                    let cap = self.pods[p].rt.capacity;
                    let unit = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    if cap < 1.0 && unit >= cap {
                        // Sent, then timed out on a throttled process: not retried.
                        self.apps[app].stats.failed_504 += 1;
                    } else {
                        let done = self.now + self.apps[app].behaviour.request;
                        let rt = &mut self.pods[p].rt;
                        while rt.inflight.front().is_some_and(|&t| t <= self.now) {
                            rt.inflight.pop_front();
                        }
                        rt.inflight.push_back(done);
                    }
                    return;
                }
                other => {
                    last = other;
                    self.peer_failed(s, p);
                }
            }
        }
        if tried == 0 {
            // Every backend is taken out by max_fails: "no live upstreams".
            self.apps[app].stats.failed_502 += 1;
        } else if last == Serve::Absent {
            self.apps[app].stats.failed_504 += 1;
        } else {
            self.apps[app].stats.failed_502 += 1;
        }
    }

    /// The backend a request goes to first: round-robin, or by weight during slow start.
    fn pick(&mut self, s: SvcId, lb: &[PodId]) -> usize {
        let weights: Vec<f64> = lb.iter().map(|&p| self.weight(s, p)).collect();
        if weights.iter().all(|&w| w >= 1.0) {
            let i = self.svcs[s].rr % lb.len();
            self.svcs[s].rr = (i + 1) % lb.len();
            return i;
        }
        let total: f64 = weights.iter().sum();
        let mut x = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        lb.len() - 1
    }

    fn peer_down(&self, s: SvcId, p: PodId) -> bool {
        self.sc.lb.max_fails > 0
            && self.svcs[s]
                .peers
                .get(&p)
                .is_some_and(|peer| self.now < peer.down_until)
    }

    fn peer_failed(&mut self, s: SvcId, p: PodId) {
        let max_fails = self.sc.lb.max_fails;
        if max_fails == 0 {
            return;
        }
        let now = self.now;
        let timeout = self.sc.lb.fail_timeout;
        let peer = self.svcs[s].peers.entry(p).or_default();
        peer.fails += 1.0;
        if peer.fails >= f64::from(max_fails) {
            peer.fails = 0.0;
            peer.down_until = now + timeout;
        }
    }

    /// A process ended: the requests it still held fail.
    pub(crate) fn drop_in_flight(&mut self, p: PodId, node_down: bool) {
        let now = self.now;
        let lost = self.pods[p]
            .rt
            .inflight
            .drain(..)
            .filter(|&t| t > now)
            .count() as u64;
        if lost == 0 {
            return;
        }
        let app = self.pods[p].app;
        let st = &mut self.apps[app].stats;
        if node_down {
            st.failed_504 += lost;
        } else {
            st.failed_502 += lost;
        }
    }
}
