//! Turning a scenario's cluster and workload objects into stored objects: nodes, Services,
//! PodDisruptionBudgets, Deployments, and the pod templates they carry.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use berth_manifest::{Node, Pos};
use berth_scheduler::{Cluster, LabelSelector, NodeInfo, OwnerSelector, Resources};

use crate::SimError;
use crate::engine::Sim;
use crate::scenario::{ClusterSource, app_of};
use crate::time::LEASE_RENEW;
use crate::world::{App, AppStats, Dep, Health, IntOrPercent, Meta, NodeObj, Pdb, Svc};

const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

fn zone_name(i: u32) -> String {
    let mut s = String::from("zone-");
    let mut n = i;
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    s
}

impl Sim {
    pub(crate) fn build_cluster(&mut self) {
        let mut cluster = Cluster::default();
        match self.sc.cluster.clone() {
            ClusterSource::Generated {
                zones,
                switches,
                hosts_per_switch,
                cpu_milli,
                memory,
                pods,
                labels,
                switch_label,
            } => {
                self.switch_label = switch_label.clone();
                for s in 0..switches {
                    let zone = zone_name(s % zones);
                    for h in 0..hosts_per_switch {
                        let name = format!("sw{:02}-host{:02}", s + 1, h + 1);
                        let mut info = NodeInfo::new(
                            &name,
                            Resources {
                                milli_cpu: cpu_milli,
                                memory,
                                ..Resources::default()
                            },
                        );
                        info.allowed_pods = pods;
                        info.labels = labels.clone();
                        info.labels
                            .insert("kubernetes.io/hostname".into(), name.clone());
                        info.labels.insert(ZONE_LABEL.into(), zone.clone());
                        info.labels
                            .insert(switch_label.clone(), format!("sw{:02}", s + 1));
                        cluster.nodes.push(info);
                    }
                }
            }
            ClusterSource::Snapshot(objects) => {
                // Pods of the snapshot stay where they are: background load the scheduler
                // counts, that the simulation does not run.
                cluster = Cluster::from_objects(&objects);
                let kept: usize = cluster
                    .pods
                    .iter()
                    .filter(|p| p.node_name.is_some())
                    .count();
                self.notes.push(format!(
                    "snapshot: {} nodes, {kept} pods kept as background load",
                    cluster.nodes.len()
                ));
            }
        }
        for (i, info) in cluster.nodes.iter().enumerate() {
            let meta = Meta {
                name: info.name.to_string(),
                namespace: String::new(),
                uid: self.uid(),
                resource_version: self.bump(),
                created: 0,
                deletion: None,
            };
            let phase = self.rng.below(LEASE_RENEW);
            self.nodes.push(NodeObj {
                meta,
                zone: info.labels.get(ZONE_LABEL).cloned().unwrap_or_default(),
                ready: true,
                ready_changed: 0,
                taints: info.taints.clone(),
                no_execute_since: None,
                queued_for_taint: false,
                unschedulable: info.unschedulable,
                health: Health::Up,
                health_since: 0,
                images: BTreeSet::new(),
                pods: Vec::new(),
                lease_phase: phase,
            });
            let _ = i;
        }
        self.cluster = cluster;
    }

    /// Reads the workload objects: Services and PDBs first, so that pods find them.
    pub(crate) fn ingest(&mut self) -> Result<(), SimError> {
        let objects = self.sc.objects.clone();
        let mut names: Vec<String> = self.sc.apps.keys().cloned().collect();
        names.sort();
        for name in &names {
            let behaviour = self.sc.apps[name].clone();
            self.apps.push(App {
                name: name.clone(),
                behaviour,
                deps: Vec::new(),
                svcs: Vec::new(),
                stats: AppStats::default(),
            });
        }
        for app in self.sc.applications.clone() {
            let meta = Meta {
                name: app.metadata.name.clone().unwrap_or_default(),
                namespace: app
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| "default".into()),
                uid: self.uid(),
                resource_version: self.bump(),
                created: self.now,
                deletion: None,
            };
            self.applications.push((meta, app));
        }
        let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
        let mut hpa_min: BTreeMap<(String, String), i32> = BTreeMap::new();
        for (_, o) in &objects {
            if kind(o) == "HorizontalPodAutoscaler"
                && let (Some(target), Some(min)) = (
                    o.pointer("/spec/scaleTargetRef/name")
                        .and_then(|v| v.as_str()),
                    o.pointer("/spec/minReplicas").and_then(|v| v.as_i64()),
                )
            {
                hpa_min.insert((namespace(o), target.to_string()), min as i32);
            }
        }
        for pass in 0..2 {
            for (file, o) in &objects {
                let k = kind(o);
                match (pass, k.as_str()) {
                    (0, "Service") => self.add_service(o),
                    (0, "PodDisruptionBudget") => self.add_pdb(file, o)?,
                    (1, "Deployment") => {
                        let replicas = o
                            .pointer("/spec/replicas")
                            .and_then(|v| v.as_i64())
                            .map(|r| r as i32)
                            .or_else(|| hpa_min.get(&(namespace(o), name(o))).copied())
                            .unwrap_or(1);
                        self.add_deployment(file, o, replicas)?;
                    }
                    (1, "HorizontalPodAutoscaler") => {}
                    (1, "Service" | "PodDisruptionBudget") | (0, _) => {}
                    (1, other) => *ignored.entry(other.to_string()).or_default() += 1,
                    _ => {}
                }
            }
        }
        for (file, o) in &objects {
            if kind(o) == "HorizontalPodAutoscaler" {
                self.add_hpa(file, o)?;
            }
        }
        for (k, n) in ignored {
            self.notes.push(format!("not simulated: {n} × {k}"));
        }
        Ok(())
    }

    fn new_meta(&mut self, o: &serde_json::Value) -> Meta {
        Meta {
            name: name(o),
            namespace: namespace(o),
            uid: self.uid(),
            resource_version: self.bump(),
            created: self.now,
            deletion: None,
        }
    }

    fn add_service(&mut self, o: &serde_json::Value) {
        let selector: BTreeMap<String, String> = o
            .pointer("/spec/selector")
            .and_then(|v| v.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        let meta = self.new_meta(o);
        let id = self.svcs.len();
        let app = if selector.is_empty() {
            None
        } else {
            // The app whose Deployments' pods this Service selects.
            let mut found = None;
            for (_, d) in &self.sc.objects {
                if kind(d) == "Deployment" && namespace(d) == meta.namespace {
                    let labels = d.pointer("/spec/template/metadata/labels");
                    let matches = selector.iter().all(|(k, v)| {
                        labels
                            .and_then(|l| l.get(k))
                            .and_then(|x| x.as_str())
                            .is_some_and(|x| x == v)
                    });
                    if matches {
                        let app = app_of(labels, &name(d));
                        found = self.apps.iter().position(|a| a.name == app);
                        break;
                    }
                }
            }
            found
        };
        // A berth per-version Service (rendered for canary routing) is a backend the ingress
        // picks, not a second front door: the app's traffic goes through its own Service.
        let per_version = selector.contains_key(berth_render::VERSION_LABEL);
        if let Some(a) = app
            && !per_version
        {
            self.apps[a].svcs.push(id);
        }
        if !selector.is_empty() {
            self.cluster.owner_selectors.push(OwnerSelector {
                namespace: meta.namespace.clone(),
                kind: "Service".into(),
                name: meta.name.clone(),
                selector: LabelSelector {
                    match_labels: selector.clone(),
                    match_expressions: Vec::new(),
                },
            });
        }
        self.svcs.push(Svc {
            meta,
            app,
            selector,
            pods: BTreeSet::new(),
            published: Rc::new(Vec::new()),
            slice_version: 0,
            lb: Rc::new(Vec::new()),
            rr: 0,
            peers: BTreeMap::new(),
            joined: BTreeMap::new(),
            rate: 0.0,
            rate_since: 0,
            accounted: 0,
            arrivals: 0,
            next_arrival: 0.0,
            split: None,
        });
    }

    fn add_pdb(&mut self, file: &str, o: &serde_json::Value) -> Result<(), SimError> {
        let selector = o
            .pointer("/spec/selector")
            .map(|s| LabelSelector::from_node(&Node::from_json(s, Pos::default())))
            .unwrap_or_default();
        let read = |field: &str| -> Result<Option<IntOrPercent>, SimError> {
            match o.pointer(&format!("/spec/{field}")) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => IntOrPercent::from_json(v)
                    .map(Some)
                    .ok_or_else(|| SimError::Object {
                        file: file.to_string(),
                        object: format!("PodDisruptionBudget/{}", name(o)),
                        message: format!("spec.{field}: {v} is neither a count nor a percentage"),
                    }),
            }
        };
        let min_available = read("minAvailable")?;
        let max_unavailable = read("maxUnavailable")?;
        let meta = self.new_meta(o);
        self.pdbs.push(Pdb {
            meta,
            selector,
            min_available,
            max_unavailable,
        });
        Ok(())
    }

    pub(crate) fn add_hpa(&mut self, file: &str, o: &serde_json::Value) -> Result<(), SimError> {
        use crate::hpa::{HpaSpec, Policy, PolicyKind, Rules, SelectPolicy, Target};
        let err = |message: String| SimError::Object {
            file: file.to_string(),
            object: format!("HorizontalPodAutoscaler/{}", name(o)),
            message,
        };
        let ns = namespace(o);
        let target = o
            .pointer("/spec/scaleTargetRef/name")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if o.pointer("/spec/scaleTargetRef/kind")
            .and_then(|v| v.as_str())
            != Some("Deployment")
        {
            self.notes.push(format!(
                "HorizontalPodAutoscaler/{}: only Deployments are scaled in the simulator",
                name(o)
            ));
            return Ok(());
        }
        let Some(dep) = self
            .deps
            .iter()
            .position(|d| d.meta.name == target && d.meta.namespace == ns)
        else {
            return Err(err(format!(
                "spec.scaleTargetRef: no Deployment {target} in {ns}"
            )));
        };
        let min = o
            .pointer("/spec/minReplicas")
            .and_then(|v| v.as_i64())
            .unwrap_or(1) as i32;
        let max = o
            .pointer("/spec/maxReplicas")
            .and_then(|v| v.as_i64())
            .ok_or_else(|| err("spec.maxReplicas is missing".into()))? as i32;
        // One CPU metric (Resource or ContainerResource); upstream's default is 80 %.
        let metrics = o
            .pointer("/spec/metrics")
            .and_then(|m| m.as_array())
            .cloned()
            .unwrap_or_default();
        let mut target_spec = if metrics.is_empty() {
            Some(Target::Utilization(80))
        } else {
            None
        };
        for m in &metrics {
            let src = m.get("resource").or_else(|| m.get("containerResource"));
            let Some(src) = src else { continue };
            if src.get("name").and_then(|v| v.as_str()) != Some("cpu") {
                continue;
            }
            let t = src.get("target");
            if let Some(u) = t
                .and_then(|t| t.get("averageUtilization"))
                .and_then(|v| v.as_i64())
            {
                target_spec = Some(Target::Utilization(u as i32));
            } else if let Some(v) = t.and_then(|t| t.get("averageValue")) {
                let milli = v
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_i64().map(|i| i.to_string()))
                    .and_then(|q| berth_manifest::quantity::Quantity::parse(&q).ok())
                    .and_then(|q| i64::try_from(q.millis()).ok());
                target_spec = milli.map(Target::AverageValueMilli);
            }
        }
        let Some(target_spec) = target_spec else {
            self.notes.push(format!(
                "HorizontalPodAutoscaler/{}: no CPU metric, so it is not simulated (replicas stay at {min})",
                name(o)
            ));
            return Ok(());
        };
        let rules = |dir: &str, default: Rules| -> Rules {
            let Some(r) = o.pointer(&format!("/spec/behavior/{dir}")) else {
                return default;
            };
            let mut out = default;
            if let Some(w) = r.get("stabilizationWindowSeconds").and_then(|v| v.as_u64()) {
                out.stabilization_window_seconds = w as u32;
            }
            match r.get("selectPolicy").and_then(|v| v.as_str()) {
                Some("Min") => out.select_policy = SelectPolicy::Min,
                Some("Disabled") => out.select_policy = SelectPolicy::Disabled,
                Some(_) => out.select_policy = SelectPolicy::Max,
                None => {}
            }
            if let Some(ps) = r.get("policies").and_then(|v| v.as_array()) {
                out.policies = ps
                    .iter()
                    .filter_map(|p| {
                        Some(Policy {
                            kind: match p.get("type")?.as_str()? {
                                "Pods" => PolicyKind::Pods,
                                _ => PolicyKind::Percent,
                            },
                            value: p.get("value")?.as_i64()? as i32,
                            period_seconds: p.get("periodSeconds")?.as_u64()? as u32,
                        })
                    })
                    .collect();
            }
            out
        };
        let mut spec = HpaSpec::cpu_utilization(min, max, 80);
        spec.target = target_spec;
        spec.behavior_unset = o.pointer("/spec/behavior").is_none();
        spec.scale_up = rules("scaleUp", Rules::default_scale_up());
        spec.scale_down = rules("scaleDown", Rules::default_scale_down());
        let meta = self.new_meta(o);
        self.hpas.push(crate::world::Hpa {
            meta,
            dep,
            spec,
            state: Default::default(),
        });
        Ok(())
    }

    pub(crate) fn add_deployment(
        &mut self,
        file: &str,
        o: &serde_json::Value,
        replicas: i32,
    ) -> Result<(), SimError> {
        let err = |message: String| SimError::Object {
            file: file.to_string(),
            object: format!("Deployment/{}", name(o)),
            message,
        };
        let tpl_json = o
            .pointer("/spec/template")
            .cloned()
            .ok_or_else(|| err("spec.template is missing".into()))?;
        let tpl = crate::template::read(&tpl_json, &self.sc.control_plane)
            .map_err(|e| err(e.to_string()))?;
        let app_name = app_of(o.pointer("/spec/template/metadata/labels"), &name(o));
        let app = self
            .apps
            .iter()
            .position(|a| a.name == app_name)
            .ok_or_else(|| err(format!("no app named {app_name}")))?;
        let selector = o
            .pointer("/spec/selector")
            .map(|s| LabelSelector::from_node(&Node::from_json(s, Pos::default())))
            .ok_or_else(|| err("spec.selector is missing".into()))?;
        if !selector.matches(&tpl.labels) {
            return Err(err(
                "spec.selector does not match the template's labels (the API server refuses it)"
                    .into(),
            ));
        }
        let strategy = o.pointer("/spec/strategy");
        let recreate = strategy
            .and_then(|s| s.get("type"))
            .and_then(|t| t.as_str())
            == Some("Recreate");
        let get = |field: &str, default: IntOrPercent| -> Result<IntOrPercent, SimError> {
            match strategy.and_then(|s| s.pointer(&format!("/rollingUpdate/{field}"))) {
                None | Some(serde_json::Value::Null) => Ok(default),
                Some(v) => IntOrPercent::from_json(v)
                    .ok_or_else(|| err(format!("spec.strategy.rollingUpdate.{field}: {v} is neither a count nor a percentage"))),
            }
        };
        let max_surge = get("maxSurge", IntOrPercent::Percent(25))?;
        let max_unavailable = get("maxUnavailable", IntOrPercent::Percent(25))?;
        let min_ready = o
            .pointer("/spec/minReadySeconds")
            .and_then(|v| v.as_u64())
            .unwrap_or(0)
            * 1000;
        let history_limit = o
            .pointer("/spec/revisionHistoryLimit")
            .and_then(|v| v.as_u64())
            .unwrap_or(10) as usize;
        let meta = self.new_meta(o);
        let id = self.deps.len();
        self.apps[app].deps.push(id);
        self.deps.push(Dep {
            meta,
            app,
            replicas,
            selector,
            tpl: Rc::new(tpl),
            max_surge,
            max_unavailable,
            recreate,
            min_ready,
            history_limit,
            rss: Vec::new(),
            revision: 0,
            rolling: false,
            removed: false,
        });
        self.notify(crate::engine::Change::Dep(id));
        Ok(())
    }
}

fn kind(o: &serde_json::Value) -> String {
    o.get("kind")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

fn name(o: &serde_json::Value) -> String {
    o.pointer("/metadata/name")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

fn namespace(o: &serde_json::Value) -> String {
    o.pointer("/metadata/namespace")
        .and_then(|v| v.as_str())
        .unwrap_or("default")
        .to_string()
}
