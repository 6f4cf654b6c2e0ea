//! Rules a well-typed spec must still follow: names Kubernetes accepts, quantities that
//! parse, references that resolve, and the tier's contract.

use std::collections::HashSet;

use berth_manifest::quantity::Quantity;

use crate::application::{Application, ApplicationSpec, Gate, Port, Probe, Protocol};
use crate::diagnostic::Issue;
use crate::duration::parse_duration;
use crate::names::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_env_name, is_image_tag,
    is_label_key, is_label_value, is_port_name, parse_image,
};
use crate::tier::Tier;

/// `IsConfigMapKey`: 1–253 of letters, digits, `-`, `_` and `.`, and not `.` or `..`.
fn is_config_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 253
        && k != "."
        && k != ".."
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Application {
    /// Every problem with this Application, errors and warnings, without positions.
    pub fn validate(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        if let Some(init) = &self.spec.init {
            validate_init(self, init, &mut out);
        }
        match self.metadata.name.as_deref() {
            None | Some("") => out.push(Issue::error(
                "metadata.name",
                "the Application has no name",
                "add `metadata.name:` (a DNS label such as `order-api`)",
            )),
            Some(n) if !is_dns1035_label(n) => out.push(Issue::error(
                "metadata.name",
                format!("{n:?} is not a valid Service name"),
                "use at most 63 lowercase letters, digits and `-`, starting with a letter",
            )),
            Some(n) if n.len() > crate::resolve::MAX_APP_NAME => out.push(Issue::error(
                "metadata.name",
                format!(
                    "{n:?} has {} characters; per-version objects are named `<app>-<version>` and must stay within 63",
                    n.len()
                ),
                format!("use at most {} characters", crate::resolve::MAX_APP_NAME),
            )),
            Some(_) => {}
        }
        if let Some(ns) = self.metadata.namespace.as_deref()
            && !is_dns1123_label(ns)
        {
            out.push(Issue::error(
                "metadata.namespace",
                format!("{ns:?} is not a valid namespace name"),
                "use at most 63 lowercase letters, digits and `-`",
            ));
        }
        self.spec.validate_into(&mut out);
        out
    }
}

impl ApplicationSpec {
    /// The first TCP port: the one default checks and the Ingress use.
    pub fn primary_tcp_port(&self) -> Option<&Port> {
        self.ports.iter().find(|p| p.protocol == Protocol::TCP)
    }

    /// The readiness check that will run: the spec's, or a TCP check of the first TCP port
    /// (seed 000: readiness only, by default).
    pub fn readiness_check(&self) -> Option<Probe> {
        self.probes.readiness.clone().or_else(|| {
            self.primary_tcp_port().map(|p| Probe {
                tcp: Some(true),
                port: Some(p.name.clone()),
                ..Default::default()
            })
        })
    }

    fn validate_into(&self, out: &mut Vec<Issue>) {
        let policy = self.tier.policy();
        match parse_image(&self.image) {
            None => out.push(Issue::error(
                "spec.image",
                format!("{:?} is not an image reference", self.image),
                "write `registry/path/name`, optionally with `:tag` or `@sha256:digest`",
            )),
            Some(r) => {
                if r.tag == Some("latest") {
                    out.push(Issue::error(
                        "spec.image",
                        "the `latest` tag names no version: releases and rollbacks could not tell versions apart",
                        "drop the tag (the version becomes the tag) or use an immutable tag",
                    ));
                }
            }
        }
        if let (Some(v), Some(tag)) = (&self.version, parse_image(&self.image).and_then(|r| r.tag))
            && v != tag
        {
            out.push(Issue::error(
                "spec.version",
                format!("version {v:?} contradicts the image tag {tag:?}"),
                "drop the tag from `spec.image` (the version becomes the tag), or make them equal",
            ));
        }
        if self.version.is_none()
            && parse_image(&self.image).is_some_and(|r| r.tag.is_none() && r.digest.is_none())
        {
            out.push(Issue::warning(
                "spec.image",
                "the image has no tag and `spec.version` is not set: rendering needs `--version`",
                "set `spec.version`, or pass `--version` to `berth render`",
            ));
        }
        if let Some(v) = &self.version
            && !is_image_tag(v)
        {
            out.push(Issue::error(
                "spec.version",
                format!("{v:?} is not a valid version"),
                "use letters, digits, `.`, `_` and `-` (it becomes the image tag), e.g. `1.4.2`",
            ));
        }
        for (field, value) in [
            ("spec.productLine", Some(&self.product_line)),
            ("spec.owner", Some(&self.owner)),
            ("spec.logType", self.log_type.as_ref()),
        ] {
            if let Some(v) = value
                && (v.is_empty() || !is_label_value(v))
            {
                out.push(Issue::error(
                    field,
                    format!("{v:?} cannot be a label value"),
                    "use 1–63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit",
                ));
            }
        }
        self.validate_env(out);
        self.validate_ports(out);
        self.validate_resources(out);
        self.validate_probes(out);
        self.validate_scaling(out, policy);
        self.validate_placement(out);
        self.validate_expose(out);
        self.validate_release(out);
        self.validate_network(out);
        if self.shutdown.wait_for_connections && self.ports.is_empty() {
            out.push(Issue::warning(
                "spec.shutdown.waitForConnections",
                "the service declares no ports, so there are no connections to wait for",
                "declare the ports in `spec.ports` or set `waitForConnections: false`",
            ));
        }
        let mut seen = HashSet::new();
        for (i, p) in self.security.writable_paths.iter().enumerate() {
            let path = format!("spec.security.writablePaths[{i}]");
            if !p.starts_with('/') || p == "/" || p.contains("..") {
                out.push(Issue::error(
                    &path,
                    format!("{p:?} is not an absolute directory below `/`"),
                    "write an absolute path such as `/var/cache/app`",
                ));
            } else if p == "/tmp" || !seen.insert(p) {
                out.push(Issue::error(
                    &path,
                    format!("{p:?} is listed twice (`/tmp` is always writable)"),
                    "remove the duplicate",
                ));
            }
        }
    }

    fn validate_env(&self, out: &mut Vec<Issue>) {
        let mut names = HashSet::new();
        for (i, e) in self.env.iter().enumerate() {
            let path = format!("spec.env[{i}]");
            if !is_env_name(&e.name) {
                out.push(Issue::error(
                    &format!("{path}.name"),
                    format!("{:?} is not a valid environment variable name", e.name),
                    "use letters, digits, `_`, `-` and `.`, not starting with a digit",
                ));
            } else if !names.insert(&e.name) {
                out.push(Issue::error(
                    &format!("{path}.name"),
                    format!("{} is set twice", e.name),
                    "remove one of them",
                ));
            }
            let sources =
                e.value.is_some() as u8 + e.secret.is_some() as u8 + e.config_map.is_some() as u8;
            if sources != 1 {
                out.push(Issue::error(
                    &path,
                    format!(
                        "{} needs exactly one of `value`, `secret` or `configMap`",
                        e.name
                    ),
                    "keep one source for the variable",
                ));
            }
            for (field, r) in [("secret", &e.secret), ("configMap", &e.config_map)] {
                if let Some(r) = r
                    && r.split_once('/')
                        .is_none_or(|(n, k)| !is_dns1123_subdomain(n) || !is_config_key(k))
                {
                    out.push(Issue::error(
                        &format!("{path}.{field}"),
                        format!("{r:?} is not `name/key`"),
                        format!(
                            "write the {field} name and the key, e.g. `db-credentials/password`"
                        ),
                    ));
                }
            }
        }
    }

    fn validate_ports(&self, out: &mut Vec<Issue>) {
        let mut names = HashSet::new();
        let mut numbers = HashSet::new();
        for (i, p) in self.ports.iter().enumerate() {
            if !is_port_name(&p.name) {
                out.push(Issue::error(
                    &format!("spec.ports[{i}].name"),
                    format!("{:?} is not a valid port name", p.name),
                    "use 1–15 lowercase letters, digits and `-`, with at least one letter (e.g. `http`)",
                ));
            } else if !names.insert(&p.name) {
                out.push(Issue::error(
                    &format!("spec.ports[{i}].name"),
                    format!("port name {} is used twice", p.name),
                    "give every port its own name",
                ));
            }
            if !(1..=65535).contains(&p.port) {
                out.push(Issue::error(
                    &format!("spec.ports[{i}].port"),
                    format!("{} is not a port number", p.port),
                    "use a number from 1 to 65535",
                ));
            } else if !numbers.insert((p.port, p.protocol)) {
                out.push(Issue::error(
                    &format!("spec.ports[{i}].port"),
                    format!("port {} is declared twice", p.port),
                    "declare each port once",
                ));
            }
        }
    }

    fn validate_resources(&self, out: &mut Vec<Issue>) {
        let r = &self.resources;
        for (field, text, min, example) in [
            ("cpu", &r.cpu, Quantity::from_millis(10), "`500m` or `2`"),
            (
                "memory",
                &r.memory,
                Quantity::from_units(16 << 20),
                "`512Mi` or `4Gi`",
            ),
        ] {
            match Quantity::parse(text) {
                Err(e) => out.push(Issue::error(
                    &format!("spec.resources.{field}"),
                    e.to_string(),
                    format!("write the {field} limit as {example}"),
                )),
                Ok(q) if q < min => out.push(Issue::error(
                    &format!("spec.resources.{field}"),
                    format!("{text} is too small to run a service"),
                    format!(
                        "use at least {min}{}",
                        if field == "memory" {
                            " bytes (16Mi)"
                        } else {
                            ""
                        }
                    ),
                )),
                Ok(_) => {}
            }
        }
        if let Some(s) = &r.scratch
            && Quantity::parse(s).is_ok_and(|q| q <= Quantity(0))
        {
            out.push(Issue::error(
                "spec.resources.scratch",
                format!("{s} is not a size"),
                "write a positive size such as `1Gi`",
            ));
        }
        if let Some(s) = &r.scratch
            && let Err(e) = Quantity::parse(s)
        {
            out.push(Issue::error(
                "spec.resources.scratch",
                e.to_string(),
                "write a size such as `1Gi`",
            ));
        }
        if let Some(ratio) = r.request_ratio {
            let policy = self.tier.policy();
            let (lo, hi) = policy.request_ratio_range;
            if !(ratio > 0.0 && ratio <= 1.0) {
                out.push(Issue::error(
                    "spec.resources.requestRatio",
                    format!("{ratio} is not a share of the limits"),
                    "use a number greater than 0 and at most 1",
                ));
            } else if self.tier == Tier::Core && ratio != 1.0 {
                out.push(Issue::error(
                    "spec.resources.requestRatio",
                    format!("core services run with requests equal to limits (Guaranteed QoS); {ratio} would make them Burstable"),
                    "remove `requestRatio`, or move the service to tier `standard`",
                ));
            } else if ratio < lo || ratio > hi {
                out.push(Issue::warning(
                    "spec.resources.requestRatio",
                    format!(
                        "{ratio} is outside the {} tier's recommended {lo}–{hi}",
                        self.tier.as_str()
                    ),
                    format!("use a ratio between {lo} and {hi}"),
                ));
            }
        }
    }

    fn port_exists(&self, port: &str) -> bool {
        self.ports
            .iter()
            .any(|p| p.name == port || p.port.to_string() == port)
            || port.parse::<u16>().is_ok_and(|n| n > 0)
    }

    /// Whether a port named or numbered `port` is declared as UDP.
    fn port_is_udp(&self, port: &str) -> bool {
        self.ports
            .iter()
            .any(|p| (p.name == port || p.port.to_string() == port) && p.protocol == Protocol::UDP)
    }

    fn validate_probe(&self, path: &str, p: &Probe, out: &mut Vec<Issue>) {
        let handlers =
            p.http.is_some() as u8 + (p.tcp == Some(true)) as u8 + p.exec.is_some() as u8;
        if handlers != 1 {
            out.push(Issue::error(
                path,
                "a check needs exactly one of `http`, `tcp: true` or `exec`",
                "keep one of them, e.g. `http: /ready`",
            ));
        }
        if let Some(h) = &p.http
            && !h.starts_with('/')
        {
            out.push(Issue::error(
                &format!("{path}.http"),
                format!("{h:?} is not a URL path"),
                "start the path with `/`, e.g. `/ready`",
            ));
        }
        if let Some(cmd) = &p.exec
            && cmd.is_empty()
        {
            out.push(Issue::error(
                &format!("{path}.exec"),
                "the command is empty",
                "give the command and its arguments, e.g. `[\"/bin/check\", \"--ready\"]`",
            ));
        }
        if p.http.is_some() || p.tcp == Some(true) {
            if let Some(port) = &p.port
                && self.port_is_udp(port)
            {
                out.push(Issue::error(
                    &format!("{path}.port"),
                    format!("port {port:?} is UDP; HTTP and TCP checks need a TCP port"),
                    "point the check at a TCP port, or use an `exec` check",
                ));
            }
            if p.port.is_none() && !self.ports.is_empty() && self.primary_tcp_port().is_none() {
                out.push(Issue::error(
                    path,
                    "the service declares only UDP ports, and HTTP and TCP checks need a TCP port",
                    "add `port:` naming a TCP port, or use an `exec` check",
                ));
            }
            match &p.port {
                Some(port) if !self.port_exists(port) => out.push(Issue::error(
                    &format!("{path}.port"),
                    format!("port {port:?} is not declared in spec.ports"),
                    "use the name of a port in `spec.ports`",
                )),
                None if self.ports.is_empty() => out.push(Issue::error(
                    path,
                    "the check has no port and the service declares none",
                    "add `port:` or declare the service's ports in `spec.ports`",
                )),
                _ => {}
            }
        }
    }

    fn validate_probes(&self, out: &mut Vec<Issue>) {
        let p = &self.probes;
        if let Some(r) = &p.readiness {
            self.validate_probe("spec.probes.readiness", r, out);
        }
        if let Some(s) = &p.startup {
            if let Some(c) = &s.check {
                self.validate_probe("spec.probes.startup.check", c, out);
            } else if p.readiness.is_none() && self.ports.is_empty() {
                out.push(Issue::error(
                    "spec.probes.startup",
                    "the startup check has nothing to check: no `check`, no readiness check and no ports",
                    "add `check:` to the startup probe",
                ));
            }
        }
        if let Some(l) = &p.liveness {
            self.validate_probe("spec.probes.liveness", l, out);
            let readiness_check = self.readiness_check();
            let port_of = |c: &Probe| {
                c.port
                    .clone()
                    .or_else(|| self.primary_tcp_port().map(|p| p.name.clone()))
            };
            let same = readiness_check.as_ref().is_some_and(|r| {
                r.http == l.http && r.tcp == l.tcp && r.exec == l.exec && port_of(r) == port_of(l)
            });
            if same {
                out.push(Issue::warning(
                    "spec.probes.liveness",
                    "liveness checks the same thing as readiness: when a dependency fails, every pod restarts instead of leaving the load balancer",
                    "make liveness check only that the process is alive (e.g. `/livez`), or remove it",
                ));
            }
        }
    }

    fn validate_scaling(&self, out: &mut Vec<Issue>, policy: crate::tier::TierPolicy) {
        let s = &self.scaling;
        let min = s.min_replicas.unwrap_or(policy.min_replicas);
        if min < policy.min_replicas_floor {
            out.push(Issue::error(
                "spec.scaling.minReplicas",
                format!(
                    "a {} service needs at least {} replicas; {min} would take it down on any node failure",
                    self.tier.as_str(),
                    policy.min_replicas_floor
                ),
                format!("set `minReplicas: {}` or more", policy.min_replicas_floor),
            ));
        }
        if let Some(max) = s.max_replicas
            && max < min
        {
            out.push(Issue::error(
                "spec.scaling.maxReplicas",
                format!("maxReplicas {max} is below minReplicas {min}"),
                format!("set `maxReplicas:` to at least {min}"),
            ));
        }
        let targets = s.target_cpu_utilization.is_some() as u8
            + s.target_cpu_average.is_some() as u8
            + s.metric.is_some() as u8;
        if targets > 1 {
            out.push(Issue::error(
                "spec.scaling",
                "more than one of `targetCpuUtilization`, `targetCpuAverage` and `metric` is set",
                "keep one target: a percentage of requests, an absolute CPU quantity, or a custom metric",
            ));
        }
        if let Some(m) = &s.metric {
            if m.name.is_empty() || m.name.contains(char::is_whitespace) {
                out.push(Issue::error(
                    "spec.scaling.metric.name",
                    format!("{:?} is not a metric name", m.name),
                    "use the name the custom metrics API serves, e.g. `http_requests_per_second`",
                ));
            }
            if let Err(e) = Quantity::parse(&m.target_average) {
                out.push(Issue::error(
                    "spec.scaling.metric.targetAverage",
                    e.to_string(),
                    "write the per-pod target as a quantity, e.g. `100` or `500m`",
                ));
            }
        }
        if let Some(t) = s.target_cpu_utilization {
            let (lo, hi) = policy.target_cpu_range;
            if !(lo..=hi).contains(&t) {
                out.push(Issue::warning(
                    "spec.scaling.targetCpuUtilization",
                    format!(
                        "{t}% is outside the {} tier's recommended {lo}–{hi}%",
                        self.tier.as_str()
                    ),
                    format!("use a target between {lo} and {hi}"),
                ));
            }
        }
        if let Some(a) = &s.target_cpu_average {
            match Quantity::parse(a) {
                Err(e) => out.push(Issue::error(
                    "spec.scaling.targetCpuAverage",
                    e.to_string(),
                    "write a CPU quantity such as `700m`",
                )),
                Ok(q) => {
                    if let Ok(limit) = Quantity::parse(&self.resources.cpu)
                        && q > limit
                    {
                        out.push(Issue::error(
                            "spec.scaling.targetCpuAverage",
                            format!("{a} per pod is above the CPU limit {}: the target can never be reached", self.resources.cpu),
                            "use a target below `spec.resources.cpu`",
                        ));
                    }
                }
            }
        }
    }

    fn validate_placement(&self, out: &mut Vec<Issue>) {
        let p = &self.placement;
        if let Some(l) = &p.switch_label
            && !is_label_key(l)
        {
            out.push(Issue::error(
                "spec.placement.switchLabel",
                format!("{l:?} is not a label key"),
                "use a key such as `topology.berth.dev/switch`",
            ));
        }
        let check_labels = |path: String,
                            labels: &std::collections::BTreeMap<String, String>,
                            out: &mut Vec<Issue>| {
            for (k, v) in labels {
                if !is_label_key(k) || !is_label_value(v) {
                    out.push(Issue::error(
                        &path,
                        format!("{k}={v} is not a valid label"),
                        "use a label key such as `node.kubernetes.io/lifecycle` and a value of letters, digits, `-`, `_` or `.`",
                    ));
                }
            }
        };
        check_labels("spec.placement.nodeSelector".into(), &p.node_selector, out);
        for (i, pref) in p.node_preferences.iter().enumerate() {
            let path = format!("spec.placement.nodePreferences[{i}]");
            if pref.labels.is_empty() {
                out.push(Issue::error(
                    &format!("{path}.labels"),
                    "a preference without labels matches every node",
                    "name the node labels to prefer",
                ));
            }
            if !(1..=100).contains(&pref.weight) {
                out.push(Issue::error(
                    &format!("{path}.weight"),
                    format!("{} is not a weight", pref.weight),
                    "use a weight from 1 to 100",
                ));
            }
            check_labels(format!("{path}.labels"), &pref.labels, out);
        }
    }

    fn validate_expose(&self, out: &mut Vec<Issue>) {
        let Some(e) = &self.expose else { return };
        let host = e.host.strip_prefix("*.").unwrap_or(&e.host);
        if host.parse::<std::net::IpAddr>().is_ok() {
            out.push(Issue::error(
                "spec.expose.host",
                format!(
                    "{:?} is an IP address; an Ingress host must be a DNS name",
                    e.host
                ),
                "use a DNS name that resolves to the ingress controller",
            ));
        } else if !is_dns1123_subdomain(host) {
            out.push(Issue::error(
                "spec.expose.host",
                format!("{:?} is not a host name", e.host),
                "write a lowercase DNS name such as `shop.example.com`",
            ));
        }
        if let Some(p) = &e.path
            && !p.starts_with('/')
        {
            out.push(Issue::error(
                "spec.expose.path",
                format!("{p:?} is not a URL path"),
                "start the path with `/`",
            ));
        }
        if self.ports.is_empty() {
            out.push(Issue::error(
                "spec.expose",
                "the service is exposed but declares no ports",
                "declare the HTTP port in `spec.ports`",
            ));
        }
        if let Some(port) = &e.port
            && self.port_is_udp(port)
        {
            out.push(Issue::error(
                "spec.expose.port",
                format!("port {port:?} is UDP; an Ingress routes HTTP over TCP"),
                "name a TCP port",
            ));
        }
        if e.port.is_none() && !self.ports.is_empty() && self.primary_tcp_port().is_none() {
            out.push(Issue::error(
                "spec.expose",
                "the service declares only UDP ports; an Ingress routes HTTP over TCP",
                "declare the HTTP port in `spec.ports`",
            ));
        }
        if let Some(port) = &e.port
            && !self.ports.iter().any(|p| &p.name == port)
        {
            out.push(Issue::error(
                "spec.expose.port",
                format!("port {port:?} is not declared in spec.ports"),
                "use the name of a port in `spec.ports`",
            ));
        }
        if let Some(s) = &e.tls_secret
            && !is_dns1123_subdomain(s)
        {
            out.push(Issue::error(
                "spec.expose.tlsSecret",
                format!("{s:?} is not a Secret name"),
                "use a lowercase name such as `shop-tls`",
            ));
        }
    }

    fn validate_gate(path: &str, g: &Gate, out: &mut Vec<Issue>) {
        match (&g.interval, g.manual) {
            (Some(i), None | Some(false)) => {
                if let Err(e) = parse_duration(i) {
                    out.push(Issue::error(
                        &format!("{path}.interval"),
                        e,
                        "write e.g. `10m`",
                    ));
                }
            }
            (None, Some(true)) => {}
            _ => out.push(Issue::error(
                path,
                "a gate needs exactly one of `interval` or `manual: true`",
                "write `gate: {interval: 10m}` or `gate: {manual: true}`",
            )),
        }
    }

    fn validate_release(&self, out: &mut Vec<Issue>) {
        let r = &self.release;
        if !(1..=20).contains(&r.groups) {
            out.push(Issue::error(
                "spec.release.groups",
                format!("{} groups is not a plan", r.groups),
                "use 1 to 20 groups (4 is usual)",
            ));
        }
        Self::validate_gate("spec.release.gate", &r.gate, out);
        if !r.gates.is_empty() && r.gates.len() as i32 != r.groups - 1 {
            out.push(Issue::error(
                "spec.release.gates",
                format!(
                    "{} gates for {} groups: there is one gate between each pair of groups",
                    r.gates.len(),
                    r.groups
                ),
                format!(
                    "list {} gates, or use `gate` for all",
                    (r.groups - 1).max(0)
                ),
            ));
        }
        for (i, g) in r.gates.iter().enumerate() {
            Self::validate_gate(&format!("spec.release.gates[{i}]"), g, out);
        }
        if let Some(c) = &r.canary {
            if c.cookie.is_none() && c.header.is_none() && c.weight.is_none() {
                out.push(Issue::error(
                    "spec.release.canary",
                    "canary routing needs a `cookie`, a `header` or a `weight`",
                    "add one, e.g. `canary: {cookie: canary}`",
                ));
            }
            if c.header_value.is_some() && c.header.is_none() {
                out.push(Issue::error(
                    "spec.release.canary.headerValue",
                    "`headerValue` without `header`",
                    "add `header:` naming the header",
                ));
            }
            if self.expose.is_none() {
                out.push(Issue::error(
                    "spec.release.canary",
                    "canary routing works through the Ingress, and the service is not exposed",
                    "add `spec.expose`, or remove `canary`",
                ));
            }
        }
        if let Some(d) = &r.retain_previous
            && let Err(e) = parse_duration(d)
        {
            out.push(Issue::error(
                "spec.release.retainPrevious",
                e,
                "write e.g. `24h`",
            ));
        }
    }

    fn validate_network(&self, out: &mut Vec<Issue>) {
        let n = &self.network;
        for (i, pl) in n.allow_from.iter().enumerate() {
            if pl.is_empty() || !is_label_value(pl) {
                out.push(Issue::error(
                    &format!("spec.network.allowFrom[{i}]"),
                    format!("{pl:?} is not a product line name"),
                    "use a product line as written in other Applications' `productLine`",
                ));
            }
        }
        for (field, v) in [
            ("ingressNamespace", &n.ingress_namespace),
            ("monitoringNamespace", &n.monitoring_namespace),
        ] {
            if let Some(ns) = v
                && !is_dns1123_label(ns)
            {
                out.push(Issue::error(
                    &format!("spec.network.{field}"),
                    format!("{ns:?} is not a namespace name"),
                    "use a lowercase DNS label",
                ));
            }
        }
        for (i, w) in n.whitelist.iter().enumerate() {
            if w.kind.is_empty() || w.name.is_empty() {
                out.push(Issue::error(
                    &format!("spec.network.whitelist[{i}]"),
                    "a whitelist target needs a `kind` and a `name`",
                    "write e.g. `{kind: mysql, name: orders-db}`",
                ));
            }
        }
    }
}

/// berth-init wraps the command, waits for well-formed targets, and its port must be free.
fn validate_init(app: &Application, init: &crate::Init, out: &mut Vec<Issue>) {
    if app.spec.command.is_empty() {
        out.push(Issue::error(
            "spec.init",
            "berth-init runs the container's command, and the spec gives none (a Kubernetes `command` replaces the image's ENTRYPOINT, so berth cannot wrap one it does not know)",
            "give `command:` (the image's ENTRYPOINT), or drop `init:`",
        ));
    }
    if init.image.trim().is_empty() {
        out.push(Issue::error(
            "spec.init.image",
            "no image for berth-init",
            "name an image holding the static berth-init binary at /berth-init",
        ));
    }
    for (i, w) in init.wait_for.iter().enumerate() {
        let ok = w
            .strip_prefix("tcp://")
            .map(|r| {
                r.rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
            })
            .unwrap_or(false)
            || w.starts_with("http://");
        if !ok {
            out.push(Issue::error(
                &format!("spec.init.waitFor[{i}]"),
                format!("{w:?} is not a wait target"),
                "write `tcp://host:port` or `http://host:port/path`",
            ));
        }
    }
    for (i, cmd) in init.start.iter().enumerate() {
        if cmd.first().is_none_or(|c| c.trim().is_empty()) {
            out.push(Issue::error(
                &format!("spec.init.start[{i}]"),
                "an empty start program",
                "give the program and its arguments, e.g. `[\"/app/migrate\", \"--to\", \"latest\"]`",
            ));
        }
    }
    if let Some(port) = init.metrics_port
        && app.spec.ports.iter().any(|p| p.port == port)
    {
        out.push(Issue::error(
            "spec.init.metricsPort",
            format!("port {port} is already one of the app's ports"),
            "choose a port the app does not use, e.g. 9102",
        ));
    }
}
