//! Service tiers and the defaults each implies (seed 003, "HPA 的期望值设成多少合适").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How critical a service is; decides QoS, autoscaling, disruption budget and overcommit.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Revenue-critical: requests equal limits (Guaranteed QoS), autoscaling at 60–70 %.
    Core,
    /// Ordinary online service: requests 0.6–0.9 of limits (Burstable), autoscaling at 80–90 %.
    Standard,
    /// Background work: deepest overcommit, fewest replicas.
    Batch,
}

/// The defaults and allowed ranges of one tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierPolicy {
    /// Requests as a share of limits when the spec does not say.
    pub request_ratio: f64,
    /// Allowed request ratios (inclusive).
    pub request_ratio_range: (f64, f64),
    /// HPA CPU utilization target when the spec does not say.
    pub target_cpu: i32,
    /// Recommended target range; outside it the spec draws a warning.
    pub target_cpu_range: (i32, i32),
    /// Minimum replicas when the spec does not say.
    pub min_replicas: i32,
    /// Lowest minimum the tier accepts.
    pub min_replicas_floor: i32,
    /// HPA scale-down stabilization window when the spec does not say.
    pub scale_down_stabilization_seconds: i32,
}

impl Tier {
    /// The tier's policy.
    pub fn policy(self) -> TierPolicy {
        match self {
            // Seed 003: core = requests equal limits, target 60–70 %, min 2–5.
            Tier::Core => TierPolicy {
                request_ratio: 1.0,
                request_ratio_range: (1.0, 1.0),
                target_cpu: 65,
                target_cpu_range: (60, 70),
                min_replicas: 3,
                min_replicas_floor: 2,
                scale_down_stabilization_seconds: 600,
            },
            // Seed 003: non-core = requests 0.6–0.9 of limits, target 80–90 %, min 1–3.
            Tier::Standard => TierPolicy {
                request_ratio: 0.8,
                request_ratio_range: (0.6, 0.9),
                target_cpu: 80,
                target_cpu_range: (80, 90),
                min_replicas: 2,
                min_replicas_floor: 1,
                scale_down_stabilization_seconds: 300,
            },
            Tier::Batch => TierPolicy {
                request_ratio: 0.6,
                request_ratio_range: (0.6, 0.9),
                target_cpu: 90,
                target_cpu_range: (80, 90),
                min_replicas: 1,
                min_replicas_floor: 1,
                scale_down_stabilization_seconds: 300,
            },
        }
    }

    /// The tier's name as written in specs and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Core => "core",
            Tier::Standard => "standard",
            Tier::Batch => "batch",
        }
    }
}

impl TierPolicy {
    /// CPU overcommit the tier implies (limits over requests), for the node agent.
    pub fn overcommit(&self) -> f64 {
        1.0 / self.request_ratio
    }
}
