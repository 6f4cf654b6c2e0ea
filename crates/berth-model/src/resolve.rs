//! Every default filled in: what one version of an Application concretely means.

use berth_manifest::quantity::Quantity;

use crate::application::{Application, WhenUnsatisfiable};
use crate::names::parse_image;
use crate::tier::TierPolicy;

/// Label key of the access switch when the spec names none.
pub const DEFAULT_SWITCH_LABEL: &str = "topology.berth.dev/switch";
/// How long pods tolerate a NotReady/unreachable node when the spec does not say. Upstream's
/// default is 300 s; seed 000 raised it so that a node blip does not move every pod.
pub const DEFAULT_NOT_READY_TOLERATION_SECONDS: i64 = 900;
/// Seconds of grace beyond drain, connection wait and app stop, so SIGKILL never races a
/// process that is exiting on time.
pub const GRACE_MARGIN_SECONDS: i64 = 5;
/// Longest Kubernetes object name berth derives (a DNS label, so it also fits pod hostnames).
const MAX_NAME: usize = 63;
/// Longest Application name: leaves room for `-<version key>` within [`MAX_NAME`].
pub const MAX_APP_NAME: usize = 50;

/// Why an Application cannot be resolved for a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Neither the command line, the spec nor the image names a version.
    #[error(
        "{app}: no version to render: the image {image:?} has no tag and spec.version is not set; pass --version or set spec.version"
    )]
    NoVersion {
        /// The Application.
        app: String,
        /// Its image.
        image: String,
    },
    /// The requested version contradicts the image's tag.
    #[error(
        "{app}: version {version:?} contradicts the image tag {tag:?}; drop the tag from spec.image so that the version sets it"
    )]
    TagConflict {
        /// The Application.
        app: String,
        /// The requested version.
        version: String,
        /// The tag in spec.image.
        tag: String,
    },
    /// The version cannot be an image tag or name a Deployment.
    #[error(
        "{app}: version {version:?} is not usable: write letters, digits, `.`, `_` and `-` (it becomes the image tag and part of the Deployment name)"
    )]
    BadVersion {
        /// The Application.
        app: String,
        /// The version.
        version: String,
    },
}

/// What the HPA scales on.
#[derive(Debug, Clone, PartialEq)]
pub enum CpuTarget {
    /// Percent of the main container's CPU request.
    Utilization(i32),
    /// Absolute CPU per pod.
    Average(Quantity),
    /// A per-pod custom metric and its target average.
    Metric {
        /// Metric name.
        name: String,
        /// Target average per pod.
        average: Quantity,
    },
}

/// The disruption budget berth derives from the autoscaling target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `minAvailable: N%`.
    MinAvailablePercent(i32),
    /// `maxUnavailable: N%`: used when `minAvailable` would allow no disruption at the
    /// minimum replica count (percentages round up, seed 003 §3).
    MaxUnavailablePercent(i32),
}

impl Budget {
    /// Ready pods an app of `total` replicas keeps under this budget, with the disruption
    /// controller's rounding (percentages round up).
    pub fn floor(self, total: i32) -> i32 {
        // Both factors are at most 2³¹, so the product fits in an i64.
        let up = |p: i32| ((i64::from(total) * i64::from(p) + 99) / 100) as i32;
        match self {
            Budget::MinAvailablePercent(p) => up(p),
            Budget::MaxUnavailablePercent(p) => total - up(p),
        }
    }
}

/// One version of an Application with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Application name.
    pub name: String,
    /// Namespace, when the spec names one.
    pub namespace: Option<String>,
    /// The version as given (`1.4.2`).
    pub version: String,
    /// The version as a DNS label (`1-4-2`).
    pub slug: String,
    /// Name of the per-version objects (`order-api-1-4-2`).
    pub workload_name: String,
    /// Image reference to run.
    pub image: String,
    /// The tier's policy.
    pub policy: TierPolicy,
    /// Requests as a share of limits.
    pub request_ratio: f64,
    /// CPU limit.
    pub cpu_limit: Quantity,
    /// CPU request.
    pub cpu_request: Quantity,
    /// Memory limit.
    pub memory_limit: Quantity,
    /// Memory request.
    pub memory_request: Quantity,
    /// Fewest replicas.
    pub min_replicas: i32,
    /// Most replicas.
    pub max_replicas: i32,
    /// Autoscaling target.
    pub cpu_target: CpuTarget,
    /// Seconds of lower recommendations before scaling down.
    pub scale_down_stabilization_seconds: i32,
    /// Most replicas removed per minute, in percent.
    pub scale_down_percent_per_minute: i32,
    /// Most replicas added per minute, in percent.
    pub scale_up_percent_per_minute: i32,
    /// Disruption budget.
    pub budget: Budget,
    /// `terminationGracePeriodSeconds`.
    pub grace_seconds: i64,
    /// Node label of the access switch.
    pub switch_label: String,
    /// Spread strictness.
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// NotReady/unreachable toleration.
    pub not_ready_toleration_seconds: i64,
}

impl Application {
    /// Resolves this Application for `version` (or the spec's version, or the image tag).
    ///
    /// Assumes [`Application::validate`] reported no errors; quantities that do not parse
    /// resolve to zero rather than panicking.
    pub fn resolved(&self, version: Option<&str>) -> Result<Resolved, ResolveError> {
        let spec = &self.spec;
        let name = self.metadata.name.clone().unwrap_or_default();
        let image_ref = parse_image(&spec.image);
        let tag = image_ref.as_ref().and_then(|r| r.tag);
        let digest = image_ref.as_ref().and_then(|r| r.digest);
        let version = version
            .or(spec.version.as_deref())
            .or(tag)
            .ok_or_else(|| ResolveError::NoVersion {
                app: name.clone(),
                image: spec.image.clone(),
            })?
            .to_string();
        if let Some(t) = tag
            && t != version
        {
            return Err(ResolveError::TagConflict {
                app: name,
                version,
                tag: t.to_string(),
            });
        }
        let image = if tag.is_some() || digest.is_some() {
            spec.image.clone()
        } else {
            format!("{}:{version}", spec.image)
        };
        if !crate::names::is_image_tag(&version) {
            return Err(ResolveError::BadVersion { app: name, version });
        }
        let slug = version_key(&name, &version);
        let workload_name = format!("{name}-{slug}");

        let policy = spec.tier.policy();
        let request_ratio = spec.resources.request_ratio.unwrap_or(policy.request_ratio);
        let q = |s: &str| Quantity::parse(s).unwrap_or(Quantity(0));
        let cpu_limit = q(&spec.resources.cpu);
        let memory_limit = q(&spec.resources.memory);
        let (cpu_request, memory_request) = if request_ratio >= 1.0 {
            (cpu_limit, memory_limit)
        } else {
            // Integer arithmetic on the ratio in thousandths, so that 0.7 of 170m is 119m.
            let permille = (request_ratio * 1000.0).round() as i128;
            (
                // Whole millicores, at least one.
                Quantity::from_millis((cpu_limit.millis() * permille / 1000).max(1)),
                // Whole MiB, at least one.
                Quantity::from_units(((memory_limit.units() * permille / 1000) >> 20).max(1) << 20),
            )
        };

        let s = &spec.scaling;
        let min_replicas = s.min_replicas.unwrap_or(policy.min_replicas);
        let max_replicas = s.max_replicas.unwrap_or(min_replicas * 4).max(min_replicas);
        let cpu_target = match (&s.metric, &s.target_cpu_average, s.target_cpu_utilization) {
            (Some(m), _, _) => CpuTarget::Metric {
                name: m.name.clone(),
                average: q(&m.target_average),
            },
            (None, Some(a), _) => CpuTarget::Average(q(a)),
            (None, None, Some(u)) => CpuTarget::Utilization(u),
            (None, None, None) => CpuTarget::Utilization(policy.target_cpu),
        };
        let target_pct = match cpu_target {
            CpuTarget::Utilization(u) => u,
            CpuTarget::Average(_) | CpuTarget::Metric { .. } => policy.target_cpu,
        };
        let b = s.behavior.clone().unwrap_or_default();

        let sh = &spec.shutdown;
        let grace_seconds = i64::from(sh.drain_seconds)
            + if sh.wait_for_connections {
                i64::from(sh.connection_timeout_seconds)
            } else {
                0
            }
            + i64::from(sh.app_stop_seconds)
            + GRACE_MARGIN_SECONDS;

        let p = &spec.placement;
        Ok(Resolved {
            name,
            namespace: self.metadata.namespace.clone(),
            version,
            slug,
            workload_name,
            image,
            policy,
            request_ratio,
            cpu_limit,
            cpu_request,
            memory_limit,
            memory_request,
            min_replicas,
            max_replicas,
            cpu_target,
            scale_down_stabilization_seconds: b
                .scale_down_stabilization_seconds
                .unwrap_or(policy.scale_down_stabilization_seconds),
            scale_down_percent_per_minute: b.scale_down_percent_per_minute.unwrap_or(10),
            scale_up_percent_per_minute: b.scale_up_percent_per_minute.unwrap_or(100),
            budget: budget_for(target_pct, min_replicas),
            grace_seconds,
            switch_label: p
                .switch_label
                .clone()
                .unwrap_or_else(|| DEFAULT_SWITCH_LABEL.to_string()),
            when_unsatisfiable: p
                .when_unsatisfiable
                .unwrap_or(WhenUnsatisfiable::ScheduleAnyway),
            not_ready_toleration_seconds: p
                .not_ready_toleration_seconds
                .unwrap_or(DEFAULT_NOT_READY_TOLERATION_SECONDS),
        })
    }
}

/// The disruption budget for an autoscaling target: keep `target + 5` percent available
/// (seed 003: "HPA target 60% → PDB minAvailable 65%", so the survivors can absorb the load),
/// but never a budget that allows zero disruptions at `min_replicas`.
///
/// The disruption controller rounds percentages up (`GetScaledValueFromIntOrPercent` with
/// `roundUp=true` in `pkg/controller/disruption/disruption.go`), so `minAvailable: 65%` of 2
/// pods is 2 and blocks every drain. In that case berth writes `maxUnavailable: 35%`, which
/// also rounds up and so always allows at least one disruption.
pub fn budget_for(target_percent: i32, min_replicas: i32) -> Budget {
    let keep = (target_percent + 5).clamp(1, 99);
    let n = min_replicas.max(1);
    let min_available = (keep * n + 99) / 100;
    if n - min_available >= 1 {
        Budget::MinAvailablePercent(keep)
    } else {
        Budget::MaxUnavailablePercent(100 - keep)
    }
}

/// A version as a DNS label fragment: `1.4.2-RC1` → `1-4-2-rc1`.
pub fn slugify(version: &str) -> String {
    let mut out = String::with_capacity(version.len());
    for c in version.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The version as it appears in object names and the `berth.dev/version` label: its slug
/// (`2.14.0` → `2-14-0`) when it fits, otherwise the slug's head and a hash of the whole
/// version, so that two long versions that share a prefix never share a name or a
/// selector. (Versions that differ only in punctuation or case, `1.4.2` and `1-4-2`, share a
/// key; the release engine refuses to release one over the other.)
pub fn version_key(app: &str, version: &str) -> String {
    let slug = slugify(version);
    let room = MAX_NAME.saturating_sub(app.len() + 1);
    if !slug.is_empty() && slug.len() <= room {
        return slug;
    }
    // FNV-1a: stable across runs and platforms, unlike std's hasher.
    let hash = version.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let suffix = format!("{:08x}", hash as u32);
    let keep = room.saturating_sub(suffix.len() + 1);
    let head = slug[..keep.min(slug.len())].trim_end_matches('-');
    if head.is_empty() {
        suffix
    } else {
        format!("{head}-{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_keeps_target_plus_five_but_never_blocks_drains() {
        // target 60 → keep 65%. At 3 replicas: ceil(0.65*3)=2 available, 1 disruption.
        assert_eq!(budget_for(60, 3), Budget::MinAvailablePercent(65));
        // At 2 replicas: ceil(0.65*2)=2, no disruption: switch to maxUnavailable 35%,
        // which rounds ceil(0.35*2)=1 up to one disruption.
        assert_eq!(budget_for(60, 2), Budget::MaxUnavailablePercent(35));
        // Standard tier target 80 → keep 85%: at 2 replicas ceil(1.7)=2 → maxUnavailable.
        assert_eq!(budget_for(80, 2), Budget::MaxUnavailablePercent(15));
        // Core at 10 replicas: ceil(6.5)=7, 3 disruptions.
        assert_eq!(budget_for(60, 10), Budget::MinAvailablePercent(65));
        assert_eq!(budget_for(90, 1), Budget::MaxUnavailablePercent(5));
    }

    #[test]
    fn versions_become_distinct_dns_labels_within_63() {
        assert_eq!(slugify("1.4.2"), "1-4-2");
        assert_eq!(slugify("v2.0.0-RC.1"), "v2-0-0-rc-1");
        assert_eq!(version_key("web", "3.8.1"), "3-8-1");
        // A version with no letter or digit still gets a usable key: its hash.
        assert_eq!(version_key("web", "...").len(), 8);
        // Long versions and the longest app names stay within a DNS label.
        let app = "a".repeat(MAX_APP_NAME);
        for v in [
            "x".repeat(80),
            format!("{}-a", "b".repeat(70)),
            format!("{}-b", "b".repeat(70)),
        ] {
            let k = version_key(&app, &v);
            assert!(app.len() + 1 + k.len() <= 63, "{k}");
            assert!(!k.ends_with('-') && !k.starts_with('-'), "{k}");
        }
        assert_ne!(
            version_key("web", &format!("{}-a", "b".repeat(70))),
            version_key("web", &format!("{}-b", "b".repeat(70)))
        );
    }
}
