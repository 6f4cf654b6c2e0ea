//! ImageLocality: prefer nodes that already hold the pod's images, weighted by how widely
//! the image is spread (a rare image pulls pods to few nodes).

use std::collections::HashMap;

use crate::model::{NodeInfo, PodInfo};

/// Plugin name.
pub const NAME: &str = "ImageLocality";
const MB: i64 = 1024 * 1024;
/// Below this total, a node scores 0.
pub const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container image, the total at which a node scores 100.
pub const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// How many nodes hold each image name.
pub fn image_spread(nodes: &[NodeInfo]) -> HashMap<String, usize> {
    let mut m: HashMap<String, usize> = HashMap::new();
    for n in nodes {
        let names: std::collections::BTreeSet<&String> =
            n.images.iter().flat_map(|i| i.names.iter()).collect();
        for name in names {
            *m.entry(name.clone()).or_default() += 1;
        }
    }
    m
}

/// Score, already 0..100.
pub fn score(
    pod: &PodInfo,
    node: &NodeInfo,
    spread: &HashMap<String, usize>,
    total_nodes: usize,
) -> i64 {
    if pod.images.is_empty() || total_nodes == 0 {
        return 0;
    }
    let mut sum: i64 = 0;
    for want in &pod.images {
        if let Some(img) = node
            .images
            .iter()
            .find(|i| i.names.iter().any(|n| n == want))
        {
            let having = spread.get(want.as_str()).copied().unwrap_or(1);
            sum += (img.size_bytes as f64 * having as f64 / total_nodes as f64) as i64;
        }
    }
    let max = MAX_CONTAINER_THRESHOLD * pod.images.len() as i64;
    let sum = sum.clamp(MIN_THRESHOLD, max);
    100 * (sum - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
}
