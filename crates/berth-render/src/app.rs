//! Objects shared by every version of an app: ServiceAccount, Service, NetworkPolicy,
//! Ingress.

use std::collections::BTreeMap;

use berth_model::{Application, Protocol, Resolved};
use k8s_openapi::api::core::v1::{Service, ServiceAccount, ServicePort, ServiceSpec};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, NetworkPolicy, NetworkPolicyIngressRule,
    NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::Manifest;
use crate::labels::{app_labels, app_selector, match_labels, meta};

/// Namespace of the ingress controller when the spec names none.
pub const DEFAULT_INGRESS_NAMESPACE: &str = "ingress-nginx";
/// Namespace of Prometheus when the spec names none.
pub const DEFAULT_MONITORING_NAMESPACE: &str = "monitoring";
/// The port name Prometheus scrapes.
pub const METRICS_PORT: &str = "metrics";

pub(crate) fn render_app(app: &Application, r: &Resolved) -> Vec<Manifest> {
    let labels = app_labels(app, r);
    let mut out = vec![Manifest::ServiceAccount(ServiceAccount {
        metadata: meta(&r.name, r, labels.clone()),
        // Seed 003 §6: pods that do not call the API server carry no token.
        automount_service_account_token: Some(false),
        ..Default::default()
    })];
    if let Some(ports) = service_ports(app) {
        out.push(Manifest::Service(Service {
            metadata: meta(&r.name, r, labels.clone()),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(app_selector(r)),
                ports: Some(ports),
                ..Default::default()
            }),
            ..Default::default()
        }));
    }
    out.push(Manifest::NetworkPolicy(network_policy(
        app,
        r,
        labels.clone(),
    )));
    // To the Service of every version: applying a new version's manifests by hand never
    // sends traffic to pods that are not ready. A release under canary routing points it at
    // the old version's Service while it runs (see [`main_ingress`]).
    if let Some(ingress) = ingress(app, r, &r.name, &r.name, BTreeMap::new()) {
        out.push(Manifest::Ingress(ingress));
    }
    out
}

/// The app's Ingress sending its host to Service `backend`: the app's own (every version)
/// at rest, one version's while a release routes canary traffic.
pub(crate) fn main_ingress(app: &Application, r: &Resolved, backend: &str) -> Option<Ingress> {
    ingress(app, r, &r.name, backend, BTreeMap::new())
}

/// A Service over one version's pods (`selector`), with the app's ports; `None` when the
/// app has no ports.
pub(crate) fn version_service(
    app: &Application,
    r: &Resolved,
    name: &str,
    selector: BTreeMap<String, String>,
) -> Option<Service> {
    let ports = service_ports(app)?;
    let mut labels = app_labels(app, r);
    labels.extend(selector.clone());
    Some(Service {
        metadata: meta(name, r, labels),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector),
            ports: Some(ports),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// The Service ports of an app (none without ports).
pub(crate) fn service_ports(app: &Application) -> Option<Vec<ServicePort>> {
    let ports = &app.spec.ports;
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|p| ServicePort {
                name: Some(p.name.clone()),
                port: p.port,
                target_port: Some(IntOrString::String(p.name.clone())),
                protocol: Some(protocol(p.protocol).into()),
                ..Default::default()
            })
            .collect()
    })
}

/// The app's Ingress named `name`, sending its host and path to Service `backend`; `None`
/// when the app is not exposed.
fn ingress(
    app: &Application,
    r: &Resolved,
    name: &str,
    backend: &str,
    annotations: BTreeMap<String, String>,
) -> Option<Ingress> {
    let s = &app.spec;
    let e = s.expose.as_ref()?;
    let port = e
        .port
        .clone()
        .or_else(|| s.primary_tcp_port().map(|p| p.name.clone()))
        .unwrap_or_default();
    let mut metadata = meta(name, r, app_labels(app, r));
    if !annotations.is_empty() {
        metadata.annotations = Some(annotations);
    }
    Some(Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: Some(e.ingress_class.clone().unwrap_or_else(|| "nginx".into())),
            rules: Some(vec![IngressRule {
                host: Some(e.host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some(e.path.clone().unwrap_or_else(|| "/".into())),
                        path_type: "Prefix".into(),
                        backend: IngressBackend {
                            service: Some(IngressServiceBackend {
                                name: backend.to_string(),
                                port: Some(ServiceBackendPort {
                                    name: Some(port),
                                    number: None,
                                }),
                            }),
                            resource: None,
                        },
                    }],
                }),
            }]),
            tls: e.tls_secret.as_ref().map(|secret| {
                vec![IngressTLS {
                    hosts: Some(vec![e.host.clone()]),
                    secret_name: Some(secret.clone()),
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// ingress-nginx's canary annotations (<https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#canary>).
const CANARY: &str = "nginx.ingress.kubernetes.io/canary";

/// The canary Ingress of a release: the app's host and path, sent to the new version's
/// Service for `weight` percent of requests, and always for requests carrying the app's
/// canary cookie or header (set to `always`, or to `headerValue`). `None` when the app
/// routes no canary traffic.
pub(crate) fn canary_ingress(
    app: &Application,
    r: &Resolved,
    weight: u32,
    pinned: bool,
) -> Option<Ingress> {
    let c = app.spec.release.canary.as_ref()?;
    let mut a = BTreeMap::from([
        (CANARY.to_string(), "true".to_string()),
        (format!("{CANARY}-weight"), weight.min(100).to_string()),
    ]);
    if !pinned {
        return ingress(app, r, &canary_ingress_name(&r.name), &r.workload_name, a);
    }
    if let Some(cookie) = &c.cookie {
        a.insert(format!("{CANARY}-by-cookie"), cookie.clone());
    }
    if let Some(header) = &c.header {
        a.insert(format!("{CANARY}-by-header"), header.clone());
    }
    if let Some(value) = &c.header_value {
        a.insert(format!("{CANARY}-by-header-value"), value.clone());
    }
    ingress(app, r, &canary_ingress_name(&r.name), &r.workload_name, a)
}

/// The name of an app's canary Ingress.
pub fn canary_ingress_name(app: &str) -> String {
    format!("{app}-canary")
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::TCP => "TCP",
        Protocol::UDP => "UDP",
    }
}

/// Seed 003 §6: only the same product line (plus the lines the spec allows), the ingress
/// controller when exposed, and Prometheus on the metrics port may connect. With no ports
/// the policy admits nothing.
fn network_policy(
    app: &Application,
    r: &Resolved,
    labels: BTreeMap<String, String>,
) -> NetworkPolicy {
    let s = &app.spec;
    let all_ports: Vec<NetworkPolicyPort> = s
        .ports
        .iter()
        .map(|p| NetworkPolicyPort {
            port: Some(IntOrString::Int(p.port)),
            protocol: Some(protocol(p.protocol).into()),
            end_port: None,
        })
        .collect();
    let ns_by_name = |ns: &str| LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "kubernetes.io/metadata.name".to_string(),
            ns.to_string(),
        )])),
        ..Default::default()
    };
    let mut rules = Vec::new();
    if !s.ports.is_empty() {
        let mut lines = vec![s.product_line.clone()];
        lines.extend(s.network.allow_from.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        lines.retain(|l| seen.insert(l.clone()));
        rules.push(NetworkPolicyIngressRule {
            from: Some(
                lines
                    .into_iter()
                    .map(|pl| NetworkPolicyPeer {
                        namespace_selector: Some(LabelSelector::default()),
                        pod_selector: Some(match_labels(BTreeMap::from([(
                            "berth.dev/product-line".to_string(),
                            pl,
                        )]))),
                        ip_block: None,
                    })
                    .collect(),
            ),
            ports: Some(all_ports.clone()),
        });
    }
    if let Some(e) = &s.expose {
        let port = e
            .port
            .as_deref()
            .or(s.primary_tcp_port().map(|p| p.name.as_str()));
        let ports: Vec<NetworkPolicyPort> = s
            .ports
            .iter()
            .zip(all_ports.iter())
            .filter(|(p, _)| Some(p.name.as_str()) == port)
            .map(|(_, np)| np.clone())
            .collect();
        rules.push(NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(ns_by_name(
                    s.network
                        .ingress_namespace
                        .as_deref()
                        .unwrap_or(DEFAULT_INGRESS_NAMESPACE),
                )),
                ..Default::default()
            }]),
            ports: Some(ports),
        });
    }
    if let Some((_, np)) = s
        .ports
        .iter()
        .zip(all_ports.iter())
        .find(|(p, _)| p.name == METRICS_PORT)
    {
        rules.push(NetworkPolicyIngressRule {
            from: Some(vec![NetworkPolicyPeer {
                namespace_selector: Some(ns_by_name(
                    s.network
                        .monitoring_namespace
                        .as_deref()
                        .unwrap_or(DEFAULT_MONITORING_NAMESPACE),
                )),
                ..Default::default()
            }]),
            ports: Some(vec![np.clone()]),
        });
    }
    NetworkPolicy {
        metadata: meta(&r.name, r, labels),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(match_labels(app_selector(r))),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(rules),
            egress: None,
        }),
    }
}
