//! How pure controller logic from outside the simulator (berth's release engine, guards)
//! runs inside it: it reads a [`View`] of the store and returns [`Command`]s, the same
//! view-in, decisions-out shape the operator gives it against a real cluster. The simulator
//! applies the commands as API writes (through the same store, so the built-in controllers
//! react to them as they would to `kubectl`).

use crate::engine::{Change, Ev, Sim};
use crate::time::Millis;

/// A controller plugged into a run.
pub trait Controller {
    /// Its name, for Events.
    fn name(&self) -> &str;
    /// A request from the timeline (`approve`, `pause`, `resume`, `rollback`) for an app;
    /// returns whether this controller took it.
    fn request(&mut self, _what: &str, _app: &str) -> bool {
        false
    }
    /// One reconcile: what it wants done now, and when to look again.
    fn reconcile(&mut self, view: &View<'_>) -> Reconcile;
}

/// The outcome of one reconcile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reconcile {
    /// Writes to make, in order.
    pub commands: Vec<Command>,
    /// Look again after this long (`None`: only at the next periodic resync).
    pub requeue_after: Option<Millis>,
}

/// A write a plugged controller asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Set a Deployment's `spec.replicas`.
    Scale {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
        /// New count.
        replicas: i32,
    },
    /// Create a Deployment (a full object, as `kubectl apply` would send it).
    Apply(serde_json::Value),
    /// Delete a Deployment (its ReplicaSets and pods follow).
    Delete {
        /// Namespace.
        namespace: String,
        /// Deployment name.
        name: String,
    },
    /// Set the bounds of the HorizontalPodAutoscaler that scales a Deployment.
    BoundHpa {
        /// Namespace.
        namespace: String,
        /// The Deployment it scales.
        deployment: String,
        /// `minReplicas`.
        min: i32,
        /// `maxReplicas`.
        max: i32,
    },
    /// Split a Service's traffic at the ingress in front of it, as ingress-nginx's canary
    /// weight does: `percent` of requests to Deployment `new`'s pods; `None` for no split.
    Route {
        /// Namespace.
        namespace: String,
        /// The Service (the app's, over every version).
        service: String,
        /// The new version's Deployment and its percent of the requests.
        split: Option<(String, u32)>,
    },
    /// Record an Event with the controller's reason.
    Event {
        /// Upstream-style reason.
        reason: String,
        /// Message.
        message: String,
    },
}

/// One Deployment as a controller sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentView {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Its app.
    pub app: String,
    /// `spec.replicas`.
    pub replicas: i32,
    /// Pods ready and not terminating.
    pub ready: i32,
    /// Pods of the current template, terminating ones excluded (`status.updatedReplicas`).
    pub updated: i32,
    /// Pods that exist, terminating ones included (but not those stranded on a NotReady
    /// node, which will not stop until it returns).
    pub pods: i32,
    /// The first container's image.
    pub image: String,
}

/// A read-only view of the store at one moment.
pub struct View<'a> {
    sim: &'a Sim,
}

impl View<'_> {
    /// Virtual time now.
    pub fn now(&self) -> Millis {
        self.sim.now
    }

    /// Every Deployment that is not deleted, in creation order.
    pub fn deployments(&self) -> Vec<DeploymentView> {
        let s = self.sim;
        s.deps
            .iter()
            .filter(|d| !d.removed)
            .map(|d| {
                let mut ready = 0;
                let mut updated = 0;
                let mut pods = 0;
                for &r in &d.rss {
                    for &p in &s.rss[r].pods {
                        let pod = &s.pods[p];
                        if pod.removed {
                            continue;
                        }
                        // A terminating pod on a NotReady node will not stop until the node
                        // comes back: it holds no capacity the release must wait for.
                        let stranded = pod.meta.deletion.is_some()
                            && pod.node.is_some_and(|n| !s.nodes[n].ready);
                        if !stranded {
                            pods += 1;
                        }
                        if pod.meta.deletion.is_some() {
                            continue;
                        }
                        if pod.serving_ready() {
                            ready += 1;
                        }
                        if s.rss[r].tpl.hash == d.tpl.hash {
                            updated += 1;
                        }
                    }
                }
                DeploymentView {
                    namespace: d.meta.namespace.clone(),
                    name: d.meta.name.clone(),
                    app: s.apps[d.app].name.clone(),
                    replicas: d.replicas,
                    ready,
                    updated,
                    pods,
                    image: d.tpl.image.clone(),
                }
            })
            .collect()
    }

    /// The berth Applications in the store, with their namespace.
    pub fn applications(&self) -> impl Iterator<Item = (&str, &berth_model::Application)> {
        self.sim
            .applications
            .iter()
            .map(|(m, a)| (m.namespace.as_str(), a))
    }

    /// One Deployment.
    pub fn deployment(&self, namespace: &str, name: &str) -> Option<DeploymentView> {
        self.deployments()
            .into_iter()
            .find(|d| d.namespace == namespace && d.name == name)
    }
}

/// How often a plugged controller is run without being asked to requeue.
pub const RESYNC: Millis = 30_000;

impl Sim {
    /// A read-only view of the store now (what plugged controllers see).
    pub fn view(&self) -> View<'_> {
        View { sim: self }
    }

    /// Plugs a controller in; it first runs at time `start`.
    pub fn add_controller(&mut self, c: Box<dyn Controller>, start: Millis) {
        let i = self.plugins.len();
        self.plugins.push(Some(c));
        self.at(start, Ev::Plugin(i));
    }

    pub(crate) fn run_plugin(&mut self, i: usize) {
        if self.now < self.controllers_down_until {
            self.at(self.controllers_down_until, Ev::Plugin(i));
            return;
        }
        let Some(mut c) = self.plugins[i].take() else {
            return;
        };
        let out = c.reconcile(&View { sim: self });
        let name = c.name().to_string();
        self.plugins[i] = Some(c);
        for cmd in out.commands {
            self.apply_command(&name, cmd);
        }
        self.after(out.requeue_after.unwrap_or(RESYNC), Ev::Plugin(i));
    }

    fn apply_command(&mut self, who: &str, cmd: Command) {
        let find = |s: &Sim, ns: &str, name: &str| {
            s.deps
                .iter()
                .position(|d| !d.removed && d.meta.namespace == ns && d.meta.name == name)
        };
        match cmd {
            Command::Scale {
                namespace,
                name,
                replicas,
            } => match find(self, &namespace, &name) {
                Some(d) => {
                    if self.deps[d].replicas != replicas {
                        self.deps[d].replicas = replicas;
                        self.deps[d].meta.resource_version = self.bump();
                        self.notify(Change::Dep(d));
                    }
                }
                None => self.refused(who, format!("deployment {namespace}/{name} not found")),
            },
            Command::BoundHpa {
                namespace,
                deployment,
                min,
                max,
            } => {
                let found = self.hpas.iter().position(|h| {
                    let d = &self.deps[h.dep];
                    !d.removed && d.meta.namespace == namespace && d.meta.name == deployment
                });
                if let Some(h) = found {
                    let spec = &mut self.hpas[h].spec;
                    if (spec.min_replicas, spec.max_replicas) != (min, max) {
                        spec.min_replicas = min;
                        spec.max_replicas = max;
                        self.hpas[h].meta.resource_version = self.bump();
                    }
                }
            }
            Command::Apply(o)
                if o.get("kind").and_then(|k| k.as_str()) == Some("HorizontalPodAutoscaler") =>
            {
                match self.add_hpa(who, &o) {
                    Ok(()) => self.start_autoscaling(),
                    Err(e) => self.refused(who, e.to_string()),
                }
            }
            Command::Apply(o) => {
                let replicas = o
                    .pointer("/spec/replicas")
                    .and_then(|v| v.as_i64())
                    .unwrap_or(1) as i32;
                let ns = o
                    .pointer("/metadata/namespace")
                    .and_then(|v| v.as_str())
                    .unwrap_or("default")
                    .to_string();
                let name = o
                    .pointer("/metadata/name")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string();
                if find(self, &ns, &name).is_some() {
                    self.refused(who, format!("deployment {ns}/{name} already exists"));
                    return;
                }
                if let Err(e) = self.add_deployment(who, &o, replicas) {
                    self.refused(who, e.to_string());
                }
            }
            Command::Delete { namespace, name } => match find(self, &namespace, &name) {
                Some(d) => self.delete_deployment(d),
                None => self.refused(who, format!("deployment {namespace}/{name} not found")),
            },
            Command::Route {
                namespace,
                service,
                split,
            } => {
                let found = self
                    .svcs
                    .iter()
                    .position(|v| v.meta.namespace == namespace && v.meta.name == service);
                match found {
                    Some(s) => self.set_split(s, split),
                    None => self.refused(who, format!("service {namespace}/{service} not found")),
                }
            }
            Command::Event { reason, message } => {
                self.event(false, &reason, who.to_string(), None, message);
            }
        }
    }

    /// Hands a timeline request to the plugged controllers until one takes it.
    pub(crate) fn plugin_request(&mut self, what: &str, app: &str) -> bool {
        for i in 0..self.plugins.len() {
            if let Some(c) = self.plugins[i].as_mut()
                && c.request(what, app)
            {
                // Let it act on the request at once.
                self.at(self.now, Ev::Plugin(i));
                return true;
            }
        }
        false
    }

    fn refused(&mut self, who: &str, message: String) {
        self.event(true, "Refused", who.to_string(), None, message);
    }
}
