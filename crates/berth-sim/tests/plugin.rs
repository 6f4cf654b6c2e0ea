//! A pure controller plugged into the simulator through the view/command interface: a toy
//! surge-first release in groups, the shape berth's release engine will take.

use berth_sim::plugin::{Command, Controller, Reconcile, View};
use berth_sim::{Sim, load_scenario};

const FILES: &str = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-v1, namespace: default}
spec:
  replicas: 6
  selector: {matchLabels: {app: web, version: v1}}
  template:
    metadata: {labels: {app: web, version: v1}}
    spec:
      containers:
        - name: app
          image: web:1
          readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 2}
          lifecycle: {preStop: {sleep: {seconds: 5}}}
          resources: {requests: {cpu: 100m, memory: 64Mi}}
";

const SCENARIO: &str = "apiVersion: berth.dev/v1alpha1
kind: Scenario
metadata: {name: plugged}
spec:
  duration: 10m
  cluster: {switches: 2, hostsPerSwitch: 3}
  workloads: [web.yaml]
  apps:
    web: {startTime: 2s, requestTime: 100ms, requestsPerSecond: 600}
  assertions:
    - {app: web, maxFailedRequests: 0}
    - {app: web, minReady: 6}
";

/// Moves `web` from v1 to v2 two replicas at a time: v2 up, wait ready, v1 down.
struct GroupedRelease {
    step: i32,
    done: bool,
}

impl Controller for GroupedRelease {
    fn name(&self) -> &str {
        "grouped-release"
    }

    fn reconcile(&mut self, view: &View<'_>) -> Reconcile {
        let mut out = Reconcile {
            requeue_after: Some(1_000),
            ..Reconcile::default()
        };
        if self.done {
            out.requeue_after = None;
            return out;
        }
        let Some(v2) = view.deployment("default", "web-v2") else {
            let mut o = v2_object();
            o["spec"]["replicas"] = 0.into();
            out.commands.push(Command::Apply(o));
            return out;
        };
        let v1 = view.deployment("default", "web-v1");
        if v2.ready < v2.replicas {
            return out; // the group is not ready yet
        }
        if let Some(v1) = v1 {
            if v1.replicas + v2.replicas > 6 {
                out.commands.push(Command::Scale {
                    namespace: "default".into(),
                    name: "web-v1".into(),
                    replicas: 6 - v2.replicas,
                });
            } else if v2.replicas < 6 {
                self.step += 1;
                out.commands.push(Command::Event {
                    reason: "GroupStarted".into(),
                    message: format!("group {}", self.step),
                });
                out.commands.push(Command::Scale {
                    namespace: "default".into(),
                    name: "web-v2".into(),
                    replicas: v2.replicas + 2,
                });
            } else {
                out.commands.push(Command::Delete {
                    namespace: "default".into(),
                    name: "web-v1".into(),
                });
                self.done = true;
            }
        }
        out
    }
}

fn v2_object() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web-v2", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web", "version": "v2"}},
            "template": {
                "metadata": {"labels": {"app": "web", "version": "v2"}},
                "spec": {"containers": [{
                    "name": "app",
                    "image": "web:2",
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 2},
                    "lifecycle": {"preStop": {"sleep": {"seconds": 5}}},
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}
                }]}
            }
        }
    })
}

#[test]
fn a_plugged_controller_moves_an_app_surge_first_without_losing_a_request() {
    let read = |f: &str| {
        if f == "web.yaml" {
            Ok(FILES.to_string())
        } else {
            Err(format!("no {f}"))
        }
    };
    let sc = load_scenario("plugged.yaml", SCENARIO, &read).expect("scenario");
    let mut sim = Sim::new(sc).expect("sim");
    sim.add_controller(
        Box::new(GroupedRelease {
            step: 0,
            done: false,
        }),
        60_000,
    );
    let r = sim.run();
    let failed: Vec<_> = r.assertions.iter().filter(|a| !a.passed).collect();
    assert!(failed.is_empty(), "{failed:?}");
    let groups = r
        .events
        .iter()
        .filter(|e| e.reason == "GroupStarted")
        .count();
    assert_eq!(groups, 3);
    assert!(
        r.events
            .iter()
            .any(|e| e.reason == "GarbageCollected" && e.message.contains("web-v1"))
    );
    // Surge-first: never more than one group (2 pods) beyond the 6.
    assert_eq!(r.app("web").expect("web").max_ready, 8);
}

#[test]
fn plugged_controllers_see_the_applications_of_the_scenario() {
    struct Reader(std::rc::Rc<std::cell::RefCell<Vec<String>>>);
    impl Controller for Reader {
        fn name(&self) -> &str {
            "reader"
        }
        fn reconcile(&mut self, view: &View<'_>) -> Reconcile {
            for (ns, app) in view.applications() {
                let name = app.metadata.name.clone().unwrap_or_default();
                self.0
                    .borrow_mut()
                    .push(format!("{ns}/{name} groups={}", app.spec.release.groups));
            }
            Reconcile::default()
        }
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let text = std::fs::read_to_string(dir.join("termination-storm.yaml")).expect("scenario");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string());
    let sc = load_scenario("termination-storm.yaml", &text, &read).expect("scenario");
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut sim = Sim::new(sc).expect("sim");
    sim.add_controller(Box::new(Reader(seen.clone())), 1_000);
    sim.run_until(1_000);
    assert_eq!(*seen.borrow(), ["shop/checkout groups=4"]);
}
