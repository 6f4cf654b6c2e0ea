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
    let s = &app.spec;
    if !s.ports.is_empty() {
        out.push(Manifest::Service(Service {
            metadata: meta(&r.name, r, labels.clone()),
            spec: Some(ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(app_selector(r)),
                ports: Some(
                    s.ports
                        .iter()
                        .map(|p| ServicePort {
                            name: Some(p.name.clone()),
                            port: p.port,
                            target_port: Some(IntOrString::String(p.name.clone())),
                            protocol: Some(protocol(p.protocol).into()),
                            ..Default::default()
                        })
                        .collect(),
                ),
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
    if let Some(e) = &s.expose {
        let port = e
            .port
            .clone()
            .or_else(|| s.primary_tcp_port().map(|p| p.name.clone()))
            .unwrap_or_default();
        out.push(Manifest::Ingress(Ingress {
            metadata: meta(&r.name, r, labels),
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
                                    name: r.name.clone(),
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
        }));
    }
    out
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
