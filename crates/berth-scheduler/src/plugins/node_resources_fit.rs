//! NodeResourcesFit: the node must have room for the pod's requests; scoring prefers
//! emptier (LeastAllocated, the default), fuller (MostAllocated) or shaped
//! (RequestedToCapacityRatio) nodes.

use crate::model::{NodeInfo, PodInfo};
use crate::resources::ResourceName;

/// Plugin name.
pub const NAME: &str = "NodeResourcesFit";
/// Upstream's reason when the node runs its maximum number of pods.
pub const TOO_MANY_PODS: &str = "Too many pods";

/// How NodeResourcesFit scores (`scoringStrategy.type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Strategy {
    /// Prefer nodes with more free capacity (the default).
    LeastAllocated,
    /// Prefer nodes with less free capacity (bin packing).
    MostAllocated,
    /// Score by a broken-linear function of utilization: points of (utilization 0–100,
    /// score 0–10), sorted by utilization.
    RequestedToCapacityRatio(Vec<(i64, i64)>),
}

/// NodeResourcesFitArgs: the strategy and the weighted resources it scores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitArgs {
    /// Scoring strategy.
    pub strategy: Strategy,
    /// Resources and their weights (`cpu` and `memory`, weight 1, by default).
    pub resources: Vec<(String, i64)>,
}

impl Default for FitArgs {
    fn default() -> Self {
        Self {
            strategy: Strategy::LeastAllocated,
            resources: vec![("cpu".into(), 1), ("memory".into(), 1)],
        }
    }
}

/// Filter: pod count, then every resource the pod requests; every shortage is a reason.
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    let mut reasons = Vec::new();
    if node.pod_count as i64 + 1 > node.allowed_pods {
        reasons.push(TOO_MANY_PODS.to_string());
    }
    let want = &pod.requests;
    let (alloc, used) = (&node.allocatable, &node.requested);
    // The fields themselves rather than `get` by name: this runs for every node.
    for (name, req, alloc, used) in [
        ("cpu", want.milli_cpu, alloc.milli_cpu, used.milli_cpu),
        ("memory", want.memory, alloc.memory, used.memory),
        (
            "ephemeral-storage",
            want.ephemeral_storage,
            alloc.ephemeral_storage,
            used.ephemeral_storage,
        ),
    ] {
        if req > 0 && req > alloc - used {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    let free = |name: &str| node.allocatable.get(name) - node.requested.get(name);
    for (name, req) in &want.scalars {
        if *req > 0 && *req > free(name) {
            reasons.push(format!("Insufficient {name}"));
        }
    }
    if reasons.is_empty() {
        Ok(())
    } else {
        Err(reasons)
    }
}

/// (requested with the pod, allocatable) for one scored resource; `None` when skipped
/// (allocatable 0, or an extended resource the pod does not request).
/// CPU and memory count the scoring defaults for containers that state no request
/// (`resource_allocation.go`, `useRequested = false`).
fn requested_and_capacity(pod: &PodInfo, node: &NodeInfo, name: &str) -> Option<(i64, i64)> {
    let name = ResourceName::of(name);
    let cap = node.allocatable.amount(name);
    let (node_req, pod_req) = match name {
        ResourceName::Cpu | ResourceName::Memory => (
            node.non_zero_requested.amount(name),
            pod.non_zero_requests.amount(name),
        ),
        _ => (node.requested.amount(name), pod.requests.amount(name)),
    };
    if cap == 0 || (name.is_extended() && pod_req == 0) {
        return None;
    }
    Some((node_req + pod_req, cap))
}

fn least(req: i64, cap: i64) -> i64 {
    if cap == 0 || req > cap {
        0
    } else {
        (cap - req) * 100 / cap
    }
}

fn most(req: i64, cap: i64) -> i64 {
    if cap == 0 {
        0
    } else {
        req.min(cap) * 100 / cap
    }
}

/// The broken-linear shape function with scores already scaled to 0–100.
fn shape(points: &[(i64, i64)], p: i64) -> i64 {
    let Some(&(u0, s0)) = points.first() else {
        return 0;
    };
    if p <= u0 {
        return s0;
    }
    for w in points.windows(2) {
        let ((u1, s1), (u2, s2)) = (w[0], w[1]);
        if p <= u2 {
            return s1 + (s2 - s1) * (p - u1) / (u2 - u1);
        }
    }
    points.last().map_or(0, |&(_, s)| s)
}

/// Score, already in 0..100 (no normalization step).
pub fn score(pod: &PodInfo, node: &NodeInfo, args: &FitArgs) -> i64 {
    // Walked as it is read, not collected: this runs for every scored node.
    let scored = args.resources.iter().filter_map(|(name, w)| {
        requested_and_capacity(pod, node, name).map(|(req, cap)| (req, cap, (*w).max(1)))
    });
    match &args.strategy {
        Strategy::LeastAllocated | Strategy::MostAllocated => {
            let f = if args.strategy == Strategy::LeastAllocated {
                least
            } else {
                most
            };
            let (mut sum, mut weights) = (0i64, 0i64);
            for (r, c, w) in scored {
                sum += f(r, c) * w;
                weights += w;
            }
            if weights == 0 {
                return 0;
            }
            sum / weights
        }
        Strategy::RequestedToCapacityRatio(points) => {
            let points: Vec<(i64, i64)> = points.iter().map(|&(u, s)| (u, s * 10)).collect();
            let mut sum = 0i64;
            let mut weights = 0i64;
            for (req, cap, w) in scored {
                let s = if req > cap {
                    shape(&points, 100)
                } else {
                    shape(&points, (i128::from(req) * 100 / i128::from(cap)) as i64)
                };
                if s > 0 {
                    sum += s * w;
                    weights += w;
                }
            }
            if weights == 0 {
                0
            } else {
                (sum as f64 / weights as f64).round() as i64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Resources;

    fn node(cpu: i64, mem: i64) -> NodeInfo {
        NodeInfo::new(
            "n",
            Resources {
                milli_cpu: cpu,
                memory: mem,
                ..Default::default()
            },
        )
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

    #[test]
    fn least_and_most_allocated_follow_upstream_integer_arithmetic() {
        // least_allocated.go: (cap-req)*100/cap per resource, weighted mean, integer division.
        // Pod 3000m/5000 on (4000, 10000): cpu 25, mem 50 -> 37; on (6000, 10000): 50, 50 -> 50.
        let p = pod(3000, 5000);
        let least = FitArgs::default();
        assert_eq!(score(&p, &node(4000, 10000), &least), 37);
        assert_eq!(score(&p, &node(6000, 10000), &least), 50);
        // most_allocated.go: min(req,cap)*100/cap: (75+50)/2 = 62 and 50.
        let most = FitArgs {
            strategy: Strategy::MostAllocated,
            ..FitArgs::default()
        };
        assert_eq!(score(&p, &node(4000, 10000), &most), 62);
        assert_eq!(score(&p, &node(6000, 10000), &most), 50);
    }

    #[test]
    fn requested_to_capacity_ratio_matches_upstream_table() {
        // requested_to_capacity_ratio_test.go: shape {(0,10),(100,0)}; pod 3000m/5000 on
        // empty (4000, 10000) and (6000, 10000) scores 38 and 50.
        let args = FitArgs {
            strategy: Strategy::RequestedToCapacityRatio(vec![(0, 10), (100, 0)]),
            ..FitArgs::default()
        };
        let p = pod(3000, 5000);
        assert_eq!(score(&p, &node(4000, 10000), &args), 38);
        assert_eq!(score(&p, &node(6000, 10000), &args), 50);
        // Broken-linear shape {(10,1),(90,9)} scaled to 0..100 (helper/shape_score_test.go).
        let pts = [(10, 10), (90, 90)];
        for (p, want) in [
            (-10, 10),
            (9, 10),
            (15, 15),
            (20, 20),
            (89, 89),
            (90, 90),
            (110, 90),
        ] {
            assert_eq!(shape(&pts, p), want, "p={p}");
        }
    }

    #[test]
    fn every_shortage_is_a_reason_in_upstream_words() {
        let mut n = node(1000, 1000);
        n.allowed_pods = 0;
        let err = filter(&pod(2000, 2000), &n).expect_err("does not fit");
        assert_eq!(
            err,
            vec!["Too many pods", "Insufficient cpu", "Insufficient memory"]
        );
    }
}
