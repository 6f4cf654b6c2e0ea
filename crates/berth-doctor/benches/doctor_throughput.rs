//! Throughput of load + check over 10,000 generated objects.
//!
//! Generates, with a fixed seed (a 64-bit LCG, no rand crate), 2,000 applications spread
//! over 50 namespaces, each a Deployment (~60 lines), a Service, an HPA, a PDB and a
//! ConfigMap, with realistic variation (replicas, probes, sidecars, tiers, missing fields),
//! as one multi-document YAML file per namespace. Then times parsing (berth-manifest) and
//! checking (every rule, one index) over several iterations and prints objects/second.
//!
//! `cargo bench -p berth-doctor --bench doctor_throughput` (measure peak memory with
//! `/usr/bin/time -v` on the bench binary). Goal: ≥ 50,000 objects/s including parsing on
//! one core, peak memory under 200 MB.

use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, Instant};

use berth_doctor::check;
use berth_manifest::{Object, load_objects};

const NAMESPACES: usize = 50;
const APPS: usize = 2_000;
const ITERATIONS: usize = 5;

/// Knuth's MMIX LCG.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn app(out: &mut String, rng: &mut Lcg, ns: &str, i: usize) {
    let name = format!("svc-{i:04}");
    let replicas = 1 + rng.below(6);
    let port = [8080, 8000, 3000, 9000][rng.below(4) as usize];
    let tier = ["core", "standard", "batch"][rng.below(3) as usize];
    let cpu = [100, 250, 500, 1000][rng.below(4) as usize];
    let mem = [128, 256, 512, 1024][rng.below(4) as usize];
    let _ = write!(
        out,
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app: {name}
    berth.dev/tier: {tier}
  annotations:
    deployment.kubernetes.io/revision: \"{rev}\"
spec:
  replicas: {replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app: {name}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 25%, maxUnavailable: 0}}
  template:
    metadata:
      labels:
        app: {name}
        version: v{rev}
      annotations:
        prometheus.io/scrape: \"true\"
        prometheus.io/port: \"9090\"
    spec:
      enableServiceLinks: {links}
      terminationGracePeriodSeconds: {grace}
      securityContext:
        runAsNonRoot: true
        seccompProfile: {{type: RuntimeDefault}}
      containers:
      - name: app
        image: registry.example.com/{ns}/{name}:{tag}
        ports:
        - {{name: http, containerPort: {port}}}
        - {{name: metrics, containerPort: 9090}}
        env:
        - {{name: LOG_LEVEL, value: info}}
        - {{name: POD_NAME, valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}}}
        readinessProbe:
          httpGet: {{path: /ready, port: http}}
          periodSeconds: 5
        livenessProbe:
          httpGet: {{path: {live}, port: http}}
          initialDelaySeconds: {delay}
        lifecycle:
          preStop:
            exec:
              command: [\"sh\", \"-c\", \"sleep {sleep}\"]
        resources:
          requests: {{cpu: {cpu}m, memory: {mem}Mi}}
          limits: {{cpu: {cpu_lim}m, memory: {mem}Mi}}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {{drop: [ALL]}}
        volumeMounts:
        - {{name: config, mountPath: /etc/app}}
        - {{name: tmp, mountPath: /tmp}}
{sidecar}      volumes:
      - name: config
        configMap: {{name: {name}-config}}
      - name: tmp
        emptyDir: {{}}
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {ns}
spec:
  selector: {{app: {name}}}
  ports:
  - {{name: http, port: 80, targetPort: http}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {name}
  namespace: {ns}
spec:
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}
  minReplicas: {min}
  maxReplicas: {max}
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {{type: Utilization, averageUtilization: 70}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
  namespace: {ns}
spec:
  {budget}
  selector:
    matchLabels: {{app: {name}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-config
  namespace: {ns}
data:
  app.yaml: |
    listen: :{port}
    upstream: http://svc-{up:04}.{ns}.svc
    timeout: 3s
---
",
        rev = 1 + rng.below(40),
        links = rng.chance(70),
        grace = [30, 45, 60][rng.below(3) as usize],
        tag = if rng.chance(5) {
            "latest".to_string()
        } else {
            format!("1.{}.{}", rng.below(20), rng.below(10))
        },
        live = if rng.chance(50) { "/ready" } else { "/livez" },
        delay = [0, 10, 30, 60][rng.below(4) as usize],
        sleep = [5, 15, 30][rng.below(3) as usize],
        cpu_lim = cpu * [1, 2][rng.below(2) as usize],
        sidecar = if rng.chance(30) {
            "      - name: proxy\n        image: envoyproxy/envoy:v1.30.1\n        resources:\n          requests: {cpu: 100m, memory: 128Mi}\n          limits: {memory: 128Mi}\n"
        } else {
            ""
        },
        min = 1 + rng.below(3),
        max = 4 + rng.below(12),
        budget = [
            "minAvailable: 65%",
            "maxUnavailable: 1",
            "minAvailable: 1",
            "maxUnavailable: 25%"
        ][rng.below(4) as usize],
        up = rng.below(APPS as u64),
    );
}

fn generate() -> Vec<(String, String)> {
    let mut rng = Lcg(0x00be_27b0_0c70_0001);
    let mut files: Vec<(String, String)> = (0..NAMESPACES)
        .map(|n| (format!("ns-{n:02}.yaml"), String::new()))
        .collect();
    for i in 0..APPS {
        let n = rng.below(NAMESPACES as u64) as usize;
        let ns = format!("team-{n:02}");
        app(&mut files[n].1, &mut rng, &ns, i);
    }
    files
}

fn per_second(objects: usize, d: Duration) -> f64 {
    objects as f64 / d.as_secs_f64()
}

fn main() {
    let t0 = Instant::now();
    let files = generate();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    println!(
        "generated {} files, {:.1} MB, {lines} lines in {:.0?}",
        files.len(),
        bytes as f64 / 1e6,
        t0.elapsed()
    );

    let mut best_parse = Duration::MAX;
    let mut best_check = Duration::MAX;
    let mut best_total = Duration::MAX;
    let mut objects_n = 0;
    let mut findings_n = 0;
    for it in 0..ITERATIONS {
        let start = Instant::now();
        let mut objects: Vec<Object> = Vec::with_capacity(APPS * 5);
        for (name, text) in &files {
            let (objs, errs) = load_objects(name, text);
            assert!(errs.is_empty(), "{errs:?}");
            objects.extend(objs);
        }
        let parsed = Instant::now();
        let findings = black_box(check(&objects));
        let done = Instant::now();
        objects_n = objects.len();
        findings_n = findings.len();
        let (p, c, t) = (parsed - start, done - parsed, done - start);
        println!(
            "iteration {it}: parse {p:>8.1?} ({:>9.0} obj/s)  check {c:>8.1?} ({:>9.0} obj/s)  total {t:>8.1?} ({:>9.0} obj/s)",
            per_second(objects_n, p),
            per_second(objects_n, c),
            per_second(objects_n, t)
        );
        best_parse = best_parse.min(p);
        best_check = best_check.min(c);
        best_total = best_total.min(t);
        drop(findings);
        drop(objects);
    }
    println!(
        "{objects_n} objects, {findings_n} findings; best of {ITERATIONS}: parse {:.0} obj/s, check {:.0} obj/s, total {:.0} obj/s",
        per_second(objects_n, best_parse),
        per_second(objects_n, best_check),
        per_second(objects_n, best_total)
    );
}
