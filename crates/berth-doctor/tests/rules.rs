//! Edge cases of individual rules, as tables: each case is a short manifest and the exact
//! (rule, severity, path) findings of the rule under test.

use berth_doctor::{Severity, check};
use berth_manifest::load_objects;

struct Case {
    name: &'static str,
    rule: &'static str,
    yaml: &'static str,
    want: &'static [(Severity, &'static str)],
}

fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let (objs, errs) = load_objects("case.yaml", c.yaml);
        assert!(errs.is_empty(), "{}: {errs:?}", c.name);
        let got: Vec<(Severity, String)> = check(&objs)
            .into_iter()
            .filter(|f| f.rule == c.rule)
            .map(|f| (f.severity, f.path))
            .collect();
        let want: Vec<(Severity, String)> =
            c.want.iter().map(|(s, p)| (*s, p.to_string())).collect();
        if got != want {
            failures.push(format!("{}: want {want:?}, got {got:?}", c.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

use Severity::*;

#[test]
fn pdb_blocks_eviction_cases() {
    run(&[
        Case {
            name: "minAvailable 1 at HPA minReplicas 1 blocks, even with spec.replicas 2",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: 'a:1'}]}\n",
                "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: a}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 5}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}\nspec: {minAvailable: 1, selector: {matchLabels: {app: web}}}\n"
            ),
            want: &[(Error, "spec.minAvailable")],
        },
        Case {
            name: "maxUnavailable 0 blocks",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: a}\nspec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: db, image: 'pg:16'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: db, namespace: a}\nspec: {maxUnavailable: 0, selector: {matchLabels: {app: db}}}\n"
            ),
            want: &[(Error, "spec.maxUnavailable")],
        },
        Case {
            name: "a PDB with neither field blocks",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  replicas: 4\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}\nspec: {selector: {matchLabels: {app: web}}}\n"
            ),
            want: &[(Error, "spec")],
        },
        Case {
            name: "two Deployments add up: 65% of 2+1 = ceil(1.95) = 2, one allowed",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v1, namespace: a}\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {app: web, version: v1}}\n    spec: {containers: [{name: app, image: 'a:1'}]}\n",
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: v2, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web, version: v2}}\n    spec: {containers: [{name: app, image: 'a:2'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}\nspec: {minAvailable: 65%, selector: {matchLabels: {app: web}}}\n"
            ),
            want: &[],
        },
        Case {
            name: "a PDB in another namespace does not count",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: b}\nspec: {minAvailable: 1, selector: {matchLabels: {app: web}}}\n"
            ),
            want: &[],
        },
        Case {
            name: "an empty selector selects nothing in policy/v1beta1",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}\nspec: {minAvailable: 1, selector: {}}\n"
            ),
            want: &[],
        },
        Case {
            name: "an empty selector selects every pod in policy/v1",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: app, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: a}\nspec: {minAvailable: 1, selector: {}}\n"
            ),
            want: &[(Error, "spec.minAvailable")],
        },
        Case {
            name: "a DaemonSet among the selected pods makes the arithmetic unknowable: skipped",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: a, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: agent, namespace: a}\nspec: {minAvailable: 100%, selector: {matchLabels: {app: agent}}}\n"
            ),
            want: &[],
        },
    ]);
}

#[test]
fn hpa_cases() {
    let target = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: app, image: 'a:1', resources: {requests: {cpu: 100m, memory: 1Gi}, limits: {memory: 1Gi}}}\n";
    let two = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: app, image: 'a:1', resources: {requests: {cpu: 100m, memory: 1Gi}, limits: {memory: 1Gi}}}\n      - {name: proxy, image: 'p:1'}\n";
    let leaked = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    run(&[
        Case {
            name: "an autoscaling/v1 HPA is a cpu Utilization target",
            rule: "hpa-utilization-with-sidecar",
            yaml: leaked(format!(
                "{two}---\napiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: a}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, maxReplicas: 4, targetCPUUtilizationPercentage: 50}}\n"
            )),
            want: &[(Warning, "spec.targetCPUUtilizationPercentage")],
        },
        Case {
            name: "a v2 HPA without metrics defaults to 80% cpu Utilization",
            rule: "hpa-utilization-with-sidecar",
            yaml: leaked(format!(
                "{two}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: a}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, maxReplicas: 4}}\n"
            )),
            want: &[(Warning, "spec.metrics")],
        },
        Case {
            name: "a ContainerResource metric is what the rule asks for",
            rule: "hpa-utilization-with-sidecar",
            yaml: leaked(format!(
                "{two}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: a}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, maxReplicas: 4, metrics: [{{type: ContainerResource, containerResource: {{name: cpu, container: app, target: {{type: Utilization, averageUtilization: 60}}}}}}]}}\n"
            )),
            want: &[],
        },
        Case {
            name: "a namespace labelled for Istio injection adds a sidecar",
            rule: "hpa-utilization-with-sidecar",
            yaml: leaked(format!(
                "apiVersion: v1\nkind: Namespace\nmetadata: {{name: a, labels: {{istio-injection: enabled}}}}\n---\n{target}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: a}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, maxReplicas: 4, metrics: [{{type: Resource, resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 70}}}}}}]}}\n"
            )),
            want: &[(
                Warning,
                "spec.metrics[0].resource.target.averageUtilization",
            )],
        },
        Case {
            name: "v2beta1 targetAverageUtilization is read too",
            rule: "hpa-utilization-without-requests",
            yaml: leaked(format!(
                "{two}---\napiVersion: autoscaling/v2beta1\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: a}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, maxReplicas: 4, metrics: [{{type: Resource, resource: {{name: cpu, targetAverageUtilization: 70}}}}]}}\n"
            )),
            want: &[(Error, "spec.metrics[0].resource.targetAverageUtilization")],
        },
        Case {
            name: "a ContainerResource metric only needs its own container's request",
            rule: "hpa-utilization-without-requests",
            yaml: leaked(format!(
                "{two}---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web, namespace: a}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, maxReplicas: 4, metrics: [{{type: ContainerResource, containerResource: {{name: cpu, container: app, target: {{type: Utilization, averageUtilization: 60}}}}}}]}}\n"
            )),
            want: &[],
        },
        Case {
            name: "autoscaling/v1 cannot express behavior",
            rule: "hpa-missing-behavior",
            yaml: "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 4}\n",
            want: &[(Info, "apiVersion")],
        },
        Case {
            name: "minReplicas defaults to 1, so maxReplicas 1 never scales",
            rule: "hpa-min-equals-max",
            yaml: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 1}\n",
            want: &[(Info, "spec.maxReplicas")],
        },
    ]);
}

#[test]
fn workload_rule_cases() {
    run(&[
        Case {
            name: "a CronJob's pod spec is read from its jobTemplate",
            rule: "service-links-enabled",
            yaml: "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: 'c:1'}]}}}}}\n",
            want: &[(
                Warning,
                "spec.jobTemplate.spec.template.spec.enableServiceLinks",
            )],
        },
        Case {
            name: "a bare Pod's spec is at the root",
            rule: "short-not-ready-toleration",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  tolerations:\n  - {key: node.kubernetes.io/not-ready, operator: Exists, tolerationSeconds: 10}\n  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoSchedule, tolerationSeconds: 10}\n  containers: [{name: c, image: 'c:1'}]\n",
            want: &[(Warning, "spec.tolerations[0].tolerationSeconds")],
        },
        Case {
            name: "a DaemonSet's ports count as serving only behind a Service",
            rule: "missing-prestop",
            yaml: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: exporter}\nspec:\n  template:\n    metadata: {labels: {app: exporter}}\n    spec: {containers: [{name: e, image: 'e:1', ports: [{containerPort: 9100}]}]}\n",
            want: &[],
        },
        Case {
            name: "a Service selecting a pod without declared ports makes its first container serving",
            rule: "missing-readiness-probe",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: 'a:1'}, {name: b, image: 'b:1'}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n",
            want: &[(Warning, "spec.template.spec.containers[0].readinessProbe")],
        },
        Case {
            name: "metrics-only ports do not make a container serving",
            rule: "missing-readiness-probe",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker}\nspec:\n  template:\n    spec: {containers: [{name: w, image: 'w:1', ports: [{name: metrics, containerPort: 9090}]}]}\n",
            want: &[],
        },
        Case {
            name: "a native sidecar init container with a preStop sleep is checked against the grace period",
            rule: "grace-period-too-short",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: 20\n      initContainers:\n      - {name: proxy, image: 'p:1', restartPolicy: Always, lifecycle: {preStop: {sleep: {seconds: 20}}}}\n      containers: [{name: a, image: 'a:1'}]\n",
            want: &[(Error, "spec.template.spec.terminationGracePeriodSeconds")],
        },
        Case {
            name: "init containers need resources too; limits give requests",
            rule: "missing-resources",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: [{name: i, image: 'i:1'}]\n  containers: [{name: c, image: 'c:1', resources: {limits: {cpu: '1', memory: 1Gi}}}]\n",
            want: &[(Error, "spec.initContainers[0].resources")],
        },
        Case {
            name: "core tier read from the pod template label; integer and suffixed quantities compare exactly",
            rule: "qos-mismatch-tier",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {tier: core}}\n    spec:\n      containers:\n      - {name: a, image: 'a:1', resources: {requests: {cpu: 2, memory: 1073741824}, limits: {cpu: 2000m, memory: 1Gi}}}\n      - {name: b, image: 'b:1', resources: {requests: {cpu: 1, memory: 1Gi}, limits: {cpu: 1, memory: 2Gi}}}\n",
            want: &[(Warning, "spec.template.spec.containers[1].resources")],
        },
        Case {
            name: "HPA max 2+ counts as replicated for pdb-missing",
            rule: "pdb-missing",
            yaml: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: 'a:1'}]}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3}\n",
            want: &[(Warning, "spec.template.metadata.labels")],
        },
        Case {
            name: "required podAntiAffinity on hostname is spread enough",
            rule: "no-spread",
            yaml: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  replicas: 3\n  template:\n    spec:\n      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: db}}}]}}\n      containers: [{name: db, image: 'pg:16'}]\n",
            want: &[],
        },
        Case {
            name: "container runAsNonRoot false overrides the pod's true",
            rule: "insecure-security-context",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - {name: c, image: 'c:1', securityContext: {runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}}\n",
            want: &[(Warning, "spec.containers[0].securityContext")],
        },
        Case {
            name: "Windows pods are not held to Linux settings",
            rule: "insecure-security-context",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  os: {name: windows}\n  containers: [{name: c, image: 'c:1'}]\n",
            want: &[],
        },
        Case {
            name: "privileged and CAP_SYS_ADMIN spelled with its prefix",
            rule: "privileged-container",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: 'c:1', securityContext: {privileged: true, capabilities: {add: [CAP_SYS_ADMIN, CHOWN]}}}]\n",
            want: &[
                (Error, "spec.hostPID"),
                (Error, "spec.containers[0].securityContext.privileged"),
                (
                    Error,
                    "spec.containers[0].securityContext.capabilities.add[0]",
                ),
            ],
        },
        Case {
            name: "a read-only hostPath is info",
            rule: "host-path-mount",
            yaml: "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: logs}\nspec:\n  template:\n    spec:\n      volumes: [{name: varlog, hostPath: {path: /var/log}}]\n      containers: [{name: c, image: 'c:1', volumeMounts: [{name: varlog, mountPath: /var/log, readOnly: true}]}]\n",
            want: &[(Info, "spec.template.spec.volumes[0].hostPath")],
        },
        Case {
            name: "explicit enableServiceLinks: true is still reported",
            rule: "service-links-enabled",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {enableServiceLinks: true, containers: [{name: c, image: 'c:1'}]}\n",
            want: &[(Warning, "spec.enableServiceLinks")],
        },
        Case {
            name: "a LimitRange in the namespace supplies missing requests and limits",
            rule: "missing-resources",
            yaml: "apiVersion: v1\nkind: LimitRange\nmetadata: {name: d, namespace: a}\nspec: {limits: [{type: Container, default: {cpu: 500m, memory: 512Mi}}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: [{name: c, image: 'c:1'}]}\n",
            want: &[],
        },
        Case {
            name: "a kind named Deployment in another API group is not a workload",
            rule: "missing-resources",
            yaml: "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: [{name: c, image: 'c:1'}]}}}\n",
            want: &[],
        },
    ]);
    // Separately, because it needs a workload plus the policy.
    run(&[Case {
        name: "a workload no policy selects in a namespace with policies",
        rule: "missing-network-policy",
        yaml: concat!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: api-only, namespace: a}\nspec: {podSelector: {matchExpressions: [{key: app, operator: In, values: [api]}]}}\n---\n",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - {name: app, image: 'a:1', resources: {requests: {cpu: 100m, memory: 1Gi}, limits: {memory: 1Gi}}}\n"
        ),
        want: &[(Warning, "spec.template.metadata.labels")],
    }]);
}
