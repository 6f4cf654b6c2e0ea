//! Every way a spec can be wrong gets an error that names the field and the fix.

use berth_model::{Severity, load_applications};

const BASE: &str = "apiVersion: berth.dev/v1alpha1
kind: Application
metadata:
  name: web
  namespace: shop
spec:
  image: registry.example.com/shop/web
  version: \"1.0.0\"
  tier: standard
  productLine: shop
  owner: team-web
  ports:
    - name: http
      port: 8080
  resources:
    cpu: 500m
    memory: 512Mi
";

struct Case {
    name: &'static str,
    /// (text to find in BASE, replacement)
    edit: (&'static str, &'static str),
    path: &'static str,
    message: &'static str,
    severity: Severity,
}

const CASES: &[Case] = &[
    Case {
        name: "misspelt top-level spec field",
        edit: ("  owner: team-web\n", "  owner: team-web\n  replica: 3\n"),
        path: "spec.replica",
        message: "unknown field `replica`",
        severity: Severity::Error,
    },
    Case {
        name: "tier is not one of the three",
        edit: ("tier: standard", "tier: gold"),
        path: "spec.tier",
        message: "\"gold\" is not one of \"core\", \"standard\", \"batch\"",
        severity: Severity::Error,
    },
    Case {
        name: "port given as text",
        edit: ("port: 8080", "port: http-alt"),
        path: "spec.ports[0].port",
        message: "expected an integer, found a string",
        severity: Severity::Error,
    },
    Case {
        name: "port out of range",
        edit: ("port: 8080", "port: 70000"),
        path: "spec.ports[0].port",
        message: "70000 is above the maximum 65535",
        severity: Severity::Error,
    },
    Case {
        name: "port name too long",
        edit: ("name: http", "name: http-and-more-stuff"),
        path: "spec.ports[0].name",
        message: "is not a valid port name",
        severity: Severity::Error,
    },
    Case {
        name: "required resources missing",
        edit: ("  resources:\n    cpu: 500m\n    memory: 512Mi\n", ""),
        path: "spec.resources",
        message: "required field `resources` is missing",
        severity: Severity::Error,
    },
    Case {
        name: "memory with a bad unit",
        edit: ("memory: 512Mi", "memory: 512MB"),
        path: "spec.resources.memory",
        message: "invalid quantity \"512MB\"",
        severity: Severity::Error,
    },
    Case {
        name: "latest tag",
        edit: (
            "image: registry.example.com/shop/web",
            "image: registry.example.com/shop/web:latest",
        ),
        path: "spec.image",
        message: "`latest` tag",
        severity: Severity::Error,
    },
    Case {
        name: "uppercase app name",
        edit: ("name: web", "name: Web"),
        path: "metadata.name",
        message: "is not a valid Service name",
        severity: Severity::Error,
    },
    Case {
        name: "max below min",
        edit: (
            "  resources:",
            "  scaling: {minReplicas: 5, maxReplicas: 2}\n  resources:",
        ),
        path: "spec.scaling.maxReplicas",
        message: "maxReplicas 2 is below minReplicas 5",
        severity: Severity::Error,
    },
    Case {
        name: "core with one replica",
        edit: ("tier: standard", "tier: core\n  scaling: {minReplicas: 1}"),
        path: "spec.scaling.minReplicas",
        message: "needs at least 2 replicas",
        severity: Severity::Error,
    },
    Case {
        name: "target outside the tier's range",
        edit: (
            "  resources:",
            "  scaling: {targetCpuUtilization: 50}\n  resources:",
        ),
        path: "spec.scaling.targetCpuUtilization",
        message: "outside the standard tier's recommended 80–90%",
        severity: Severity::Warning,
    },
    Case {
        name: "two targets",
        edit: (
            "  resources:",
            "  scaling: {targetCpuUtilization: 85, targetCpuAverage: 300m}\n  resources:",
        ),
        path: "spec.scaling",
        message: "more than one of",
        severity: Severity::Error,
    },
    Case {
        name: "probe with two handlers",
        edit: (
            "  resources:",
            "  probes: {readiness: {http: /ready, tcp: true}}\n  resources:",
        ),
        path: "spec.probes.readiness",
        message: "exactly one of",
        severity: Severity::Error,
    },
    Case {
        name: "probe on an undeclared port",
        edit: (
            "  resources:",
            "  probes: {readiness: {http: /ready, port: admin}}\n  resources:",
        ),
        path: "spec.probes.readiness.port",
        message: "port \"admin\" is not declared",
        severity: Severity::Error,
    },
    Case {
        name: "liveness same as readiness",
        edit: (
            "  resources:",
            "  probes: {readiness: {http: /ready}, liveness: {http: /ready}}\n  resources:",
        ),
        path: "spec.probes.liveness",
        message: "every pod restarts",
        severity: Severity::Warning,
    },
    Case {
        name: "gate with both kinds",
        edit: (
            "  resources:",
            "  release: {groups: 4, gate: {interval: 10m, manual: true}}\n  resources:",
        ),
        path: "spec.release.gate",
        message: "exactly one of `interval` or `manual: true`",
        severity: Severity::Error,
    },
    Case {
        name: "gate interval without unit",
        edit: (
            "  resources:",
            "  release: {groups: 4, gate: {interval: \"10\"}}\n  resources:",
        ),
        path: "spec.release.gate.interval",
        message: "invalid duration",
        severity: Severity::Error,
    },
    Case {
        name: "wrong number of per-group gates",
        edit: (
            "  resources:",
            "  release: {groups: 4, gate: {manual: true}, gates: [{manual: true}]}\n  resources:",
        ),
        path: "spec.release.gates",
        message: "1 gates for 4 groups",
        severity: Severity::Error,
    },
    Case {
        name: "canary without exposure",
        edit: (
            "  resources:",
            "  release: {groups: 2, gate: {manual: true}, canary: {cookie: canary}}\n  resources:",
        ),
        path: "spec.release.canary",
        message: "not exposed",
        severity: Severity::Error,
    },
    Case {
        name: "canary weight over 100",
        edit: (
            "  resources:",
            "  release: {groups: 2, gate: {manual: true}, canary: {cookie: c, weight: 150}}\n  resources:",
        ),
        path: "spec.release.canary.weight",
        message: "150 is above the maximum 100",
        severity: Severity::Error,
    },
    Case {
        name: "canary with nothing to route by",
        edit: (
            "  resources:",
            "  release: {groups: 2, gate: {manual: true}, canary: {}}\n  resources:",
        ),
        path: "spec.release.canary",
        message: "needs a `cookie`, a `header` or a `weight`",
        severity: Severity::Error,
    },
    Case {
        name: "exposed with a bad host",
        edit: (
            "  resources:",
            "  expose: {host: Shop_Example}\n  resources:",
        ),
        path: "spec.expose.host",
        message: "is not a host name",
        severity: Severity::Error,
    },
    Case {
        name: "env var with two sources",
        edit: (
            "  resources:",
            "  env: [{name: A, value: x, secret: s/k}]\n  resources:",
        ),
        path: "spec.env[0]",
        message: "exactly one of `value`, `secret` or `configMap`",
        severity: Severity::Error,
    },
    Case {
        name: "secret reference without key",
        edit: (
            "  resources:",
            "  env: [{name: A, secret: creds}]\n  resources:",
        ),
        path: "spec.env[0].secret",
        message: "is not `name/key`",
        severity: Severity::Error,
    },
    Case {
        name: "bad switch label",
        edit: (
            "  resources:",
            "  placement: {switchLabel: \"tor switch\"}\n  resources:",
        ),
        path: "spec.placement.switchLabel",
        message: "is not a label key",
        severity: Severity::Error,
    },
    Case {
        name: "wrong kind",
        edit: ("kind: Application", "kind: Deployment"),
        path: "",
        message: "expected an `berth.dev/v1alpha1` `Application`",
        severity: Severity::Error,
    },
];

#[test]
fn each_invalid_spec_names_its_field_message_and_fix() {
    for c in CASES {
        assert!(BASE.contains(c.edit.0), "{}: edit target missing", c.name);
        let text = BASE.replacen(c.edit.0, c.edit.1, 1);
        let (apps, diags) = load_applications("app.yaml", &text);
        let d = diags
            .iter()
            .find(|d| d.path == c.path && d.message.contains(c.message))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no diagnostic at {} containing {:?}; got {diags:#?}",
                    c.name, c.path, c.message
                )
            });
        assert_eq!(d.severity, c.severity, "{}", c.name);
        assert!(
            d.fix.as_deref().is_some_and(|f| !f.is_empty()),
            "{}: no fix",
            c.name
        );
        assert!(d.pos.line >= 1, "{}: no line", c.name);
        assert_eq!(
            apps.is_empty(),
            c.severity == Severity::Error,
            "{}: errors block, warnings do not",
            c.name
        );
    }
}

#[test]
fn positions_point_at_the_offending_line() {
    let text = BASE.replace("memory: 512Mi", "memory: lots");
    let (_, diags) = load_applications("app.yaml", &text);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!((diags[0].pos.line, diags[0].pos.col), (17, 5));
}

#[test]
fn several_documents_are_checked_independently() {
    let text = format!(
        "{BASE}---\n{}",
        BASE.replace("name: web", "name: api")
            .replace("tier: standard", "tier: nope")
    );
    let (apps, diags) = load_applications("two.yaml", &text);
    assert_eq!(apps.len(), 1);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].pos.line, 27);
}

#[test]
fn what_kubernetes_accepts_loads_cleanly() {
    // Numbers where Kubernetes takes int-or-string, partial sections, empty sections,
    // ConfigMap keys that start with a digit, utilization targets above 100 %.
    let variants = [
        ("    cpu: 500m\n", "    cpu: 2\n"),
        ("    memory: 512Mi\n", "    memory: 1073741824\n"),
        (
            "  resources:",
            "  probes: {readiness: {http: /ready, port: 8080}}\n  resources:",
        ),
        (
            "  resources:",
            "  scaling: {metric: {name: rps, targetAverage: 100}}\n  resources:",
        ),
        (
            "  resources:",
            "  shutdown: {drainSeconds: 5}\n  resources:",
        ),
        ("  resources:", "  release: {groups: 2}\n  resources:"),
        ("  resources:", "  probes:\n  resources:"),
        (
            "  resources:",
            "  env: [{name: A, secret: creds/1password}]\n  resources:",
        ),
        (
            "  resources:",
            "  scaling: {targetCpuUtilization: 85}\n  resources:",
        ),
    ];
    for (from, to) in variants {
        let text = BASE.replacen(from, to, 1);
        let (apps, diags) = load_applications("ok.yaml", &text);
        assert_eq!(apps.len(), 1, "{to:?}: {diags:#?}");
        assert!(diags.is_empty(), "{to:?}: {diags:#?}");
    }
}

#[test]
fn udp_ports_ip_hosts_and_contradicting_versions_are_refused() {
    let cases = [
        (
            (
                "      port: 8080\n",
                "      port: 8080\n    - name: dns\n      port: 53\n      protocol: UDP\n",
            ),
            "  resources:",
            "  probes: {readiness: {tcp: true, port: dns}}\n  resources:",
            "spec.probes.readiness.port",
            "is UDP",
        ),
        (
            ("", ""),
            "  resources:",
            "  expose: {host: 10.0.0.1}\n  resources:",
            "spec.expose.host",
            "is an IP address",
        ),
        (
            ("", ""),
            "  image: registry.example.com/shop/web\n",
            "  image: registry.example.com/shop/web:0.9.0\n",
            "spec.version",
            "contradicts the image tag",
        ),
    ];
    for ((pf, pt), from, to, path, message) in cases {
        let mut text = BASE.replacen(from, to, 1);
        if !pf.is_empty() {
            text = text.replacen(pf, pt, 1);
        }
        let (apps, diags) = load_applications("bad.yaml", &text);
        assert!(apps.is_empty(), "{path}: {diags:#?}");
        assert!(
            diags
                .iter()
                .any(|d| d.path == path && d.message.contains(message)),
            "{path}: {diags:#?}"
        );
    }
}
