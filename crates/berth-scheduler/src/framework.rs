//! One scheduling cycle: filter in profile order, score, normalize, weight, pick the host.

use std::collections::BTreeMap;

use crate::model::{Cluster, NodeInfo, PodInfo};
use crate::plugins::{
    balanced_allocation, default_normalize, image_locality, inter_pod_affinity, node_affinity,
    node_name, node_ports, node_resources_fit, node_unschedulable, pod_topology_spread,
    taint_toleration,
};

/// A scheduling profile: which plugins run, their weights and arguments, as a
/// `KubeSchedulerConfiguration` profile would say.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Filter plugins, in order (the first that fails gives a node's reasons).
    pub filters: Vec<&'static str>,
    /// Score plugins and their weights.
    pub scores: Vec<(&'static str, i64)>,
    /// NodeResourcesFit arguments.
    pub fit: node_resources_fit::FitArgs,
    /// BalancedAllocation formula.
    pub balanced: balanced_allocation::Formula,
    /// BalancedAllocation resources.
    pub balanced_resources: Vec<String>,
    /// `percentageOfNodesToScore` (0: adaptive).
    pub percentage_of_nodes_to_score: i64,
}

/// The default profile's filter plugins berth models, in the order they run.
pub(crate) const DEFAULT_FILTERS: [&str; 8] = [
    node_unschedulable::NAME,
    node_name::NAME,
    taint_toleration::NAME,
    node_affinity::NAME,
    node_ports::NAME,
    node_resources_fit::NAME,
    pod_topology_spread::NAME,
    inter_pod_affinity::NAME,
];

/// The default profile's score plugins berth models, with their weights.
pub(crate) const DEFAULT_SCORES: [(&str, i64); 7] = [
    (taint_toleration::NAME, 3),
    (node_affinity::NAME, 2),
    (node_resources_fit::NAME, 1),
    (pod_topology_spread::NAME, 2),
    (inter_pod_affinity::NAME, 2),
    (balanced_allocation::NAME, 1),
    (image_locality::NAME, 1),
];

impl Default for Profile {
    /// The default profile of kube-scheduler v1.35 (`apis/config/v1/default_plugins.go`),
    /// restricted to the plugins berth models (see the crate documentation).
    fn default() -> Self {
        Self {
            filters: DEFAULT_FILTERS.to_vec(),
            scores: DEFAULT_SCORES.to_vec(),
            fit: node_resources_fit::FitArgs::default(),
            balanced: balanced_allocation::Formula::Current,
            balanced_resources: vec!["cpu".into(), "memory".into()],
            percentage_of_nodes_to_score: 0,
        }
    }
}

/// One plugin's score for one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginScore {
    /// What the plugin's Score returned.
    pub raw: i64,
    /// After NormalizeScore (0–100).
    pub normalized: i64,
}

impl NodeResult {
    /// One plugin's score, if it scored this node.
    pub fn score(&self, plugin: &str) -> Option<PluginScore> {
        self.scores
            .iter()
            .find(|(p, _)| *p == plugin)
            .map(|(_, s)| *s)
    }
}

/// What the cycle found for one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeResult {
    /// Node name.
    pub name: std::sync::Arc<str>,
    /// Whether every filter passed.
    pub feasible: bool,
    /// The failing filter's reasons, in kube-scheduler's words.
    pub reasons: Vec<String>,
    /// The failing filter plugin.
    pub failed_plugin: Option<&'static str>,
    /// Whether it was among the nodes scored (kube-scheduler stops searching after
    /// `numFeasibleNodesToFind` feasible nodes).
    pub scored: bool,
    /// Score per plugin, in profile order (only for scored nodes).
    pub scores: Vec<(&'static str, PluginScore)>,
    /// Σ weight × normalized score.
    pub total: i64,
    /// 1 for the best scored node; ties share a rank.
    pub rank: Option<usize>,
}

/// The outcome of one scheduling cycle, with the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Every node, in the order they were evaluated.
    pub nodes: Vec<NodeResult>,
    /// The chosen node.
    pub selected: Option<String>,
    /// Plugins that skipped this pod (they score 0 everywhere).
    pub skipped: Vec<&'static str>,
    /// kube-scheduler's FailedScheduling message when no node fits.
    pub message: Option<String>,
}

/// The scheduler's state across cycles: where the next search starts, and the random
/// source for ties (seeded, so a run is repeatable).
#[derive(Debug, Clone)]
pub struct State {
    next_start: usize,
    rng: u64,
}

impl State {
    /// A state with a seed.
    pub fn new(seed: u64) -> Self {
        Self {
            next_start: 0,
            rng: seed,
        }
    }

    /// splitmix64.
    fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// `numFeasibleNodesToFind` (`schedule_one.go`): all nodes below 100; otherwise the
/// percentage (adaptive `50 − n/125`, at least 5, when 0) of them, at least 100.
pub fn num_feasible_nodes_to_find(percentage: i64, n: usize) -> usize {
    if n < 100 {
        return n;
    }
    let mut pct = percentage;
    if pct == 0 {
        pct = (50 - n as i64 / 125).max(5);
    }
    ((n as i64 * pct / 100) as usize).max(100)
}

/// Upstream's reason for nodes a PreFilter result leaves out.
pub const PREFILTER_REASON: &str = "node(s) didn't satisfy plugin(s) [NodeAffinity]";

/// The node names a pod's required node affinity pins, when every term pins some.
fn node_name_subset(pod: &PodInfo) -> Option<std::collections::HashSet<String>> {
    let terms = pod.required_terms.as_ref()?;
    let mut union = std::collections::HashSet::new();
    for t in terms {
        let mut names: Option<std::collections::HashSet<String>> = None;
        for r in t
            .match_fields
            .iter()
            .filter(|r| r.key == "metadata.name" && r.operator == "In")
        {
            let these: std::collections::HashSet<String> = r.values.iter().cloned().collect();
            names = Some(match names {
                None => these,
                Some(prev) => prev.intersection(&these).cloned().collect(),
            });
        }
        union.extend(names?);
    }
    Some(union)
}

/// What PreFilter computed once for the cycle.
struct PreFiltered {
    spread: Option<pod_topology_spread::FilterState>,
    affinity: Option<inter_pod_affinity::FilterState>,
}

/// A plugin of the profile, resolved from its name once per cycle so that the per-node
/// loops dispatch on a tag instead of comparing strings. A name berth does not model
/// resolves to `Unknown`, which passes every node and scores 0, as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plugin {
    NodeUnschedulable,
    NodeName,
    TaintToleration,
    NodeAffinity,
    NodePorts,
    NodeResourcesFit,
    PodTopologySpread,
    InterPodAffinity,
    BalancedAllocation,
    ImageLocality,
    Unknown,
}

impl Plugin {
    fn of(name: &str) -> Plugin {
        match name {
            node_unschedulable::NAME => Plugin::NodeUnschedulable,
            node_name::NAME => Plugin::NodeName,
            taint_toleration::NAME => Plugin::TaintToleration,
            node_affinity::NAME => Plugin::NodeAffinity,
            node_ports::NAME => Plugin::NodePorts,
            node_resources_fit::NAME => Plugin::NodeResourcesFit,
            pod_topology_spread::NAME => Plugin::PodTopologySpread,
            inter_pod_affinity::NAME => Plugin::InterPodAffinity,
            balanced_allocation::NAME => Plugin::BalancedAllocation,
            image_locality::NAME => Plugin::ImageLocality,
            _ => Plugin::Unknown,
        }
    }
}

fn run_filter(
    pre: &PreFiltered,
    plugin: Plugin,
    pod: &PodInfo,
    i: usize,
    node: &NodeInfo,
) -> Result<(), Vec<String>> {
    match plugin {
        Plugin::PodTopologySpread => match &pre.spread {
            Some(st) => pod_topology_spread::filter(st, i),
            None => Ok(()),
        },
        Plugin::InterPodAffinity => match &pre.affinity {
            Some(st) => inter_pod_affinity::filter(st, pod, node),
            None => Ok(()),
        },
        Plugin::NodeUnschedulable => node_unschedulable::filter(pod, node),
        Plugin::NodeName => node_name::filter(pod, node),
        Plugin::TaintToleration => taint_toleration::filter(pod, node),
        Plugin::NodeAffinity => node_affinity::filter(pod, node),
        Plugin::NodePorts => node_ports::filter(pod, node),
        Plugin::NodeResourcesFit => node_resources_fit::filter(pod, node),
        // Score-only plugins have no filter.
        Plugin::BalancedAllocation | Plugin::ImageLocality | Plugin::Unknown => Ok(()),
    }
}

/// A score plugin's raw score for each of `nodes` (indexes into the cluster's nodes).
fn each(nodes: &[usize], score: impl Fn(usize) -> i64) -> Vec<i64> {
    nodes.iter().map(|&i| score(i)).collect()
}

/// One score plugin's results over the feasible nodes, in their order.
struct Column {
    plugin: &'static str,
    weight: i64,
    raw: Vec<i64>,
    normalized: Vec<i64>,
}

/// Runs one cycle for `pod` over `cluster`. Every node is filtered so that each can be
/// explained; like kube-scheduler, only the first `numFeasibleNodesToFind` feasible nodes
/// from the rotating start index are scored and eligible.
pub fn schedule(
    cluster: &Cluster,
    pod: &PodInfo,
    profile: &Profile,
    state: &mut State,
) -> Decision {
    cycle(cluster, pod, profile, state, true)
}

/// Like [`schedule`], but stops filtering once `numFeasibleNodesToFind` nodes fit, as
/// kube-scheduler does: the same choice, without evidence for the nodes it never looked at.
pub fn schedule_quick(
    cluster: &Cluster,
    pod: &PodInfo,
    profile: &Profile,
    state: &mut State,
) -> Decision {
    cycle(cluster, pod, profile, state, false)
}

fn cycle(
    cluster: &Cluster,
    pod: &PodInfo,
    profile: &Profile,
    state: &mut State,
    explain_all: bool,
) -> Decision {
    let n = cluster.nodes.len();
    // NodeAffinity's PreFilter: terms that all pin `metadata.name` narrow the search to
    // those nodes (names intersected within a term, united across terms); the others are
    // not evaluated (`schedule_one.go` findNodesThatFitPod, PreFilterResult).
    let subset = if profile.filters.contains(&node_affinity::NAME) {
        node_name_subset(pod)
    } else {
        None
    };
    let candidates = subset.as_ref().map_or(n, |s| {
        cluster
            .nodes
            .iter()
            .filter(|nd| s.contains(&*nd.name))
            .count()
    });
    let want = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, candidates);
    let start = if n == 0 { 0 } else { state.next_start % n };
    let pre = PreFiltered {
        spread: profile
            .filters
            .contains(&pod_topology_spread::NAME)
            .then(|| pod_topology_spread::pre_filter(cluster, pod))
            .flatten(),
        affinity: profile
            .filters
            .contains(&inter_pod_affinity::NAME)
            .then(|| inter_pod_affinity::pre_filter(cluster, pod))
            .flatten(),
    };
    let filters: Vec<(&'static str, Plugin)> = profile
        .filters
        .iter()
        .map(|&f| (f, Plugin::of(f)))
        .collect();
    let mut results = Vec::with_capacity(n);
    let mut feasible_idx = Vec::new();
    let mut processed = 0;
    for k in 0..n {
        if !explain_all && feasible_idx.len() >= want {
            break;
        }
        let i = (start + k) % n;
        let node = &cluster.nodes[i];
        let mut r = NodeResult {
            name: node.name.clone(),
            feasible: true,
            reasons: Vec::new(),
            failed_plugin: None,
            scored: false,
            scores: Vec::new(),
            total: 0,
            rank: None,
        };
        if subset.as_ref().is_some_and(|s| !s.contains(&*node.name)) {
            r.feasible = false;
            r.reasons = vec![PREFILTER_REASON.into()];
            r.failed_plugin = Some(node_affinity::NAME);
            results.push(r);
            continue;
        }
        for &(f, plugin) in &filters {
            if let Err(reasons) = run_filter(&pre, plugin, pod, i, node) {
                r.feasible = false;
                r.reasons = reasons;
                r.failed_plugin = Some(f);
                break;
            }
        }
        if feasible_idx.len() < want {
            processed += 1;
            if r.feasible {
                feasible_idx.push(results.len());
                r.scored = true;
            }
        }
        results.push(r);
    }
    if n > 0 {
        state.next_start = (start + processed) % n;
    }
    let mut skipped = Vec::new();
    if feasible_idx.is_empty() {
        return Decision {
            message: Some(fit_error(n, &results)),
            nodes: results,
            selected: None,
            skipped,
        };
    }
    let node_index = |ri: usize| (start + ri) % n;
    let feasible_nodes: Vec<usize> = feasible_idx.iter().map(|&ri| node_index(ri)).collect();
    let spread = &cluster.image_nodes;
    let spread_state = pod_topology_spread::pre_score(cluster, pod, &feasible_nodes);
    let affinity_state = inter_pod_affinity::pre_score(cluster, pod);
    let mut columns: Vec<Column> = Vec::with_capacity(profile.scores.len());
    for &(plugin, weight) in &profile.scores {
        let kind = Plugin::of(plugin);
        if (kind == Plugin::PodTopologySpread && spread_state.is_none())
            || (kind == Plugin::InterPodAffinity && affinity_state.is_none())
        {
            skipped.push(plugin);
            continue;
        }
        if kind == Plugin::BalancedAllocation
            && balanced_allocation::skips(pod, profile.balanced, &profile.balanced_resources)
        {
            skipped.push(plugin);
            continue;
        }
        if kind == Plugin::NodeAffinity && pod.preferred_terms.is_empty() {
            skipped.push(plugin);
            continue;
        }
        let nodes = &cluster.nodes;
        let raw: Vec<i64> = match kind {
            Plugin::TaintToleration => {
                each(&feasible_nodes, |i| taint_toleration::score(pod, &nodes[i]))
            }
            Plugin::NodeAffinity => each(&feasible_nodes, |i| node_affinity::score(pod, &nodes[i])),
            Plugin::NodeResourcesFit => each(&feasible_nodes, |i| {
                node_resources_fit::score(pod, &nodes[i], &profile.fit)
            }),
            Plugin::BalancedAllocation => each(&feasible_nodes, |i| {
                balanced_allocation::score(
                    pod,
                    &nodes[i],
                    profile.balanced,
                    &profile.balanced_resources,
                )
            }),
            Plugin::ImageLocality => each(&feasible_nodes, |i| {
                image_locality::score(pod, &nodes[i], spread, n)
            }),
            Plugin::PodTopologySpread => match &spread_state {
                Some(st) => each(&feasible_nodes, |i| pod_topology_spread::score(st, i)),
                None => vec![0; feasible_nodes.len()],
            },
            Plugin::InterPodAffinity => match &affinity_state {
                Some(st) => each(&feasible_nodes, |i| {
                    inter_pod_affinity::score(st, &nodes[i])
                }),
                None => vec![0; feasible_nodes.len()],
            },
            Plugin::NodeUnschedulable | Plugin::NodeName | Plugin::NodePorts | Plugin::Unknown => {
                vec![0; feasible_nodes.len()]
            }
        };
        let mut normalized = raw.clone();
        match kind {
            Plugin::TaintToleration => default_normalize(&mut normalized, true),
            Plugin::PodTopologySpread => {
                if let Some(st) = &spread_state {
                    pod_topology_spread::normalize(st, &feasible_nodes, &mut normalized);
                }
            }
            Plugin::InterPodAffinity => inter_pod_affinity::normalize(&mut normalized),
            Plugin::NodeAffinity => default_normalize(&mut normalized, false),
            Plugin::BalancedAllocation
                if profile.balanced == balanced_allocation::Formula::Legacy =>
            {
                normalized.iter_mut().for_each(|s| *s *= 10);
            }
            _ => {}
        }
        columns.push(Column {
            plugin,
            weight,
            raw,
            normalized,
        });
    }
    // Each scored node's list is built once, at its final length.
    for (j, &ri) in feasible_idx.iter().enumerate() {
        let r = &mut results[ri];
        r.scores = columns
            .iter()
            .map(|c| {
                (
                    c.plugin,
                    PluginScore {
                        raw: c.raw[j],
                        normalized: c.normalized[j],
                    },
                )
            })
            .collect();
        // Summed in profile order, as the scores were added before.
        r.total = columns.iter().map(|c| c.normalized[j] * c.weight).sum();
    }
    // Ranks: 1 for the best total; equal totals share a rank, one more than the number of
    // higher totals: in descending order, the position of the first node with that total.
    let mut by_total: Vec<(i64, usize)> = feasible_idx
        .iter()
        .map(|&ri| (results[ri].total, ri))
        .collect();
    by_total.sort_unstable_by_key(|&(t, _)| std::cmp::Reverse(t));
    let mut rank = 0;
    for (k, &(t, ri)) in by_total.iter().enumerate() {
        if k == 0 || by_total[k - 1].0 != t {
            rank = k + 1;
        }
        results[ri].rank = Some(rank);
    }
    // Uniformly random among the best (reservoir sampling, as selectHost does). `by_total`
    // is not empty: the cycle returned above when no node was feasible.
    let best = by_total[0].0;
    let mut selected = None;
    let mut count = 0u64;
    for &ri in &feasible_idx {
        if results[ri].total == best {
            count += 1;
            if state.next_u64().is_multiple_of(count) {
                selected = Some(results[ri].name.to_string());
            }
        }
    }
    Decision {
        nodes: results,
        selected,
        skipped,
        message: None,
    }
}

/// `FitError.Error()`: "0/N nodes are available: " and the sorted counts of each reason.
fn fit_error(n: usize, results: &[NodeResult]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        for reason in &r.reasons {
            *counts.entry(reason.as_str()).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = counts.iter().map(|(r, c)| format!("{c} {r}")).collect();
    parts.sort();
    format!("0/{n} nodes are available: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn num_feasible_nodes_follows_the_adaptive_percentage() {
        // schedule_one.go numFeasibleNodesToFind with percentageOfNodesToScore 0.
        for (n, want) in [
            (50, 50),
            (100, 100),
            (200, 100),
            (250, 120),
            (1000, 420),
            (5000, 500),
            (6000, 300),
        ] {
            assert_eq!(num_feasible_nodes_to_find(0, n), want, "n={n}");
        }
        assert_eq!(num_feasible_nodes_to_find(100, 5000), 5000);
    }
}
