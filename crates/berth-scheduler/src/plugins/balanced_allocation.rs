//! NodeResourcesBalancedAllocation: prefer nodes whose CPU and memory would be used in equal
//! shares.

use crate::model::{NodeInfo, PodInfo};
use crate::resources::ResourceName;

/// Plugin name.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// Which formula to score with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Formula {
    /// v1.23–v1.35: `(1 − std(fractions)) × 100` over the node's requests plus the pod's,
    /// fractions capped at 1; pods requesting nothing skip the plugin (issue 129138).
    #[default]
    Current,
    /// Before about v1.18 (the seed's numbers): `(1 − |cpu − memory|) × 10` over requests with
    /// the 100m/200 MiB defaults, 0 when either fraction reaches 1. Reported on a 0–10 scale,
    /// weighted as ten times that.
    Legacy,
    /// Upstream master: how much the pod improves the balance,
    /// `50 + (50 + with − without) / 2`.
    Improvement,
}

/// `(1 − std(fractions)) × 100`. Takes the fractions as an iterator, so that scoring a node
/// allocates nothing: one pass counts them and keeps the first two (the usual CPU and
/// memory); only for more does it walk them again, summing the same values in the same
/// order as over a collected list.
fn std_score(fractions: impl Iterator<Item = f64> + Clone) -> i64 {
    let mut n = 0;
    let mut first_two = [0.0; 2];
    for f in fractions.clone() {
        if let Some(slot) = first_two.get_mut(n) {
            *slot = f;
        }
        n += 1;
    }
    let std = match n {
        2 => ((first_two[0] - first_two[1]) / 2.0).abs(),
        n if n > 2 => {
            let mean = fractions.clone().sum::<f64>() / n as f64;
            (fractions.map(|f| (f - mean) * (f - mean)).sum::<f64>() / n as f64).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * 100.0) as i64
}

fn fractions<'a>(
    pod: Option<&'a PodInfo>,
    node: &'a NodeInfo,
    resources: &'a [String],
) -> impl Iterator<Item = f64> + Clone + 'a {
    resources.iter().filter_map(move |r| {
        let r = ResourceName::of(r);
        let cap = node.allocatable.amount(r);
        let pod_req = pod.map_or(0, |p| p.requests.amount(r));
        if cap == 0 || (r.is_extended() && pod.is_some_and(|p| p.requests.amount(r) == 0)) {
            return None;
        }
        Some(((node.requested.amount(r) + pod_req) as f64 / cap as f64).min(1.0))
    })
}

/// Whether the plugin skips this pod: it requests nothing of the scored resources.
pub fn skips(pod: &PodInfo, formula: Formula, resources: &[String]) -> bool {
    formula != Formula::Legacy && resources.iter().all(|r| pod.requests.get(r) == 0)
}

/// Raw score (0–100; 0–10 for [`Formula::Legacy`]).
pub fn score(pod: &PodInfo, node: &NodeInfo, formula: Formula, resources: &[String]) -> i64 {
    match formula {
        Formula::Current => std_score(fractions(Some(pod), node, resources)),
        Formula::Improvement => {
            let with = std_score(fractions(Some(pod), node, resources));
            let without = std_score(fractions(None, node, resources));
            50 + (50 + with - without) / 2
        }
        Formula::Legacy => {
            let frac = |r: &str| {
                let cap = node.allocatable.get(r);
                if cap == 0 {
                    1.0
                } else {
                    (node.non_zero_requested.get(r) + pod.non_zero_requests.get(r)) as f64
                        / cap as f64
                }
            };
            let (cpu, mem) = (frac("cpu"), frac("memory"));
            if cpu >= 1.0 || mem >= 1.0 {
                0
            } else {
                ((1.0 - (cpu - mem).abs()) * 10.0) as i64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resources;

    fn node(alloc: (i64, i64), requested: (i64, i64)) -> NodeInfo {
        let mut n = NodeInfo::new(
            "n",
            Resources {
                milli_cpu: alloc.0,
                memory: alloc.1,
                ..Default::default()
            },
        );
        let req = Resources {
            milli_cpu: requested.0,
            memory: requested.1,
            ..Default::default()
        };
        n.requested = req.clone();
        n.non_zero_requested = req;
        n.pod_count = 1;
        n
    }

    fn pod(cpu: i64, mem: i64) -> PodInfo {
        PodInfo::new(
            "default",
            "p",
            Resources {
                milli_cpu: cpu,
                memory: mem,
                ..Default::default()
            },
        )
    }

    fn cpu_mem() -> Vec<String> {
        vec!["cpu".into(), "memory".into()]
    }

    #[test]
    fn the_seed_nodes_score_8_and_6_under_the_legacy_formula() {
        // Seed 001: kube-scheduler at log level 10 showed BalancedResourceAllocation 8 for
        // 172.16.199.115 and 6 for 172.16.199.73:
        // (1 - |7670/47800 - 8095006720/269473853440|) * 10 = 8.69 -> 8
        // (1 - |18770/47800 - 20081108224/269453012992|) * 10 = 6.81 -> 6
        // The legacy code added the pod with the 100m/200 MiB defaults; the scores stay 8 and 6.
        let a = node((47800, 269_473_853_440), (7670, 8_095_006_720));
        let b = node((47800, 269_453_012_992), (18770, 20_081_108_224));
        let p = pod(0, 0);
        assert_eq!(score(&p, &a, Formula::Legacy, &cpu_mem()), 8);
        assert_eq!(score(&p, &b, Formula::Legacy, &cpu_mem()), 6);
    }

    #[test]
    fn the_seed_nodes_under_todays_formula() {
        // v1.35 balanced_allocation.go with the pod's own request added: a pod requesting
        // 100m / 209715200 bytes gives A std 0.0659 -> 93 and B std 0.1597 -> 84.
        let a = node((47800, 269_473_853_440), (7670, 8_095_006_720));
        let b = node((47800, 269_453_012_992), (18770, 20_081_108_224));
        let p = pod(100, 200 << 20);
        assert_eq!(score(&p, &a, Formula::Current, &cpu_mem()), 93);
        assert_eq!(score(&p, &b, Formula::Current, &cpu_mem()), 84);
        // Master's improvement formula: the tiny pod changes neither balance: 75 and 75.
        assert_eq!(score(&p, &a, Formula::Improvement, &cpu_mem()), 75);
        assert_eq!(score(&p, &b, Formula::Improvement, &cpu_mem()), 75);
        // A pod that requests nothing makes the plugin skip (issue 129138).
        assert!(skips(&pod(0, 0), Formula::Current, &cpu_mem()));
    }

    #[test]
    fn balanced_allocation_matches_upstream_test_table() {
        // balanced_allocation_test.go: pod 3000m/5000 on empty (4000,10000) and (6000,10000)
        // -> 87 and 100.
        let p = pod(3000, 5000);
        assert_eq!(
            score(
                &p,
                &node((4000, 10000), (0, 0)),
                Formula::Current,
                &cpu_mem()
            ),
            87
        );
        assert_eq!(
            score(
                &p,
                &node((6000, 10000), (0, 0)),
                Formula::Current,
                &cpu_mem()
            ),
            100
        );
        // Nodes (10000, 20000) already running 3000m/0 and 3000m/5000 -> 82 and 95.
        assert_eq!(
            score(
                &p,
                &node((10000, 20000), (3000, 0)),
                Formula::Current,
                &cpu_mem()
            ),
            82
        );
        assert_eq!(
            score(
                &p,
                &node((10000, 20000), (3000, 5000)),
                Formula::Current,
                &cpu_mem()
            ),
            95
        );
        // Fractions are capped at 1: pod 3000m/0 on (6000,10000) running 3000m/0 -> std 0.5 -> 50.
        assert_eq!(
            score(
                &pod(3000, 0),
                &node((6000, 10000), (3000, 0)),
                Formula::Current,
                &cpu_mem()
            ),
            50
        );
    }
}
