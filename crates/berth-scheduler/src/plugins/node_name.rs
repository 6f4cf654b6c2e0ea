//! NodeName: a pod that names its node fits only that node.

use crate::model::{NodeInfo, PodInfo};

/// Plugin name.
pub const NAME: &str = "NodeName";
/// Upstream's reason.
pub const REASON: &str = "node(s) didn't match the requested node name";

/// Filter.
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    match &pod.node_name {
        Some(n) if !n.is_empty() && **n != *node.name => Err(vec![REASON.into()]),
        _ => Ok(()),
    }
}
