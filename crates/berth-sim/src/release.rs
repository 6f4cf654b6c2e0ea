//! The release engine (`berth-release`) run inside the simulator as a plugged controller:
//! the shell the operator will also be, reading Deployments and Applications, creating the
//! new version's objects as `berth render` writes them, and writing the counts the pure
//! engine decides.
//!
//! An Application with `release.canary` has its Service's traffic split as ingress-nginx's
//! canary weight would split it (`berth_release::canary_weights`), back at rest at the end.
//!
//! While a release runs, each version's HorizontalPodAutoscaler is pinned to the count the
//! engine gives that version (min = max), so the autoscaler cannot undo a group; when the
//! release succeeds the new version's autoscaler gets the app's own bounds back and the
//! old version stays at zero replicas, kept for an instant rollback.

use berth_release::{
    Decision, Gate, Phase, Plan, Request, Status, View, canary_weights, decide, targets,
};

use crate::plugin::{Command, Controller, DeploymentView, Reconcile};
use crate::time::Millis;

/// One release of one berth Application, as a plugged controller.
pub struct ReleaseRun {
    app: String,
    version: String,
    plan: Plan,
    status: Option<Status>,
    request: Request,
    approvals: Vec<u32>,
    new_deployment: Option<String>,
    old_deployment: Option<String>,
    namespace: String,
    bounds: (i32, i32),
    budget: Option<berth_model::Budget>,
    last_reason: String,
    name: String,
    refused: bool,
    /// Canary routing: the Application's group-1 slice (`Some(None)`: routing without one).
    canary: Option<Option<u32>>,
    /// The split last asked for.
    routed: Option<Option<(String, u32)>>,
}

impl ReleaseRun {
    /// A release of `app` to `version` in `groups` groups with a gate between them.
    pub fn new(
        app: &str,
        version: &str,
        groups: u32,
        gate: Option<Gate>,
        deadline: Millis,
    ) -> Self {
        ReleaseRun {
            app: app.to_string(),
            version: version.to_string(),
            plan: Plan {
                groups: groups.max(1),
                gates: gate.map_or(Vec::new(), |g| vec![g; groups.max(1) as usize - 1]),
                progress_deadline: deadline,
            },
            status: None,
            request: Request::None,
            approvals: Vec::new(),
            new_deployment: None,
            old_deployment: None,
            namespace: String::new(),
            bounds: (1, 1),
            budget: None,
            last_reason: String::new(),
            name: format!("release/{app}-{version}"),
            refused: false,
            canary: None,
            routed: None,
        }
    }

    /// The status so far.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    fn say(&mut self, out: &mut Reconcile, reason: &str, what: &str) {
        if reason != self.last_reason {
            self.last_reason = reason.to_string();
            out.commands.push(Command::Event {
                reason: what.into(),
                message: format!("{}: {reason}", self.app),
            });
        }
    }

    /// Creates the new version's Deployment (at zero) and autoscaler.
    fn create(&mut self, view: &crate::plugin::View<'_>) -> Result<Vec<Command>, String> {
        let (ns, app) = view
            .applications()
            .find(|(_, a)| a.metadata.name.as_deref() == Some(self.app.as_str()))
            .ok_or_else(|| format!("no Application {}", self.app))?;
        self.namespace = ns.to_string();
        let live: Vec<DeploymentView> = view
            .deployments()
            .into_iter()
            .filter(|d| d.app == self.app && d.namespace == ns && d.replicas > 0)
            .collect();
        let old = live
            .iter()
            .max_by_key(|d| d.replicas)
            .ok_or_else(|| format!("{} has no running version to release from", self.app))?;
        self.old_deployment = Some(old.name.clone());
        let r = app
            .resolved(Some(&self.version))
            .map_err(|e| e.to_string())?;
        self.bounds = (r.min_replicas, r.max_replicas);
        self.budget = Some(r.budget);
        self.canary = app
            .spec
            .release
            .canary
            .as_ref()
            .map(|c| c.weight.and_then(|w| u32::try_from(w).ok()));
        let manifests =
            berth_render::render(app, Some(&self.version)).map_err(|e| e.to_string())?;
        let mut cmds = Vec::new();
        for m in manifests {
            let kind = m.kind();
            if kind != "Deployment" && kind != "HorizontalPodAutoscaler" {
                continue;
            }
            let mut j = m.to_json().map_err(|e| e.to_string())?;
            if kind == "Deployment" {
                let name = j
                    .pointer("/metadata/name")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                if name == old.name {
                    return Err(format!(
                        "{} already runs version {}",
                        self.app, self.version
                    ));
                }
                self.new_deployment = Some(name);
                j["spec"]["replicas"] = 0.into();
            }
            cmds.push(Command::Apply(j));
        }
        Ok(cmds)
    }
}

impl Controller for ReleaseRun {
    fn name(&self) -> &str {
        &self.name
    }

    fn request(&mut self, what: &str, app: &str) -> bool {
        if app != self.app || self.status.as_ref().is_some_and(|s| s.phase.finished()) {
            return false;
        }
        match what {
            "approve" => {
                let boundary = self.status.as_ref().map_or(1, |s| s.group);
                self.approvals.push(boundary);
            }
            "pause" => self.request = Request::Pause,
            "resume" => self.request = Request::Resume,
            "rollback" => self.request = Request::Rollback,
            _ => return false,
        }
        true
    }

    fn reconcile(&mut self, view: &crate::plugin::View<'_>) -> Reconcile {
        let mut out = Reconcile {
            requeue_after: Some(1_000),
            ..Reconcile::default()
        };
        let now = view.now();
        if self.refused {
            out.requeue_after = None;
            return out;
        }
        if self.new_deployment.is_none() {
            match self.create(view) {
                Ok(cmds) => {
                    out.commands = cmds;
                    let msg = format!("creating version {} at zero replicas", self.version);
                    self.say(&mut out, &msg, "ReleaseStarted");
                }
                Err(e) => {
                    self.say(&mut out, &e, "ReleaseRefused");
                    self.refused = true;
                    out.requeue_after = None;
                }
            }
            return out;
        }
        let (Some(old_name), Some(new_name)) = (&self.old_deployment, &self.new_deployment) else {
            return out;
        };
        let (Some(old), Some(new)) = (
            view.deployment(&self.namespace, old_name),
            view.deployment(&self.namespace, new_name),
        ) else {
            // The new Deployment is being created.
            return out;
        };
        let version = |d: &DeploymentView| berth_release::VersionView {
            deployment: d.name.clone(),
            replicas: d.replicas,
            ready: d.ready,
            pods: d.pods,
        };
        let total = self
            .status
            .as_ref()
            .and_then(|s| s.totals.first().copied())
            .unwrap_or(old.replicas + new.replicas);
        let v = View {
            apps: vec![berth_release::AppView {
                name: self.app.clone(),
                old: version(&old),
                new: version(&new),
                // The app's disruption budget, as berth renders it for each version.
                floor: self.budget.map_or(total - 1, |b| b.floor(total)),
            }],
            approvals: self.approvals.clone(),
            metrics: Vec::new(),
            request: self.request,
        };
        let status = self
            .status
            .take()
            .unwrap_or_else(|| Status::start(&v, &self.plan, now));
        let Decision {
            commands,
            status,
            reason,
            requeue_after,
        } = decide(&v, &self.plan, &status, now);
        // A request is consumed once the engine has acted on it.
        self.request = Request::None;
        let finished = status.phase.finished();
        let (old_target, new_target) = targets(&status, &self.plan)[0];
        for c in commands {
            let berth_release::Command::Scale {
                deployment,
                replicas,
                ..
            } = c;
            out.commands.push(Command::Scale {
                namespace: self.namespace.clone(),
                name: deployment,
                replicas,
            });
        }
        // Pin each version's autoscaler to its count while the release runs; give the
        // winner the app's bounds at the end.
        let (new_bounds, old_bounds) = berth_release::autoscaler_bounds(
            status.phase,
            (old_target, new_target),
            new.replicas,
            self.bounds,
        );
        for (d, (min, max)) in [(new_name, new_bounds), (old_name, old_bounds)] {
            out.commands.push(Command::BoundHpa {
                namespace: self.namespace.clone(),
                deployment: d.clone(),
                min,
                max,
            });
        }
        // Canary routing as the operator does it: the split follows the ready groups, and
        // the ingress is back at rest (no split) once the release has ended.
        if let Some(first) = self.canary {
            let weight = canary_weights(&v, &status, &self.plan, first)[0];
            let split = (!finished).then(|| (new_name.clone(), weight));
            if self.routed.as_ref() != Some(&split) {
                self.routed = Some(split.clone());
                out.commands.push(Command::Event {
                    reason: "CanaryWeight".into(),
                    message: match &split {
                        Some((d, w)) => format!("{}: {w}% of requests to {d}", self.app),
                        None => format!("{}: traffic at rest, no canary split", self.app),
                    },
                });
                out.commands.push(Command::Route {
                    namespace: self.namespace.clone(),
                    service: self.app.clone(),
                    split,
                });
            }
        }
        let what = match status.phase {
            Phase::Succeeded => "ReleaseSucceeded",
            Phase::RolledBack => "ReleaseRolledBack",
            Phase::Stalled => "ReleaseStalled",
            _ => "Release",
        };
        self.say(&mut out, &reason, what);
        out.requeue_after = if finished {
            None
        } else {
            Some(requeue_after.unwrap_or(5_000))
        };
        self.status = Some(status);
        out
    }
}

impl crate::engine::Sim {
    /// The `release` timeline action: a release of a berth Application, its groups and gate
    /// taken from the Application unless the action names them.
    pub(crate) fn start_release(
        &mut self,
        app: &str,
        version: &str,
        groups: Option<u32>,
        gate: Option<Gate>,
        deadline: Millis,
    ) {
        let Some(id) = self.apps.iter().position(|a| a.name == app) else {
            return;
        };
        let spec = self
            .applications
            .iter()
            .find(|(_, a)| a.metadata.name.as_deref() == Some(app))
            .map(|(_, a)| a.spec.release.clone());
        let Some(spec) = spec else {
            self.event(
                true,
                "ReleaseRefused",
                format!("app/{app}"),
                Some(id),
                format!("{app} is not a berth Application: only Applications are released"),
            );
            return;
        };
        let groups = groups.unwrap_or(spec.groups.max(1) as u32);
        let gate = gate.or_else(|| {
            if spec.gate.manual == Some(true) {
                Some(Gate::Manual)
            } else {
                spec.gate
                    .interval
                    .as_deref()
                    .and_then(|i| crate::time::parse_millis(i).ok())
                    .map(Gate::Interval)
            }
        });
        let run = ReleaseRun::new(app, version, groups, gate, deadline);
        self.add_controller(Box::new(run), self.now);
    }
}
