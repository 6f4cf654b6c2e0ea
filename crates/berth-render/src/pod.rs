//! The pod template: where most of the seeds' lessons live.

use std::collections::BTreeMap;

use berth_model::{Application, Probe, Protocol, Resolved, WhenUnsatisfiable};
use k8s_openapi::api::core::v1::{
    Affinity, Capabilities, ConfigMapKeySelector, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, ExecAction, HTTPGetAction, Lifecycle, LifecycleHandler, NodeAffinity,
    NodeSelectorRequirement, NodeSelectorTerm, PodSecurityContext, PodSpec, PodTemplateSpec,
    PreferredSchedulingTerm, Probe as KProbe, ResourceRequirements, SeccompProfile,
    SecretKeySelector, SecurityContext, SleepAction, TCPSocketAction, Toleration,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::app::METRICS_PORT;
use crate::labels::{app_selector, match_labels, version_labels};

/// Name of the main container.
pub const CONTAINER: &str = "app";
/// User and group the container runs as when the spec does not say (above 10000, so it
/// matches no user of the host, as kube-score recommends).
const DEFAULT_UID: i64 = 10001;
/// Seconds between readiness and startup checks.
const PROBE_PERIOD: i32 = 5;
/// Seconds before a check times out.
const PROBE_TIMEOUT: i32 = 2;
/// Longest start allowed when liveness is set and the spec gives no startup probe.
const DEFAULT_MAX_START: i32 = 120;

pub(crate) fn pod_template(app: &Application, r: &Resolved) -> PodTemplateSpec {
    let s = &app.spec;
    let uid = s.security.run_as_user.unwrap_or(DEFAULT_UID);
    let gid = s.security.run_as_group.unwrap_or(DEFAULT_UID);

    let mut annotations = BTreeMap::new();
    if let Some(m) = s.ports.iter().find(|p| p.name == METRICS_PORT) {
        annotations.insert("prometheus.io/scrape".to_string(), "true".to_string());
        annotations.insert("prometheus.io/port".to_string(), m.port.to_string());
        annotations.insert("prometheus.io/path".to_string(), "/metrics".to_string());
    }

    let scratch_limit = s.resources.scratch.clone().map(KQuantity);
    let mut volumes = vec![Volume {
        name: "tmp".into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: scratch_limit.clone(),
            medium: None,
        }),
        ..Default::default()
    }];
    let mut mounts = vec![VolumeMount {
        name: "tmp".into(),
        mount_path: "/tmp".into(),
        ..Default::default()
    }];
    for (i, path) in s.security.writable_paths.iter().enumerate() {
        let name = format!("writable-{i}");
        volumes.push(Volume {
            name: name.clone(),
            empty_dir: Some(EmptyDirVolumeSource {
                size_limit: scratch_limit.clone(),
                medium: None,
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name,
            mount_path: path.clone(),
            ..Default::default()
        });
    }

    let mut env: Vec<EnvVar> = s.env.iter().map(env_var).collect();
    let mut command = s.command.clone();
    let mut init_containers = None;
    let mut extra_ports = Vec::new();
    if let Some(init) = &s.init {
        // berth-init is PID 1: it runs the command after `--`, reads its drain from the
        // environment, and takes over the preStop hook's job.
        command = [INIT_PATH.to_string(), "--".to_string()]
            .into_iter()
            .chain(s.command.iter().cloned())
            .collect();
        env.extend(init_env(app, init));
        if let Some(port) = init.metrics_port {
            extra_ports.push(ContainerPort {
                name: Some(INIT_PORT.into()),
                container_port: port,
                protocol: Some("TCP".into()),
                ..Default::default()
            });
        }
        volumes.push(Volume {
            name: INIT_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource {
                medium: Some("Memory".into()),
                size_limit: Some(KQuantity("8Mi".into())),
            }),
            ..Default::default()
        });
        mounts.push(VolumeMount {
            name: INIT_VOLUME.into(),
            mount_path: INIT_DIR.into(),
            read_only: Some(true),
            ..Default::default()
        });
        init_containers = Some(vec![init_install(init, r.request_ratio)]);
    }
    let mut ports: Vec<ContainerPort> = s
        .ports
        .iter()
        .map(|p| ContainerPort {
            name: Some(p.name.clone()),
            container_port: p.port,
            protocol: Some(
                match p.protocol {
                    Protocol::TCP => "TCP",
                    Protocol::UDP => "UDP",
                }
                .into(),
            ),
            ..Default::default()
        })
        .collect();
    ports.extend(extra_ports);
    let container = Container {
        name: CONTAINER.into(),
        image: Some(r.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: (!command.is_empty()).then_some(command),
        args: (!s.args.is_empty()).then(|| s.args.clone()),
        env: (!env.is_empty()).then_some(env),
        ports: (!ports.is_empty()).then_some(ports),
        resources: Some(resources(app, r)),
        readiness_probe: readiness(app),
        startup_probe: startup(app),
        liveness_probe: s.probes.liveness.as_ref().map(|l| KProbe {
            period_seconds: Some(l.period_seconds.unwrap_or(10)),
            ..probe(app, l)
        }),
        lifecycle: if s.init.is_some() {
            None
        } else {
            pre_stop(app)
        },
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            ..Default::default()
        }),
        volume_mounts: Some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    };

    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(version_labels(app, r)),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        }),
        spec: Some(PodSpec {
            service_account_name: Some(r.name.clone()),
            automount_service_account_token: Some(false),
            // Seed 001: every Service in the namespace becomes environment variables; with
            // enough of them, exec fails with E2BIG.
            enable_service_links: Some(false),
            termination_grace_period_seconds: Some(r.grace_seconds),
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(uid),
                run_as_group: Some(gid),
                fs_group: Some(gid),
                seccomp_profile: Some(SeccompProfile {
                    type_: "RuntimeDefault".into(),
                    localhost_profile: None,
                }),
                ..Default::default()
            }),
            init_containers,
            containers: vec![container],
            volumes: Some(volumes),
            node_selector: (!s.placement.node_selector.is_empty())
                .then(|| s.placement.node_selector.clone()),
            affinity: node_affinity(app),
            topology_spread_constraints: Some(spread(r)),
            tolerations: Some(
                [
                    "node.kubernetes.io/not-ready",
                    "node.kubernetes.io/unreachable",
                ]
                .into_iter()
                .map(|key| Toleration {
                    key: Some(key.into()),
                    operator: Some("Exists".into()),
                    effect: Some("NoExecute".into()),
                    toleration_seconds: Some(r.not_ready_toleration_seconds),
                    value: None,
                })
                .collect(),
            ),
            ..Default::default()
        }),
    }
}

fn env_var(e: &berth_model::EnvVar) -> EnvVar {
    let split = |r: &String| {
        let (n, k) = r.split_once('/').unwrap_or((r.as_str(), ""));
        (n.to_string(), k.to_string())
    };
    EnvVar {
        name: e.name.clone(),
        value: e.value.clone(),
        value_from: if let Some(s) = &e.secret {
            let (name, key) = split(s);
            Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name,
                    key,
                    optional: None,
                }),
                ..Default::default()
            })
        } else if let Some(c) = &e.config_map {
            let (name, key) = split(c);
            Some(EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name,
                    key,
                    optional: None,
                }),
                ..Default::default()
            })
        } else {
            None
        },
    }
}

/// Seed 003 §2.3: core requests equal limits (Guaranteed); other tiers request a share.
fn resources(app: &Application, r: &Resolved) -> ResourceRequirements {
    let s = &app.spec.resources;
    let (cpu_req, mem_req) = if r.request_ratio >= 1.0 {
        (s.cpu.clone(), s.memory.clone())
    } else {
        (
            r.cpu_request.to_string(),
            format_bytes(r.memory_request.units()),
        )
    };
    ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), KQuantity(cpu_req)),
            ("memory".to_string(), KQuantity(mem_req)),
        ])),
        limits: Some(BTreeMap::from([
            ("cpu".to_string(), KQuantity(s.cpu.clone())),
            ("memory".to_string(), KQuantity(s.memory.clone())),
        ])),
        claims: None,
    }
}

fn format_bytes(b: i128) -> String {
    for (suffix, shift) in [("Gi", 30), ("Mi", 20), ("Ki", 10)] {
        if b > 0 && b % (1 << shift) == 0 {
            return format!("{}{suffix}", b >> shift);
        }
    }
    b.to_string()
}

fn port_ref(app: &Application, p: &Probe) -> IntOrString {
    match &p.port {
        Some(port) => match port.parse::<i32>() {
            Ok(n) => IntOrString::Int(n),
            Err(_) => IntOrString::String(port.clone()),
        },
        None => IntOrString::String(
            app.spec
                .primary_tcp_port()
                .map(|p| p.name.clone())
                .unwrap_or_default(),
        ),
    }
}

fn probe(app: &Application, p: &Probe) -> KProbe {
    KProbe {
        http_get: p.http.as_ref().map(|path| HTTPGetAction {
            path: Some(path.clone()),
            port: port_ref(app, p),
            scheme: Some("HTTP".into()),
            ..Default::default()
        }),
        tcp_socket: (p.tcp == Some(true)).then(|| TCPSocketAction {
            port: port_ref(app, p),
            host: None,
        }),
        exec: p.exec.as_ref().map(|c| ExecAction {
            command: Some(c.clone()),
        }),
        period_seconds: Some(p.period_seconds.unwrap_or(PROBE_PERIOD)),
        timeout_seconds: Some(p.timeout_seconds.unwrap_or(PROBE_TIMEOUT)),
        failure_threshold: Some(p.failure_threshold.unwrap_or(3)),
        success_threshold: Some(1),
        ..Default::default()
    }
}

/// The readiness check: the spec's, or a TCP check of the primary port (seed 000: readiness
/// only, by default).
fn readiness_check(app: &Application) -> Option<Probe> {
    app.spec.readiness_check()
}

fn readiness(app: &Application) -> Option<KProbe> {
    readiness_check(app).map(|p| probe(app, &p))
}

/// A startup probe when asked for, and always when liveness is set, so that a slow start
/// is never mistaken for a dead process (seed 003 §5).
fn startup(app: &Application) -> Option<KProbe> {
    let p = &app.spec.probes;
    let max = match (&p.startup, &p.liveness) {
        (Some(s), _) => s.max_start_seconds,
        (None, Some(_)) => DEFAULT_MAX_START,
        (None, None) => return None,
    };
    let check = p
        .startup
        .as_ref()
        .and_then(|s| s.check.clone())
        .or_else(|| readiness_check(app))?;
    let period = check.period_seconds.unwrap_or(PROBE_PERIOD);
    Some(KProbe {
        // The kubelet allows failureThreshold × periodSeconds to start.
        failure_threshold: Some((max + period - 1) / period),
        period_seconds: Some(period),
        ..probe(app, &check)
    })
}

/// Seed 003 §1: the pod leaves the endpoints while preStop runs, so preStop waits until load
/// balancers have forgotten it; with `waitForConnections` it also waits until no connection
/// is established on the app's ports (read from /proc/net/tcp, no netstat needed).
fn pre_stop(app: &Application) -> Option<Lifecycle> {
    let sh = &app.spec.shutdown;
    let tcp_ports: Vec<String> = app
        .spec
        .ports
        .iter()
        .filter(|p| p.protocol == Protocol::TCP)
        .map(|p| format!("{:04X}", p.port))
        .collect();
    let handler = if sh.wait_for_connections && !tcp_ports.is_empty() {
        let script = format!(
            // A deadline, not a count of rounds: a CPU-throttled pod must not outlive the
            // grace period that was computed from the timeout.
            "sleep {drain}; end=$(($(date +%s) + {timeout})); while [ $(date +%s) -lt $end ] && cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4==\"01\"{{n=split($2,a,\":\"); if (a[n] ~ /^({ports})$/) f=1}} END{{exit !f}}'; do sleep 1; done",
            drain = sh.drain_seconds,
            timeout = sh.connection_timeout_seconds,
            ports = tcp_ports.join("|"),
        );
        LifecycleHandler {
            exec: Some(ExecAction {
                command: Some(vec!["/bin/sh".into(), "-c".into(), script]),
            }),
            ..Default::default()
        }
    } else if sh.drain_seconds > 0 {
        LifecycleHandler {
            sleep: Some(SleepAction {
                seconds: i64::from(sh.drain_seconds),
            }),
            ..Default::default()
        }
    } else {
        return None;
    };
    Some(Lifecycle {
        pre_stop: Some(handler),
        ..Default::default()
    })
}

/// Where berth-init is copied to, and runs from.
const INIT_DIR: &str = "/berth/bin";
const INIT_PATH: &str = "/berth/bin/berth-init";
const INIT_VOLUME: &str = "berth-init";
const INIT_PORT: &str = "berth-init";

/// berth-init's settings as its environment variables (so that PID 1 and anything else
/// reading them agree), from the Application's shutdown and init blocks.
fn init_env(app: &Application, init: &berth_model::Init) -> Vec<EnvVar> {
    let sh = &app.spec.shutdown;
    let var = |name: &str, value: String| EnvVar {
        name: name.into(),
        value: Some(value),
        ..Default::default()
    };
    let tcp_ports: Vec<String> = app
        .spec
        .ports
        .iter()
        .filter(|p| p.protocol == Protocol::TCP)
        .map(|p| p.port.to_string())
        .collect();
    // After SIGTERM: the connection wait (when asked for) and the app's own stop, the same
    // budget the grace period was computed from.
    let timeout = if sh.wait_for_connections {
        sh.connection_timeout_seconds
    } else {
        0
    } + sh.app_stop_seconds;
    let mut out = vec![
        var("BERTH_INIT_DRAIN_DELAY", format!("{}s", sh.drain_seconds)),
        var("BERTH_INIT_DRAIN_TIMEOUT", format!("{timeout}s")),
        var(
            "BERTH_INIT_DRAIN_PORTS",
            if sh.wait_for_connections && !tcp_ports.is_empty() {
                tcp_ports.join(",")
            } else {
                "none".into()
            },
        ),
    ];
    if !init.wait_for.is_empty() {
        out.push(var("BERTH_INIT_WAIT_FOR", init.wait_for.join(",")));
        out.push(var(
            "BERTH_INIT_WAIT_TIMEOUT",
            format!("{}s", init.wait_timeout_seconds.unwrap_or(60)),
        ));
    }
    if !init.start.is_empty() {
        // One JSON array a line: arguments keep their spaces, nothing goes through a shell.
        let lines: Vec<String> = init
            .start
            .iter()
            .map(|c| serde_json::to_string(c).unwrap_or_default())
            .collect();
        out.push(var("BERTH_INIT_START", lines.join("\n")));
    }
    if let Some(limit) = init.restart_limit.filter(|l| *l > 0) {
        out.push(var("BERTH_INIT_RESTART", "on-failure".into()));
        out.push(var("BERTH_INIT_RESTART_LIMIT", limit.to_string()));
        out.push(var("BERTH_INIT_RESTART_WINDOW", "10m".into()));
    }
    if let Some(port) = init.metrics_port {
        out.push(var("BERTH_INIT_HTTP_LISTEN", port.to_string()));
    }
    out
}

/// The init container that copies the static berth-init binary into the pod.
fn init_install(init: &berth_model::Init, ratio: f64) -> Container {
    // The copy needs little; its requests follow the tier's ratio like the app's, so the
    // pod keeps the QoS class its tier asks for.
    let (cpu_limit, mem_limit_mi) = (50.0, 16.0);
    let ratio = ratio.clamp(0.0, 1.0);
    let limits = BTreeMap::from([
        ("cpu".to_string(), KQuantity(format!("{cpu_limit}m"))),
        ("memory".to_string(), KQuantity(format!("{mem_limit_mi}Mi"))),
    ]);
    let requests = BTreeMap::from([
        (
            "cpu".to_string(),
            KQuantity(format!("{}m", (cpu_limit * ratio).ceil() as i64)),
        ),
        (
            "memory".to_string(),
            KQuantity(format!("{}Mi", (mem_limit_mi * ratio).ceil() as i64)),
        ),
    ]);
    Container {
        name: "berth-init-install".into(),
        image: Some(init.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec!["cp".into(), "/berth-init".into(), INIT_PATH.into()]),
        resources: Some(ResourceRequirements {
            requests: Some(requests),
            limits: Some(limits),
            ..Default::default()
        }),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            privileged: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            ..Default::default()
        }),
        volume_mounts: Some(vec![VolumeMount {
            name: INIT_VOLUME.into(),
            mount_path: INIT_DIR.into(),
            ..Default::default()
        }]),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}

/// Preferred node affinity (spot first, then on-demand, ...).
fn node_affinity(app: &Application) -> Option<Affinity> {
    let prefs = &app.spec.placement.node_preferences;
    if prefs.is_empty() {
        return None;
    }
    Some(Affinity {
        node_affinity: Some(NodeAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(
                prefs
                    .iter()
                    .map(|p| PreferredSchedulingTerm {
                        weight: p.weight,
                        preference: NodeSelectorTerm {
                            match_expressions: Some(
                                p.labels
                                    .iter()
                                    .map(|(k, v)| NodeSelectorRequirement {
                                        key: k.clone(),
                                        operator: "In".into(),
                                        values: Some(vec![v.clone()]),
                                    })
                                    .collect(),
                            ),
                            match_fields: None,
                        },
                    })
                    .collect(),
            ),
            required_during_scheduling_ignored_during_execution: None,
        }),
        ..Default::default()
    })
}

/// Seed 000: spread every app over access switches and hosts. The selector covers all
/// versions, so a release keeps the whole app spread.
fn spread(r: &Resolved) -> Vec<TopologySpreadConstraint> {
    let switch_mode = match r.when_unsatisfiable {
        WhenUnsatisfiable::ScheduleAnyway => "ScheduleAnyway",
        WhenUnsatisfiable::DoNotSchedule => "DoNotSchedule",
    };
    [
        (r.switch_label.as_str(), switch_mode),
        ("kubernetes.io/hostname", "ScheduleAnyway"),
    ]
    .into_iter()
    .map(|(key, mode)| TopologySpreadConstraint {
        max_skew: 1,
        topology_key: key.into(),
        when_unsatisfiable: mode.into(),
        label_selector: Some(match_labels(app_selector(r))),
        node_taints_policy: Some("Honor".into()),
        ..Default::default()
    })
    .collect()
}
