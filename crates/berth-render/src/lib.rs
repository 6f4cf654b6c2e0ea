//! The renderer: one [`Application`] and a version in, best-practice Kubernetes objects out.
//!
//! Per version it emits a Deployment `<app>-<version>`, its HorizontalPodAutoscaler and its
//! PodDisruptionBudget (seed 003: one Deployment + HPA + PDB per version makes canary and
//! grouped releases possible), and, when the app routes canary traffic, a Service of that
//! version alone. Per app it emits a ServiceAccount, a stable Service selecting every
//! version, a NetworkPolicy and, when exposed, an Ingress to that Service. A release under
//! canary routing uses [`main_ingress`], [`version_service`] and [`canary_ingress`] to
//! send exact shares of the host's traffic to each version. Every default the seeds
//! learnt the hard way is baked in; `docs/defaults.md` explains each.
//!
//! Start with [`render`]; [`to_yaml`] prints the result for `kubectl apply -f -`.
//! Pure: this crate must not read files, print, or look at a clock.

mod app;
mod labels;
mod pod;
mod version;

use berth_model::{Application, ResolveError};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

pub use app::canary_ingress_name;
pub use labels::{APP_LABEL, VERSION_LABEL};

/// Why an Application could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The version could not be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// The Application still has validation errors.
    #[error("{app}: the spec has errors: {}", issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The Application.
        app: String,
        /// Its errors, with field paths and fixes.
        issues: Vec<berth_model::Issue>,
    },
    /// An object could not be turned into YAML or JSON.
    #[error("cannot serialize {what}: {message}")]
    Serialize {
        /// Which object.
        what: String,
        /// Why.
        message: String,
    },
}

/// One rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Manifest {
    /// The app's ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// The stable Service over every version.
    Service(Service),
    /// Who may call the app.
    NetworkPolicy(NetworkPolicy),
    /// HTTP exposure.
    Ingress(Ingress),
    /// One version's pods.
    Deployment(Deployment),
    /// One version's autoscaler.
    HorizontalPodAutoscaler(HorizontalPodAutoscaler),
    /// One version's disruption budget.
    PodDisruptionBudget(PodDisruptionBudget),
}

impl Manifest {
    /// The object as JSON, with `apiVersion` and `kind`.
    pub fn to_json(&self) -> Result<serde_json::Value, RenderError> {
        let r = match self {
            Manifest::ServiceAccount(o) => serde_json::to_value(o),
            Manifest::Service(o) => serde_json::to_value(o),
            Manifest::NetworkPolicy(o) => serde_json::to_value(o),
            Manifest::Ingress(o) => serde_json::to_value(o),
            Manifest::Deployment(o) => serde_json::to_value(o),
            Manifest::HorizontalPodAutoscaler(o) => serde_json::to_value(o),
            Manifest::PodDisruptionBudget(o) => serde_json::to_value(o),
        };
        r.map_err(|e| RenderError::Serialize {
            what: self.kind().to_string(),
            message: e.to_string(),
        })
    }

    /// The object's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::ServiceAccount(_) => "ServiceAccount",
            Manifest::Service(_) => "Service",
            Manifest::NetworkPolicy(_) => "NetworkPolicy",
            Manifest::Ingress(_) => "Ingress",
            Manifest::Deployment(_) => "Deployment",
            Manifest::HorizontalPodAutoscaler(_) => "HorizontalPodAutoscaler",
            Manifest::PodDisruptionBudget(_) => "PodDisruptionBudget",
        }
    }
}

/// Renders the per-app objects and one version's objects, in apply order.
///
/// `version` overrides the spec's version and the image tag. The Application must have
/// passed validation ([`Application::validate`] with no errors).
pub fn render(app: &Application, version: Option<&str>) -> Result<Vec<Manifest>, RenderError> {
    let issues: Vec<berth_model::Issue> = app
        .validate()
        .into_iter()
        .filter(|i| i.severity == berth_model::Severity::Error)
        .collect();
    if !issues.is_empty() {
        return Err(RenderError::Invalid {
            app: app.metadata.name.clone().unwrap_or_default(),
            issues,
        });
    }
    let r = app.resolved(version)?;
    let mut out = app::render_app(app, &r);
    out.extend(version::render_version(app, &r));
    Ok(out)
}

/// The canary Ingress a release of `app` to `version` applies while it runs, sending
/// `weight` percent of the host's requests (and every request with the app's canary cookie
/// or header) to that version's Service; `None` when the app routes no canary traffic.
/// Without `pinned`, the cookie and header no longer pick the new version (a rollback).
pub fn canary_ingress(
    app: &Application,
    version: &str,
    weight: u32,
    pinned: bool,
) -> Result<Option<Manifest>, RenderError> {
    let r = app.resolved(Some(version))?;
    Ok(app::canary_ingress(app, &r, weight, pinned).map(Manifest::Ingress))
}

/// The app's Ingress sending its host to Service `backend` (the app's own name at rest);
/// `None` when the app is not exposed.
pub fn main_ingress(app: &Application, backend: &str) -> Result<Option<Manifest>, RenderError> {
    let r = app.resolved(None)?;
    Ok(app::main_ingress(app, &r, backend).map(Manifest::Ingress))
}

/// A Service named `name` over the pods `selector` picks (one version's: a Deployment's
/// `matchLabels`), with the app's ports; `None` when the app has no ports.
pub fn version_service(
    app: &Application,
    name: &str,
    selector: std::collections::BTreeMap<String, String>,
) -> Result<Option<Manifest>, RenderError> {
    let r = app.resolved(None)?;
    Ok(app::version_service(app, &r, name, selector).map(Manifest::Service))
}

/// Prints objects as a multi-document YAML stream, ready for `kubectl apply -f -`.
pub fn to_yaml(objects: &[Manifest]) -> Result<String, RenderError> {
    let mut out = String::new();
    for o in objects {
        let json = o.to_json()?;
        // Long one-line strings (shell hooks) stay on one line, as kubectl prints them.
        let options = serde_saphyr::ser_options! { folded_wrap_chars: 1 << 20 };
        let yaml = serde_saphyr::to_string_with_options(&json, options).map_err(|e| {
            RenderError::Serialize {
                what: o.kind().to_string(),
                message: e.to_string(),
            }
        })?;
        out.push_str("---\n");
        out.push_str(&yaml);
        if !yaml.ends_with('\n') {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Prints objects as a JSON `List`, the shape `kubectl get -o json` prints.
pub fn to_json_list(objects: &[Manifest]) -> Result<String, RenderError> {
    let items = objects
        .iter()
        .map(Manifest::to_json)
        .collect::<Result<Vec<_>, _>>()?;
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
    serde_json::to_string_pretty(&list).map_err(|e| RenderError::Serialize {
        what: "List".into(),
        message: e.to_string(),
    })
}
