//! Profiles from a `KubeSchedulerConfiguration` (`kubescheduler.config.k8s.io/v1`), the file
//! clusters already pass to kube-scheduler with `--config`.
//!
//! Read: `percentageOfNodesToScore` (top level or per profile); the first profile (or the one
//! named `default-scheduler`); `plugins.{multiPoint,filter,score}.{enabled,disabled}` with
//! weights (`*` disables all); `pluginConfig` args of NodeResourcesFit (`scoringStrategy`:
//! type, resources, `requestedToCapacityRatio.shape`) and NodeResourcesBalancedAllocation
//! (`resources`). Anything else berth does not model is an error naming it, never ignored.

use berth_manifest::{FieldPath, Node};

use crate::framework::Profile;
use crate::plugins::{balanced_allocation, node_resources_fit};

/// A problem in a scheduler configuration: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    /// The field.
    pub path: String,
    /// What is wrong and what to write.
    pub message: String,
}

use crate::framework::{DEFAULT_FILTERS as FILTERS, DEFAULT_SCORES};

/// Score plugins berth models.
const SCORES: [&str; 7] = {
    let mut names = [""; 7];
    let mut i = 0;
    while i < 7 {
        names[i] = DEFAULT_SCORES[i].0;
        i += 1;
    }
    names
};
/// Plugins of the default profile berth does not model (volumes, DRA, queueing, binding):
/// enabling or disabling them changes nothing berth computes.
const NOT_MODELLED: [&str; 9] = [
    "SchedulingGates",
    "PrioritySort",
    "VolumeRestrictions",
    "NodeVolumeLimits",
    "VolumeBinding",
    "VolumeZone",
    "DynamicResources",
    "DefaultPreemption",
    "DefaultBinder",
];

fn err(path: &FieldPath, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.to_string(),
        message: message.into(),
    }
}

fn known(name: &str, path: &FieldPath) -> Result<bool, ConfigError> {
    if FILTERS.contains(&name) || SCORES.contains(&name) || name == "*" {
        Ok(true)
    } else if NOT_MODELLED.contains(&name) {
        Ok(false)
    } else {
        Err(err(
            path,
            format!(
                "unknown plugin {name:?}; berth models {} (and accepts, without effect, {})",
                SCORES
                    .iter()
                    .chain(FILTERS.iter())
                    .copied()
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", "),
                NOT_MODELLED.join(", ")
            ),
        ))
    }
}

/// Reads the profile a `KubeSchedulerConfiguration` describes, on top of the default one.
pub fn profile_from_config(config: &Node) -> Result<Profile, ConfigError> {
    let root = FieldPath::root();
    match config.get("kind").and_then(Node::as_str) {
        Some("KubeSchedulerConfiguration") => {}
        other => {
            return Err(err(
                &root.key("kind"),
                format!("expected a KubeSchedulerConfiguration, found {other:?}"),
            ));
        }
    }
    let mut p = Profile::default();
    let pct = |n: &Node, path: &FieldPath| -> Result<Option<i64>, ConfigError> {
        match n.get("percentageOfNodesToScore") {
            None => Ok(None),
            Some(v) => match v.as_i64() {
                Some(x) if (0..=100).contains(&x) => Ok(Some(x)),
                _ => Err(err(
                    &path.key("percentageOfNodesToScore"),
                    "must be an integer from 0 to 100",
                )),
            },
        }
    };
    if let Some(x) = pct(config, &root)? {
        p.percentage_of_nodes_to_score = x;
    }
    let profiles = config.get("profiles").map(Node::as_seq).unwrap_or_default();
    let chosen = profiles
        .iter()
        .position(|pr| pr.get("schedulerName").and_then(Node::as_str) == Some("default-scheduler"))
        .or(if profiles.is_empty() { None } else { Some(0) });
    let Some(ix) = chosen else { return Ok(p) };
    let prof = &profiles[ix];
    let ppath = root.key("profiles").index(ix);
    if let Some(x) = pct(prof, &ppath)? {
        p.percentage_of_nodes_to_score = x;
    }
    if let Some(plugins) = prof.get("plugins") {
        for point in ["multiPoint", "filter", "score"] {
            let Some(set) = plugins.get(point) else {
                continue;
            };
            let path = ppath.key("plugins").key(point);
            for (i, d) in set
                .get("disabled")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let name = d.get("name").and_then(Node::as_str).unwrap_or("");
                let here = path.key("disabled").index(i).key("name");
                if !known(name, &here)? {
                    continue;
                }
                if point != "score" {
                    p.filters.retain(|f| name != "*" && *f != name);
                }
                if point != "filter" {
                    p.scores.retain(|(s, _)| name != "*" && *s != name);
                }
            }
            for (i, e) in set
                .get("enabled")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let name = e.get("name").and_then(Node::as_str).unwrap_or("");
                let here = path.key("enabled").index(i);
                if name == "*" || !known(name, &here.key("name"))? {
                    continue;
                }
                let weight = match e.get("weight") {
                    None => None,
                    Some(w) => match w.as_i64() {
                        Some(w) if (0..=100).contains(&w) => Some(w),
                        _ => {
                            return Err(err(
                                &here.key("weight"),
                                "must be an integer from 0 to 100",
                            ));
                        }
                    },
                };
                if point != "score"
                    && let Some(f) = FILTERS.iter().find(|f| **f == name)
                    && !p.filters.contains(f)
                {
                    // Keep the default profile's order: it decides which reason a node reports.
                    p.filters.push(f);
                    p.filters
                        .sort_by_key(|f| FILTERS.iter().position(|x| x == f));
                }
                if point != "filter"
                    && let Some(s) = SCORES.iter().find(|s| **s == name)
                {
                    // A weight of 0 or none means 1, as the framework defaults it.
                    let w = weight.filter(|w| *w > 0).unwrap_or(1);
                    match p.scores.iter_mut().find(|(x, _)| x == s) {
                        Some(entry) => entry.1 = weight.filter(|w| *w > 0).unwrap_or(entry.1),
                        None => p.scores.push((s, w)),
                    }
                }
            }
        }
    }
    for (i, pc) in prof
        .get("pluginConfig")
        .map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let here = ppath.key("pluginConfig").index(i);
        let name = pc.get("name").and_then(Node::as_str).unwrap_or("");
        let args = pc.get("args");
        match name {
            node_resources_fit::NAME => {
                for unmodelled in ["ignoredResources", "ignoredResourceGroups"] {
                    if args.and_then(|a| a.get(unmodelled)).is_some() {
                        return Err(err(
                            &here.key("args").key(unmodelled),
                            format!(
                                "berth does not model `{unmodelled}` yet; remove it to compare with the default"
                            ),
                        ));
                    }
                }
                if let Some(st) = args.and_then(|a| a.get("scoringStrategy")) {
                    let spath = here.key("args").key("scoringStrategy");
                    if let Some(r) = st.get("resources") {
                        p.fit.resources = resources(r, &spath.key("resources"))?;
                    }
                    p.fit.strategy = match st
                        .get("type")
                        .and_then(Node::as_str)
                        .unwrap_or("LeastAllocated")
                    {
                        "LeastAllocated" => node_resources_fit::Strategy::LeastAllocated,
                        "MostAllocated" => node_resources_fit::Strategy::MostAllocated,
                        "RequestedToCapacityRatio" => {
                            let shape = st
                                .path(&["requestedToCapacityRatio", "shape"])
                                .map(Node::as_seq)
                                .unwrap_or_default();
                            let mut points = Vec::new();
                            for (j, pt) in shape.iter().enumerate() {
                                let (Some(u), Some(sc)) = (
                                    pt.get("utilization").and_then(Node::as_i64),
                                    pt.get("score").and_then(Node::as_i64),
                                ) else {
                                    return Err(err(
                                        &spath
                                            .key("requestedToCapacityRatio")
                                            .key("shape")
                                            .index(j),
                                        "each point needs integer `utilization` (0–100) and `score` (0–10)",
                                    ));
                                };
                                points.push((u, sc));
                            }
                            if points.is_empty() {
                                return Err(err(
                                    &spath.key("requestedToCapacityRatio"),
                                    "RequestedToCapacityRatio needs `shape` points",
                                ));
                            }
                            node_resources_fit::Strategy::RequestedToCapacityRatio(points)
                        }
                        other => {
                            return Err(err(
                                &spath.key("type"),
                                format!(
                                    "{other:?} is not LeastAllocated, MostAllocated or RequestedToCapacityRatio"
                                ),
                            ));
                        }
                    };
                }
            }
            balanced_allocation::NAME => {
                if let Some(r) = args.and_then(|a| a.get("resources")) {
                    p.balanced_resources = resources(r, &here.key("args").key("resources"))?
                        .into_iter()
                        .map(|(n, _)| n)
                        .collect();
                }
            }
            // Args of other modelled plugins (for example InterPodAffinity's
            // hardPodAffinityWeight) keep their defaults; say so rather than ignore them.
            n if known(n, &here.key("name"))?
                && args.is_some_and(|a| a.as_map().is_some_and(|m| !m.is_empty())) =>
            {
                return Err(err(
                    &here.key("args"),
                    format!(
                        "berth does not model the arguments of {n} yet; remove them to use the defaults"
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(p)
}

fn resources(node: &Node, path: &FieldPath) -> Result<Vec<(String, i64)>, ConfigError> {
    let mut out = Vec::new();
    for (i, r) in node.as_seq().iter().enumerate() {
        let Some(name) = r.get("name").and_then(Node::as_str) else {
            return Err(err(
                &path.index(i).key("name"),
                "each resource needs a `name`",
            ));
        };
        let weight = r.get("weight").and_then(Node::as_i64).unwrap_or(1).max(1);
        out.push((name.to_string(), weight));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(yaml: &str) -> Result<Profile, ConfigError> {
        let (docs, errs) = berth_manifest::load_documents("c.yaml", yaml);
        assert!(errs.is_empty(), "{errs:?}");
        profile_from_config(&docs[0].root)
    }

    #[test]
    fn a_bin_packing_profile_is_read_like_kube_scheduler_reads_it() {
        // The documented bin-packing example (scheduling/config: MostAllocated with weights).
        let p = cfg("apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      disabled: [{name: ImageLocality}]
      enabled: [{name: NodeResourcesFit, weight: 5}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 3}]
")
        .expect("valid");
        assert_eq!(p.percentage_of_nodes_to_score, 30);
        assert!(
            !p.scores
                .iter()
                .any(|(s, _)| *s == crate::plugins::image_locality::NAME)
        );
        assert_eq!(
            p.scores
                .iter()
                .find(|(s, _)| *s == node_resources_fit::NAME)
                .map(|s| s.1),
            Some(5)
        );
        assert_eq!(p.fit.strategy, node_resources_fit::Strategy::MostAllocated);
        assert_eq!(
            p.fit.resources,
            vec![("cpu".into(), 1), ("memory".into(), 3)]
        );
    }

    #[test]
    fn unknown_plugins_and_bad_shapes_are_named() {
        let e = cfg("kind: KubeSchedulerConfiguration\nprofiles:\n- plugins:\n    score:\n      enabled: [{name: NodeResourcesBalance}]\n")
            .expect_err("unknown plugin");
        assert_eq!(e.path, "profiles[0].plugins.score.enabled[0].name");
        assert!(e.message.contains("NodeResourcesBalancedAllocation"), "{e}");
        let e = cfg("kind: KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: RequestedToCapacityRatio}}\n")
            .expect_err("no shape");
        assert!(e.message.contains("shape"), "{e}");
    }
}
