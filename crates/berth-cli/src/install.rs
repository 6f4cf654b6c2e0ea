//! `berth install`: everything a cluster needs to run berth's operator, as manifests for
//! `kubectl apply -f -`: the CRDs, the operator's namespace, a least-privilege ClusterRole
//! and a Role for its Lease, and the operator itself, rendered by berth from an Application
//! (so `berth doctor` holds it to the same rules as any app).

use anyhow::{Context, Result, bail};
use berth_model::release::Release;
use berth_model::{Application, load_applications};
use clap::Args;
use kube::CustomResourceExt;
use serde_json::{Value, json};

use crate::Outcome;
use crate::render::Format;

/// Arguments of `berth install`.
#[derive(Args)]
pub struct InstallArgs {
    /// Namespace the operator runs in.
    #[arg(long, default_value = "berth-system")]
    namespace: String,
    /// The operator's image repository (the tag is berth's version).
    #[arg(long, default_value = "ghcr.io/berth-dev/berth-operator")]
    image: String,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
}

const NAME: &str = "berth-operator";

/// The operator as an Application: berth renders it like any service.
fn operator_app(namespace: &str, image: &str) -> Result<Application> {
    let text = format!(
        "apiVersion: berth.dev/v1alpha1
kind: Application
metadata: {{name: {NAME}, namespace: {namespace}}}
spec:
  image: {image}
  version: \"{version}\"
  tier: core
  productLine: platform
  owner: berth
  command: [/berth-operator]
  ports: [{{name: metrics, port: 8080}}]
  resources: {{cpu: 500m, memory: 256Mi}}
  probes:
    readiness: {{http: /healthz, port: metrics}}
  scaling: {{minReplicas: 2, maxReplicas: 2}}
  shutdown: {{drainSeconds: 0, waitForConnections: false, connectionTimeoutSeconds: 0, appStopSeconds: 10}}
",
        version = env!("CARGO_PKG_VERSION"),
    );
    let (apps, diags) = load_applications("berth-install", &text);
    // Warnings count too: what berth installs must pass its own advice.
    if let Some(d) = diags.first() {
        bail!("the operator's own Application draws a diagnostic: {d}");
    }
    apps.into_iter()
        .next()
        .context("the operator's Application did not load")
}

/// What the operator may do, and nothing more: read Applications, drive Releases and their
/// status, create and scale Deployments and autoscalers, read the budgets, and publish
/// Events.
fn cluster_role() -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": NAME, "labels": {"app.kubernetes.io/name": NAME}},
        "rules": [
            {"apiGroups": ["berth.dev"], "resources": ["applications"], "verbs": ["get", "list", "watch"]},
            {"apiGroups": ["berth.dev"], "resources": ["applications/status"], "verbs": ["get", "patch"]},
            // `create`: a new `spec.version` on an Application starts its Release.
            {"apiGroups": ["berth.dev"], "resources": ["releases"], "verbs": ["get", "list", "watch", "create", "patch"]},
            {"apiGroups": ["berth.dev"], "resources": ["releases/status"], "verbs": ["get", "patch"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
            {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
            // `delete`: the losing version's objects go once `retainPrevious` has passed.
            {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
            // Canary routing: one Service per version, the app's Ingress pointed at the old
            // version and a canary Ingress, deleted when the release ends.
            {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "create", "patch", "delete"]},
            {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": ["get", "list", "create", "patch", "delete"]},
            // Terminating pods count until gone (the Deployment status needs a feature gate).
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},
            // The Application controller applies what `berth render` writes, and deletes
            // what it made and no longer renders (`list` finds it by label).
            {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get", "list", "create", "patch", "delete"]},
            {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "list", "create", "patch", "delete"]},
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
        ],
    })
}

/// The Lease lives in the operator's namespace: a Role there, not cluster-wide.
fn lease_role(namespace: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": format!("{NAME}-leader-election"), "namespace": namespace},
        "rules": [
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update", "patch"]},
        ],
    })
}

fn bindings(namespace: &str) -> [Value; 2] {
    let subject = json!([{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}]);
    [
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NAME},
            "subjects": subject,
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": format!("{NAME}-leader-election"), "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("{NAME}-leader-election")},
            "subjects": subject,
        }),
    ]
}

/// The operator talks to the API server: unlike an app it needs its token, and it names
/// itself in the Lease and on Events by its pod.
fn operator_needs(object: &mut Value) {
    match object["kind"].as_str() {
        Some("ServiceAccount") => object["automountServiceAccountToken"] = json!(true),
        Some("Deployment") => {
            // Two replicas for failover; one leads at a time, so there is nothing for an
            // autoscaler to do (the HPA berth would render is left out).
            object["spec"]["replicas"] = json!(2);
            let pod = &mut object["spec"]["template"]["spec"];
            pod["automountServiceAccountToken"] = json!(true);
            let env = json!([
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            ]);
            if let Some(c) = pod["containers"].get_mut(0) {
                c["env"] = env;
            }
        }
        _ => {}
    }
}

/// Every object `berth install` prints, in apply order.
pub fn objects(namespace: &str, image: &str) -> Result<Vec<Value>> {
    let mut out = vec![
        serde_json::to_value(Application::crd())?,
        serde_json::to_value(Release::crd())?,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
        cluster_role(),
        lease_role(namespace),
    ];
    out.extend(bindings(namespace));
    let app = operator_app(namespace, image)?;
    for m in berth_render::render(&app, None)? {
        if m.kind() == "HorizontalPodAutoscaler" {
            continue;
        }
        let mut o = m.to_json()?;
        operator_needs(&mut o);
        out.push(o);
    }
    Ok(out)
}

/// `berth install`.
pub fn install(args: &InstallArgs) -> Result<Outcome> {
    let objects = objects(&args.namespace, &args.image)?;
    match args.output {
        Format::Json => {
            let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Format::Yaml => {
            for o in &objects {
                print!("---\n{}", serde_saphyr::to_string(o)?);
            }
        }
    }
    Ok(Outcome::Clean)
}
