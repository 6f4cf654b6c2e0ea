//! NodeUnschedulable: cordoned nodes take only pods that tolerate the unschedulable taint.

use crate::model::{NodeInfo, PodInfo, Taint};

/// Plugin name.
pub const NAME: &str = "NodeUnschedulable";
/// Upstream's reason.
pub const REASON: &str = "node(s) were unschedulable";

/// Filter.
pub fn filter(pod: &PodInfo, node: &NodeInfo) -> Result<(), Vec<String>> {
    if !node.unschedulable {
        return Ok(());
    }
    let taint = Taint {
        key: "node.kubernetes.io/unschedulable".into(),
        value: String::new(),
        effect: "NoSchedule".into(),
    };
    if pod.tolerations.iter().any(|t| t.tolerates(&taint)) {
        Ok(())
    } else {
        Err(vec![REASON.into()])
    }
}
