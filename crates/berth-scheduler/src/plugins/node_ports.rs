//! NodePorts: a host port can be used once per node, protocol and address.

use crate::model::{NodeInfo, PodInfo};

/// Plugin name.
pub const NAME: &str = "NodePorts";
/// Upstream's reason.
pub const REASON: &str = "node(s) didn't have free ports for the requested pod ports";

/// Filter: `0.0.0.0` conflicts with any address; two specific addresses never conflict.
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    let conflict = pod.host_ports.iter().any(|want| {
        node.used_ports.iter().any(|used| {
            used.protocol == want.protocol
                && used.port == want.port
                && (want.ip == "0.0.0.0" || used.ip == "0.0.0.0" || used.ip == want.ip)
        })
    });
    if conflict {
        Err(vec![REASON.into()])
    } else {
        Ok(())
    }
}
