//! PodTopologySpread: `DoNotSchedule` constraints filter nodes whose domain would exceed
//! `maxSkew`; `ScheduleAnyway` constraints (or the system defaults) score emptier domains
//! higher (`podtopologyspread/filtering.go`, `scoring.go`).
//!
//! Domains are numbered once per topology key ([`Cluster::topology`]) and pods are counted
//! only in the incoming pod's namespace, so a cycle costs O(nodes + pods of the namespace).

use std::rc::Rc;

use crate::model::{
    Cluster, LabelSelector, NodeInfo, PodInfo, SelectorCounts, SpreadConstraint, TopologyIndex,
};
use crate::plugins::{node_affinity, taint_toleration};

/// Plugin name.
pub const NAME: &str = "PodTopologySpread";
/// Upstream's reason when a domain would be too full.
pub const REASON: &str = "node(s) didn't match pod topology spread constraints";
/// Upstream's reason when the node lacks a constraint's topology label.
pub const REASON_MISSING_LABEL: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";
const HOSTNAME: &str = "kubernetes.io/hostname";

/// Whether a node counts for a constraint under its node inclusion policies.
fn included(c: &SpreadConstraint, pod: &PodInfo, node: &NodeInfo) -> bool {
    let affinity_free = pod.node_selector.is_empty() && pod.required_terms.is_none();
    (!c.honor_node_affinity || affinity_free || node_affinity::required_match(pod, node))
        && (!c.honor_node_taints || taint_toleration::filter(pod, node).is_ok())
}

/// Per-constraint domain counts.
#[derive(Debug, Clone)]
struct Counted {
    index: Rc<TopologyIndex>,
    /// Matching pods per domain id.
    counts: Vec<i64>,
    /// Whether the domain is part of the calculation.
    present: Vec<bool>,
    /// Matching pods per node, over every node (eligible or not): what the hostname
    /// constraint scores by, fetched once here rather than once per scored node.
    per_node: SelectorCounts,
}

impl Counted {
    fn domains(&self) -> usize {
        self.present.iter().filter(|p| **p).count()
    }

    fn min(&self) -> i64 {
        self.counts
            .iter()
            .zip(&self.present)
            .filter(|(_, p)| **p)
            .map(|(c, _)| *c)
            .min()
            .unwrap_or(0)
    }
}

/// Counts, for each constraint, the matching pods of the pod's namespace on eligible nodes
/// (nodes carrying every key of `keys` and passing the constraint's inclusion policies).
/// Domains are those of eligible nodes, or the ones given in `present`.
fn count(
    cluster: &Cluster,
    pod: &PodInfo,
    constraints: &[SpreadConstraint],
    keys: &[Rc<TopologyIndex>],
    present: Option<Vec<Vec<bool>>>,
) -> Vec<Counted> {
    let eligible = |c: &SpreadConstraint, i: usize| {
        keys.iter().all(|k| k.domain_of[i].is_some()) && included(c, pod, &cluster.nodes[i])
    };
    let mut out = Vec::with_capacity(constraints.len());
    for (ci, c) in constraints.iter().enumerate() {
        let index = cluster.topology(&c.topology_key);
        let present = match &present {
            Some(p) => p[ci].clone(),
            None => {
                let mut p = vec![false; index.domains.len()];
                for (i, d) in index.domain_of.iter().enumerate() {
                    if let Some(d) = d
                        && !p[*d as usize]
                        && eligible(c, i)
                    {
                        p[*d as usize] = true;
                    }
                }
                p
            }
        };
        let mut counts = vec![0i64; index.domains.len()];
        let per_node = cluster.matching_per_node(&pod.namespace, &c.selector);
        // Only pods in a present domain count, so with none present (the hostname
        // constraint when scoring) there is nothing to walk.
        if present.contains(&true) {
            for (ni, &n) in per_node.borrow().iter().enumerate() {
                let Some(d) = index.domain_of[ni] else {
                    continue;
                };
                // The cheap tests first: eligibility is pure, so skipping it for nodes
                // that would not count anyway changes nothing.
                if n > 0 && present[d as usize] && eligible(c, ni) {
                    counts[d as usize] += n;
                }
            }
        }
        out.push(Counted {
            index,
            counts,
            present,
            per_node,
        });
    }
    out
}

/// What PreFilter counts for the hard constraints.
#[derive(Debug, Clone)]
pub struct FilterState {
    constraints: Vec<SpreadConstraint>,
    counted: Vec<Counted>,
    /// Per constraint, the global minimum the skew is measured from (0 below
    /// `minDomains`): the same for every node, so computed once.
    min_match: Vec<i64>,
    /// Per constraint, 1 when the incoming pod matches its own selector (it would count in
    /// the domain it lands in).
    own: Vec<i64>,
}

/// PreFilter: `None` (Skip) when the pod has no `DoNotSchedule` constraint.
pub fn pre_filter(cluster: &Cluster, pod: &PodInfo) -> Option<FilterState> {
    let constraints: Vec<SpreadConstraint> =
        pod.spread.iter().filter(|c| c.hard).cloned().collect();
    if constraints.is_empty() {
        return None;
    }
    let keys: Vec<Rc<TopologyIndex>> = constraints
        .iter()
        .map(|c| cluster.topology(&c.topology_key))
        .collect();
    let counted = count(cluster, pod, &constraints, &keys, None);
    let min_match = constraints
        .iter()
        .zip(&counted)
        .map(|(c, k)| {
            if (k.domains() as i64) < c.min_domains {
                0
            } else {
                k.min()
            }
        })
        .collect();
    let own = constraints
        .iter()
        .map(|c| i64::from(c.selector.matches(&pod.labels)))
        .collect();
    Some(FilterState {
        constraints,
        counted,
        min_match,
        own,
    })
}

/// Filter for node `i`.
pub fn filter(state: &FilterState, i: usize) -> Result<(), Vec<String>> {
    for (((c, k), min_match), own) in state
        .constraints
        .iter()
        .zip(&state.counted)
        .zip(&state.min_match)
        .zip(&state.own)
    {
        let Some(d) = k.index.domain_of[i] else {
            return Err(vec![REASON_MISSING_LABEL.into()]);
        };
        let skew = k.counts[d as usize] + own - min_match;
        if skew > c.max_skew {
            return Err(vec![REASON.into()]);
        }
    }
    Ok(())
}

/// What PreScore computes for the soft constraints.
#[derive(Debug, Clone)]
pub struct ScoreState {
    constraints: Vec<SpreadConstraint>,
    /// By node index: feasible nodes lacking a constraint's key, which score 0.
    ignored: Vec<bool>,
    /// Per constraint: whether it spreads over hostnames (counted per node, not by domain).
    by_host: Vec<bool>,
    weights: Vec<f64>,
    counted: Vec<Counted>,
}

/// The system default constraints (hostname maxSkew 3, zone maxSkew 5, both
/// ScheduleAnyway), for pods with no constraints of their own.
fn system_defaults(selector: LabelSelector) -> Vec<SpreadConstraint> {
    [(HOSTNAME, 3), ("topology.kubernetes.io/zone", 5)]
        .into_iter()
        .map(|(key, skew)| SpreadConstraint {
            max_skew: skew,
            topology_key: key.into(),
            hard: false,
            selector: selector.clone(),
            min_domains: 1,
            honor_node_affinity: true,
            honor_node_taints: false,
        })
        .collect()
}

/// PreScore over the feasible nodes (indexes into `cluster.nodes`); `None` (Skip) when
/// there is no soft constraint.
pub fn pre_score(cluster: &Cluster, pod: &PodInfo, feasible: &[usize]) -> Option<ScoreState> {
    let own = !pod.spread.is_empty();
    let constraints: Vec<SpreadConstraint> = if own {
        pod.spread.iter().filter(|c| !c.hard).cloned().collect()
    } else {
        cluster
            .default_spread_selector(pod)
            .map(system_defaults)
            .unwrap_or_default()
    };
    if constraints.is_empty() {
        return None;
    }
    let indexes: Vec<Rc<TopologyIndex>> = constraints
        .iter()
        .map(|c| cluster.topology(&c.topology_key))
        .collect();
    let keys: &[Rc<TopologyIndex>] = if own { &indexes } else { &[] };
    let by_host: Vec<bool> = constraints
        .iter()
        .map(|c| c.topology_key == HOSTNAME)
        .collect();
    let mut ignored = vec![false; cluster.nodes.len()];
    let mut ignored_count = 0;
    // Domains come from the feasible nodes; the hostname constraint counts per node instead.
    let mut present: Vec<Vec<bool>> = indexes
        .iter()
        .map(|ix| vec![false; ix.domains.len()])
        .collect();
    for &i in feasible {
        if keys.iter().any(|k| k.domain_of[i].is_none()) {
            // `feasible` names each node once, so this counts distinct nodes.
            ignored[i] = true;
            ignored_count += 1;
            continue;
        }
        for ((host, ix), p) in by_host.iter().zip(&indexes).zip(present.iter_mut()) {
            if !host && let Some(d) = ix.domain_of[i] {
                p[d as usize] = true;
            }
        }
    }
    let weights = by_host
        .iter()
        .zip(&present)
        .map(|(host, p)| {
            let size = if *host {
                feasible.len() - ignored_count
            } else {
                p.iter().filter(|x| **x).count()
            };
            ((size + 2) as f64).ln()
        })
        .collect();
    let counted = count(cluster, pod, &constraints, keys, Some(present));
    Some(ScoreState {
        constraints,
        ignored,
        by_host,
        weights,
        counted,
    })
}

/// Raw score of node `i`: lower means a better spread.
pub fn score(state: &ScoreState, i: usize) -> i64 {
    if state.ignored[i] {
        return 0;
    }
    let mut s = 0.0;
    for (((c, k), w), host) in state
        .constraints
        .iter()
        .zip(&state.counted)
        .zip(&state.weights)
        .zip(&state.by_host)
    {
        let Some(d) = k.index.domain_of[i] else {
            continue;
        };
        let cnt = if *host {
            k.per_node.borrow()[i]
        } else {
            k.counts[d as usize]
        };
        s += cnt as f64 * w + (c.max_skew - 1) as f64;
    }
    s.round() as i64
}

/// NormalizeScore: fewer matching pods scores higher; ignored nodes score 0.
pub fn normalize(state: &ScoreState, nodes: &[usize], scores: &mut [i64]) {
    let live: Vec<i64> = nodes
        .iter()
        .zip(scores.iter())
        .filter(|(i, _)| !state.ignored[**i])
        .map(|(_, s)| *s)
        .collect();
    let (min, max) = (
        live.iter().copied().min().unwrap_or(0),
        live.iter().copied().max().unwrap_or(0),
    );
    for (i, s) in nodes.iter().zip(scores.iter_mut()) {
        *s = if state.ignored[*i] {
            0
        } else if max == 0 {
            100
        } else {
            100 * (max + min - *s) / max
        };
    }
}
