//! Objects of one version: Deployment, HorizontalPodAutoscaler, PodDisruptionBudget, and a
//! Service of its own when the app routes canary traffic.

use berth_model::{Application, Budget, CpuTarget, Resolved};
use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment,
};
use k8s_openapi::api::autoscaling::v2::{
    ContainerResourceMetricSource, CrossVersionObjectReference, HPAScalingPolicy, HPAScalingRules,
    HorizontalPodAutoscaler, HorizontalPodAutoscalerBehavior, HorizontalPodAutoscalerSpec,
    MetricIdentifier, MetricSpec, MetricTarget, PodsMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as KQuantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::Manifest;
use crate::labels::{match_labels, meta, version_labels, version_selector};
use crate::pod::{CONTAINER, pod_template};

pub(crate) fn render_version(app: &Application, r: &Resolved) -> Vec<Manifest> {
    let labels = version_labels(app, r);
    let startup_budget = app
        .spec
        .probes
        .startup
        .as_ref()
        .map_or(0, |s| s.max_start_seconds);
    let deployment = Deployment {
        metadata: meta(&r.workload_name, r, labels.clone()),
        spec: Some(DeploymentSpec {
            // No `replicas`: the HPA owns the count, and a `replicas` field would reset it on
            // every apply.
            replicas: None,
            selector: match_labels(version_selector(r)),
            template: pod_template(app, r),
            revision_history_limit: Some(5),
            progress_deadline_seconds: Some(600.max(startup_budget + 120)),
            // In-place changes of one version surge without taking capacity away.
            strategy: Some(DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(RollingUpdateDeployment {
                    max_surge: Some(IntOrString::String("25%".into())),
                    max_unavailable: Some(IntOrString::Int(0)),
                }),
            }),
            ..Default::default()
        }),
        ..Default::default()
    };

    // Seed 003 §2.1.1: a Pod-level utilization adds sidecar usage to the app's; measuring
    // the app container alone keeps the target honest.
    let cpu = |target| MetricSpec {
        type_: "ContainerResource".into(),
        container_resource: Some(ContainerResourceMetricSource {
            container: CONTAINER.into(),
            name: "cpu".into(),
            target,
        }),
        ..Default::default()
    };
    let metric = match &r.cpu_target {
        CpuTarget::Utilization(u) => cpu(MetricTarget {
            type_: "Utilization".into(),
            average_utilization: Some(*u),
            ..Default::default()
        }),
        CpuTarget::Average(q) => cpu(MetricTarget {
            type_: "AverageValue".into(),
            average_value: Some(KQuantity(q.to_string())),
            ..Default::default()
        }),
        CpuTarget::Metric { name, average } => MetricSpec {
            type_: "Pods".into(),
            pods: Some(PodsMetricSource {
                metric: MetricIdentifier {
                    name: name.clone(),
                    selector: None,
                },
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(KQuantity(average.to_string())),
                    ..Default::default()
                },
            }),
            ..Default::default()
        },
    };
    let hpa = HorizontalPodAutoscaler {
        metadata: meta(&r.workload_name, r, labels.clone()),
        spec: Some(HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: r.workload_name.clone(),
            },
            min_replicas: Some(r.min_replicas),
            max_replicas: r.max_replicas,
            metrics: Some(vec![metric]),
            // Seed 003 §2.4.2: bounded scaling speed stops replica counts from oscillating.
            behavior: Some(HorizontalPodAutoscalerBehavior {
                scale_up: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(0),
                    select_policy: Some("Max".into()),
                    policies: Some(vec![
                        HPAScalingPolicy {
                            type_: "Percent".into(),
                            value: r.scale_up_percent_per_minute,
                            period_seconds: 60,
                        },
                        HPAScalingPolicy {
                            type_: "Pods".into(),
                            value: 4,
                            period_seconds: 60,
                        },
                    ]),
                    tolerance: None,
                }),
                scale_down: Some(HPAScalingRules {
                    stabilization_window_seconds: Some(r.scale_down_stabilization_seconds),
                    select_policy: Some("Min".into()),
                    policies: Some(vec![HPAScalingPolicy {
                        type_: "Percent".into(),
                        value: r.scale_down_percent_per_minute,
                        period_seconds: 60,
                    }]),
                    tolerance: None,
                }),
            }),
        }),
        ..Default::default()
    };

    let (min_available, max_unavailable) = match r.budget {
        Budget::MinAvailablePercent(p) => (Some(IntOrString::String(format!("{p}%"))), None),
        Budget::MaxUnavailablePercent(p) => (None, Some(IntOrString::String(format!("{p}%")))),
    };
    let pdb = PodDisruptionBudget {
        metadata: meta(&r.workload_name, r, labels.clone()),
        spec: Some(PodDisruptionBudgetSpec {
            selector: Some(match_labels(version_selector(r))),
            min_available,
            max_unavailable,
            // A crash-looping pod must not block a node drain.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
        }),
        ..Default::default()
    };

    let mut out = Vec::with_capacity(4);
    // Canary routing needs a backend per version: a release points the Ingress at the old
    // version's Service and its canary Ingress at the new one's.
    if app.spec.release.canary.is_some()
        && let Some(service) =
            crate::app::version_service(app, r, &r.workload_name, version_selector(r))
    {
        out.push(Manifest::Service(service));
    }
    out.extend([
        Manifest::Deployment(deployment),
        Manifest::HorizontalPodAutoscaler(hpa),
        Manifest::PodDisruptionBudget(pdb),
    ]);
    out
}
