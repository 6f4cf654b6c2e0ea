//! One file per kube-scheduler plugin, named as upstream names them
//! (`pkg/scheduler/framework/plugins/names/names.go`).

pub mod balanced_allocation;
pub mod image_locality;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_name;
pub mod node_ports;
pub mod node_resources_fit;
pub mod node_unschedulable;
pub mod pod_topology_spread;
pub mod taint_toleration;

/// `DefaultNormalizeScore` (`framework/plugins/helper/normalize_score.go`): scale so the
/// largest score becomes 100; `reverse` turns high into low. All zeros stay zero (or become
/// 100 when reversed).
pub fn default_normalize(scores: &mut [i64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0).max(0);
    if max == 0 {
        if reverse {
            scores.iter_mut().for_each(|s| *s = 100);
        }
        return;
    }
    for s in scores.iter_mut() {
        *s = 100 * *s / max;
        if reverse {
            *s = 100 - *s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::default_normalize;

    #[test]
    fn default_normalize_matches_upstream_helper() {
        // helper/normalize_score_test.go.
        for (input, reverse, want) in [
            (vec![0, 0, 0], false, vec![0, 0, 0]),
            (vec![0, 0, 0], true, vec![100, 100, 100]),
            (vec![1, 2, 4], false, vec![25, 50, 100]),
            (vec![1, 2, 4], true, vec![75, 50, 0]),
            (vec![3, 1], true, vec![0, 67]),
        ] {
            let mut s = input.clone();
            default_normalize(&mut s, reverse);
            assert_eq!(s, want, "{input:?} reverse={reverse}");
        }
    }
}
