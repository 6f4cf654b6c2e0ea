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
            name: "a percentage minAvailable over DaemonSet pods: no /scale, so disruptionsAllowed is 0",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: a, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: agent, namespace: a}\nspec: {minAvailable: 50%, selector: {matchLabels: {app: agent}}}\n"
            ),
            want: &[(Error, "spec.minAvailable")],
        },
        Case {
            name: "an integer minAvailable over DaemonSet pods works; the pod count is unknown: not judged",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: a}\nspec:\n  template:\n    metadata: {labels: {app: agent}}\n    spec: {containers: [{name: a, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: agent, namespace: a}\nspec: {minAvailable: 2, selector: {matchLabels: {app: agent}}}\n"
            ),
            want: &[],
        },
        Case {
            name: "maxUnavailable over a bare Pod: no controller to size, disruptionsAllowed 0",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: a, labels: {app: solo}}\nspec: {containers: [{name: a, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: solo, namespace: a}\nspec: {maxUnavailable: 1, selector: {matchLabels: {app: solo}}}\n"
            ),
            want: &[(Error, "spec.maxUnavailable")],
        },
        Case {
            name: "a Deployment and a DaemonSet under one maxUnavailable PDB: the Deployment's drains block too",
            rule: "pdb-blocks-eviction",
            yaml: concat!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  replicas: 5\n  template:\n    metadata: {labels: {tier: edge}}\n    spec: {containers: [{name: a, image: 'a:1'}]}\n",
                "---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: a}\nspec:\n  template:\n    metadata: {labels: {tier: edge}}\n    spec: {containers: [{name: a, image: 'a:1'}]}\n",
                "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: edge, namespace: a}\nspec: {maxUnavailable: 1, selector: {matchLabels: {tier: edge}}}\n"
            ),
            want: &[(Error, "spec.maxUnavailable")],
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
            name: "init containers need resources too; limits give requests, so the pod is Burstable: a warning",
            rule: "missing-resources",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  initContainers: [{name: i, image: 'i:1'}]\n  containers: [{name: c, image: 'c:1', resources: {limits: {cpu: '1', memory: 1Gi}}}]\n",
            want: &[(Warning, "spec.initContainers[0].resources.requests")],
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
            yaml: "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  replicas: 3\n  template:\n    metadata: {labels: {app: db}}\n    spec:\n      affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: db}}}]}}\n      containers: [{name: db, image: 'pg:16'}]\n",
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

/// The findings of one rule over a manifest.
fn of(rule: &str, yaml: &str) -> Vec<berth_doctor::Finding> {
    let (objs, errs) = load_objects("case.yaml", yaml);
    assert!(errs.is_empty(), "{errs:?}");
    check(&objs)
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

/// A Deployment named `web` in namespace `a` with labels `app: web`; `spec` is the pod spec
/// (indented for `    spec:`) and `extra` follows as more documents.
fn deployment(spec: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: a}}\nspec:\n  replicas: 3\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n{spec}{extra}"
    )
}

#[test]
fn missing_resources_reads_qos_per_pod() {
    // Field-test repro: an init container without resources next to an app container with
    // requests and a memory limit. The pod is Burstable (QoS is per pod), so: a warning
    // that does not claim BestEffort, and no HPA wording for an init container.
    let repro = deployment(
        "      initContainers: [{name: init, image: 'busybox:1.36'}]\n      containers:\n      - {name: app, image: 'a:1', resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}}\n",
        "",
    );
    let f = of("missing-resources", &repro);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].severity, Warning);
    assert_eq!(
        f[0].path,
        "spec.template.spec.initContainers[0].resources.requests"
    );
    assert!(f[0].message.contains("not BestEffort"), "{}", f[0].message);
    assert!(!f[0].message.contains("HPA"), "{}", f[0].message);

    // Every container, init included, without requests or limits: BestEffort, an error on
    // each; only the app container's message mentions the HPA.
    let best_effort = deployment(
        "      initContainers: [{name: init, image: 'busybox:1.36'}]\n      containers: [{name: app, image: 'a:1'}]\n",
        "",
    );
    let f = of("missing-resources", &best_effort);
    let got: Vec<(Severity, &str)> = f.iter().map(|f| (f.severity, f.path.as_str())).collect();
    assert_eq!(
        got,
        [
            (Error, "spec.template.spec.initContainers[0].resources"),
            (Error, "spec.template.spec.containers[0].resources"),
        ]
    );
    assert!(
        f.iter()
            .all(|f| f.message.contains("the pod is BestEffort")),
        "{f:?}"
    );
    assert!(!f[0].message.contains("HPA"), "{}", f[0].message);
    assert!(f[1].message.contains("HPA"), "{}", f[1].message);

    // A native sidecar (restartPolicy: Always) counts for the HPA.
    let sidecar = deployment(
        "      initContainers: [{name: proxy, image: 'p:1', restartPolicy: Always, resources: {limits: {memory: 64Mi}}}]\n      containers:\n      - {name: app, image: 'a:1', resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 64Mi}}}\n",
        "",
    );
    let f = of("missing-resources", &sidecar);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].severity, Warning);
    assert!(
        f[0].message.contains("an HPA on cpu utilization"),
        "{}",
        f[0].message
    );
}

#[test]
fn serving_ignores_metrics_only_services_but_keeps_true_positives() {
    let pod =
        "      containers:\n      - {name: app, image: 'a:1', ports: [{containerPort: 8082}]}\n";
    let svc = |name: &str, labels: &str, ports: &str| {
        format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: a{labels}}}\nspec: {{selector: {{app: web}}, ports: [{ports}]}}\n"
        )
    };
    let cases: Vec<(&str, String, bool)> = vec![
        (
            "a Service named *-metrics targeting the unnamed port (argocd-metrics)",
            deployment(
                pod,
                &svc(
                    "web-metrics",
                    "",
                    "{name: metrics, port: 8082, targetPort: 8082}",
                ),
            ),
            false,
        ),
        (
            "a Service whose every port is named like metrics",
            deployment(
                pod,
                &svc(
                    "web",
                    "",
                    "{name: http-metrics, port: 8082}, {name: telemetry, port: 8083}",
                ),
            ),
            false,
        ),
        (
            "a Service labelled app.kubernetes.io/component: exporter (kube-prometheus)",
            deployment(
                pod,
                &svc(
                    "web",
                    ", labels: {app.kubernetes.io/component: exporter}",
                    "{name: https, port: 8082, targetPort: 8082}",
                ),
            ),
            false,
        ),
        (
            "a Service with an unnamed port serves",
            deployment(pod, &svc("web", "", "{port: 80, targetPort: 8082}")),
            true,
        ),
        (
            "a metrics Service next to a serving one: still serving",
            deployment(
                pod,
                &format!(
                    "{}{}",
                    svc("web-metrics", "", "{name: metrics, port: 9090}"),
                    svc("web", "", "{name: http, port: 80, targetPort: 8082}")
                ),
            ),
            true,
        ),
        (
            "no Service, only an unnamed port: serving (as before)",
            deployment(pod, ""),
            true,
        ),
    ];
    for (name, yaml, serving) in cases {
        for rule in ["missing-prestop", "missing-readiness-probe"] {
            assert_eq!(!of(rule, &yaml).is_empty(), serving, "{rule}: {name}");
        }
    }
    // A metrics exporter sidecar in a served pod: only the app container serves.
    let sidecar = deployment(
        "      containers:\n      - {name: app, image: 'a:1', ports: [{name: http, containerPort: 8080}]}\n      - {name: exporter, image: 'e:1', ports: [{name: metrics, containerPort: 9090}]}\n",
        &svc("web", "", "{name: http, port: 80, targetPort: http}"),
    );
    let paths: Vec<String> = of("missing-prestop", &sidecar)
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(
        paths,
        ["spec.template.spec.containers[0].lifecycle.preStop"]
    );
}

#[test]
fn missing_prestop_always_suggests_a_15s_sleep_and_a_30s_grace_period() {
    let short = deployment(
        "      terminationGracePeriodSeconds: 10\n      containers: [{name: app, image: 'a:1', ports: [{name: http, containerPort: 8080}]}]\n",
        "",
    );
    let f = of("missing-prestop", &short);
    assert!(
        f[0].fix.contains("preStop: {sleep: {seconds: 15}}"),
        "{}",
        f[0].fix
    );
    assert!(f[0].fix.contains("from 10 to 30"), "{}", f[0].fix);
    let long = deployment(
        "      terminationGracePeriodSeconds: 90\n      containers: [{name: app, image: 'a:1', ports: [{name: http, containerPort: 8080}]}]\n",
        "",
    );
    let f = of("missing-prestop", &long);
    assert!(f[0].fix.contains("seconds: 15"), "{}", f[0].fix);
    assert!(f[0].fix.contains("at 90 or more"), "{}", f[0].fix);
}

#[test]
fn liveness_equals_readiness_only_for_exec_and_http() {
    let probe = |h: &str| {
        deployment(
            &format!(
                "      containers:\n      - {{name: app, image: 'a:1', ports: [{{name: http, containerPort: 8080}}], livenessProbe: {h}, readinessProbe: {h}}}\n"
            ),
            "",
        )
    };
    for (h, want) in [
        ("{tcpSocket: {port: 8080}}", 0),
        ("{grpc: {port: 8080}}", 0),
        ("{httpGet: {path: /healthz, port: http}}", 1),
        ("{exec: {command: [check-db]}}", 1),
    ] {
        assert_eq!(
            of("liveness-equals-readiness", &probe(h)).len(),
            want,
            "{h}"
        );
    }
}

#[test]
fn host_path_mount_cases() {
    let pod = |kind: &str, host: &str, ro: bool| {
        let head = if kind == "DaemonSet" {
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent}\nspec:\n  template:\n    spec:\n".to_string()
        } else {
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n".to_string()
        };
        format!(
            "{head}      volumes: [{{name: v, hostPath: {{path: {host}}}}}]\n      containers: [{{name: c, image: 'c:1', volumeMounts: [{{name: v, mountPath: /m, readOnly: {ro}}}]}}]\n"
        )
    };
    let cases: &[(&str, &str, bool, Severity)] = &[
        ("DaemonSet", "/var/log", true, Info),
        ("DaemonSet", "/var/lib/docker/containers", true, Info),
        ("DaemonSet", "/run/log/journal", true, Info),
        ("DaemonSet", "/var/log", false, Warning),
        ("DaemonSet", "/var/run", true, Error),
        ("DaemonSet", "/run/containerd", true, Error),
        ("DaemonSet", "/var/lib/kubelet/pods", true, Error),
        ("DaemonSet", "/sys/fs/cgroup", true, Error),
        ("Deployment", "/etc/kubernetes/", true, Error),
        ("Deployment", "/opt/data", false, Warning),
    ];
    for (kind, host, ro, want) in cases {
        let f = of("host-path-mount", &pod(kind, host, *ro));
        assert_eq!(f.len(), 1, "{kind} {host}");
        assert_eq!(f[0].severity, *want, "{kind} {host}: {}", f[0].message);
    }
    // A DaemonSet is a node agent: no "pinned to one node" wording.
    let f = of("host-path-mount", &pod("DaemonSet", "/var/log", false));
    assert!(!f[0].message.contains("pinned"), "{}", f[0].message);
    assert!(f[0].message.contains("DaemonSet"), "{}", f[0].message);
    let f = of("host-path-mount", &pod("Deployment", "/opt/data", false));
    assert!(f[0].message.contains("pinned"), "{}", f[0].message);
}

#[test]
fn no_spread_needs_a_selector_that_matches_the_workloads_own_pods() {
    let sts = |affinity: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: zk}}\nspec:\n  replicas: 3\n  selector: {{matchLabels: {{app.kubernetes.io/name: zk}}}}\n  template:\n    metadata: {{labels: {{app.kubernetes.io/name: zk, app.kubernetes.io/version: '3.9'}}}}\n    spec:\n{affinity}      containers: [{{name: zk, image: 'zk:3.9'}}]\n"
        )
    };
    let anti = |sel: &str| {
        format!(
            "      affinity: {{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: kubernetes.io/hostname{sel}}}]}}}}\n"
        )
    };
    // kubernetes/website zookeeper.yaml: `app In [zk]` on pods labelled app.kubernetes.io/name.
    let f = of(
        "no-spread",
        &sts(&anti(
            ", labelSelector: {matchExpressions: [{key: app, operator: In, values: [zk]}]}",
        )),
    );
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].path,
        "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector"
    );
    assert!(
        f[0].message
            .contains("does not match the pod-template labels"),
        "{}",
        f[0].message
    );
    // The fix selects with spec.selector, never with the version label.
    assert!(
        f[0].fix
            .contains("{matchLabels: {app.kubernetes.io/name: zk}}"),
        "{}",
        f[0].fix
    );
    assert!(!f[0].fix.contains("version"), "{}", f[0].fix);
    // No labelSelector at all: matches no pods.
    let f = of("no-spread", &sts(&anti("")));
    assert!(
        f[0].message.contains("has no labelSelector"),
        "{}",
        f[0].message
    );
    // A matching selector is accepted.
    assert!(
        of(
            "no-spread",
            &sts(&anti(
                ", labelSelector: {matchLabels: {app.kubernetes.io/name: zk}}"
            ))
        )
        .is_empty()
    );
    // A topologySpreadConstraint without labelSelector spreads nothing either.
    let tsc = "      topologySpreadConstraints: [{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule}]\n";
    let f = of("no-spread", &sts(tsc));
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message
            .contains("topologySpreadConstraint has no labelSelector"),
        "{}",
        f[0].message
    );
    // Without a spread rule the fix still uses spec.selector.
    let f = of("no-spread", &sts(""));
    assert!(
        f[0].fix
            .contains("labelSelector: {matchLabels: {app.kubernetes.io/name: zk}}"),
        "{}",
        f[0].fix
    );
}

#[test]
fn run_as_root_conflict_cases() {
    let pod = |pod_sc: &str, c_sc: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  securityContext: {pod_sc}\n  containers: [{{name: c, image: 'c:1', securityContext: {c_sc}}}]\n"
        )
    };
    run(&[
        Case {
            name: "pod runAsNonRoot, container runAsUser 0",
            rule: "run-as-root-conflict",
            yaml: Box::leak(pod("{runAsNonRoot: true}", "{runAsUser: 0}").into_boxed_str()),
            want: &[(Error, "spec.containers[0].securityContext.runAsUser")],
        },
        Case {
            name: "container runAsNonRoot, pod runAsUser 0",
            rule: "run-as-root-conflict",
            yaml: Box::leak(pod("{runAsUser: 0}", "{runAsNonRoot: true}").into_boxed_str()),
            want: &[(Error, "spec.securityContext.runAsUser")],
        },
        Case {
            name: "the container overrides the pod's runAsUser 0 with a non-root UID",
            rule: "run-as-root-conflict",
            yaml: Box::leak(
                pod("{runAsNonRoot: true, runAsUser: 0}", "{runAsUser: 1000}").into_boxed_str(),
            ),
            want: &[],
        },
        Case {
            name: "the container overrides runAsNonRoot with false",
            rule: "run-as-root-conflict",
            yaml: Box::leak(
                pod(
                    "{runAsNonRoot: true}",
                    "{runAsNonRoot: false, runAsUser: 0}",
                )
                .into_boxed_str(),
            ),
            want: &[],
        },
        Case {
            name: "Windows pods use runAsUserName",
            rule: "run-as-root-conflict",
            yaml: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  os: {name: windows}\n  securityContext: {runAsNonRoot: true, runAsUser: 0}\n  containers: [{name: c, image: 'c:1'}]\n",
            want: &[],
        },
    ]);
}

#[test]
fn non_string_value_fixes_are_valid_yaml_for_the_field() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {canary: yes}}\nspec:\n  containers:\n  - name: c\n    image: 'c:1'\n    args: [--port, 8080]\n    env: [{name: DEBUG, value: on}, {name: RATIO, value: .nan}]\n";
    let f = of("non-string-value", pod);
    let by_path = |p: &str| {
        f.iter()
            .find(|f| f.path == p)
            .unwrap_or_else(|| panic!("{p}: {f:?}"))
    };
    let label = by_path("metadata.labels.canary");
    assert!(
        label.fix.starts_with("quote it: `canary: \"true\"`"),
        "{}",
        label.fix
    );
    let arg = by_path("spec.containers[0].args[1]");
    assert!(arg.fix.contains("`- \"8080\"`"), "{}", arg.fix);
    assert!(
        arg.fix.contains("`args: [--port, \"8080\"]`"),
        "{}",
        arg.fix
    );
    let env = by_path("spec.containers[0].env[0].value");
    assert!(env.fix.contains("`value: \"true\"`"), "{}", env.fix);
    assert!(
        env.message.contains("environment variable `DEBUG`"),
        "{}",
        env.message
    );
    let nan = by_path("spec.containers[0].env[1].value");
    assert!(
        nan.message.contains("json: unsupported value: NaN"),
        "{}",
        nan.message
    );
    // metadata.name and namespace.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: 2024, namespace: no}\n";
    let paths: Vec<String> = of("non-string-value", cm)
        .into_iter()
        .map(|f| f.path)
        .collect();
    assert_eq!(paths, ["metadata.name", "metadata.namespace"]);
}

#[test]
fn grace_period_understands_unbounded_and_huge_sleeps() {
    let with = |grace: &str, hook: &str| {
        deployment(
            &format!(
                "{grace}      containers: [{{name: app, image: 'a:1', lifecycle: {{preStop: {hook}}}}}]\n"
            ),
            "",
        )
    };
    let inf = of(
        "grace-period-too-short",
        &with(
            "      terminationGracePeriodSeconds: 600\n",
            "{exec: {command: [sleep, infinity]}}",
        ),
    );
    assert_eq!(inf.len(), 1);
    assert_eq!(inf[0].severity, Error);
    assert!(inf[0].message.contains("never ends"), "{}", inf[0].message);
    let max = format!("{{sleep: {{seconds: {}}}}}", i64::MAX);
    let huge = of("grace-period-too-short", &with("", &max));
    assert_eq!(huge[0].severity, Error);
    assert!(
        huge[0].message.contains("9223372036854775807s"),
        "{}",
        huge[0].message
    );
    assert!(
        huge[0].message.contains("API server rejects"),
        "{}",
        huge[0].message
    );
    assert!(
        !huge[0].fix.contains("9223372036854775807"),
        "{}",
        huge[0].fix
    );
}

#[test]
fn duplicate_keys_are_reported_with_their_lines_and_the_value_that_wins() {
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 3\n  replicas: 2\n  template:\n    spec: {containers: [{name: a, image: 'a:1'}]}\n";
    let f = of("duplicate-key", yaml);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        (f[0].severity, f[0].path.as_str()),
        (Warning, "spec.replicas")
    );
    assert_eq!(
        f[0].message,
        "`replicas` is written twice (lines 5 and 6): kubectl keeps the last value (2) and silently drops the first"
    );
    assert_eq!(f[0].fix, "remove one of them");
    // The object is still checked with the value that wins: 2 replicas, no PDB.
    let (objs, _) = load_objects("case.yaml", yaml);
    assert!(check(&objs).iter().any(|f| f.rule == "pdb-missing"));
    // Three times is one finding listing every line.
    let three =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: x\n  a: y\n  a: z\n";
    let f = of("duplicate-key", three);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].message
            .starts_with("`a` is written 3 times (lines 5, 6 and 7)"),
        "{}",
        f[0].message
    );
}
