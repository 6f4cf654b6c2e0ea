//! The Application reconciler: keeps what `berth render` writes for an Application applied,
//! and turns a new `spec.version` into a Release, so that every version change goes through
//! groups and gates (seed 000: no release skips the groups).
//!
//! [`plan`] is pure: the Application, its rendering, its live Deployments and the
//! namespace's Releases in; the objects to apply, the Release to create and the status out.
//! [`reconcile`] reads, plans and writes.
//!
//! The rules:
//! - the app's own objects (ServiceAccount, Service, NetworkPolicy, Ingress) are applied on
//!   every pass, as field manager `berth`, except the Ingress while a release routes its
//!   canary traffic (then the release engine owns it);
//! - the version's objects (Deployment, autoscaler, budget, per-version Service) are applied
//!   when the app has no Deployment yet (its first version) or when `spec.version` is the
//!   running one (a change of resources, env or probes rolls within the version, surge-first
//!   with `maxUnavailable: 0`);
//! - a `spec.version` other than the running one, with no release of the app under way,
//!   creates the Release `<app>-<version>` with the Application's strategy; if that Release
//!   exists and is finished (rolled back, say), nothing is created again and the status says
//!   what to do; a version the controller already acted on (`status.actedVersion`) is not
//!   released again when a Release started by hand moved the app elsewhere since;
//! - what berth made for the app and no longer renders (an Ingress after `expose` is
//!   removed, a canary Ingress a release left, a Service of a version gone) is deleted,
//!   except while a release holds the app; only objects labelled as berth's and the app's;
//! - the status carries `currentVersion` and two conditions: `Applied` (the rendered objects
//!   are in place) and `UpToDate` (the running version is `spec.version`).

use std::collections::BTreeSet;
use std::sync::Arc;

use berth_model::release::{Release, ReleaseSpec};
use berth_model::{Application, ApplicationStatus, Condition};
use berth_render::Manifest;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use serde_json::Value;

use crate::cluster::Error;
use crate::reconcile::{Context, ERROR_RETRY};
use crate::release_crd::format_time;
use berth_release::Millis;

/// What one pass should do for an Application.
#[derive(Debug, Clone)]
pub struct AppPlan {
    /// Rendered objects to apply as `berth`, in apply order (kind, object).
    pub apply: Vec<(&'static str, Value)>,
    /// A Release to create.
    pub release: Option<Release>,
    /// The version serving the app (the label `app.kubernetes.io/version` of its largest
    /// Deployment), if any.
    pub current_version: Option<String>,
    /// `UpToDate` as (status, reason, message).
    pub up_to_date: (bool, &'static str, String),
    /// The `spec.version` acted on, for the status.
    pub acted_version: Option<String>,
    /// What berth made for the app and must keep, as (kind, name): what it renders now,
    /// and a Service per live version. `None` while a release holds the app (nothing is
    /// pruned then: the release owns the routing).
    pub keep: Option<BTreeSet<(&'static str, String)>>,
}

/// Of the objects berth made for an app (`existing`: kind and name of those labelled
/// `app.kubernetes.io/managed-by: berth` and `berth.dev/app`), those it must delete: not
/// kept. An Ingress left when `expose` is removed, a canary Ingress left by a release,
/// a Service of a version that no longer runs.
pub fn stale(
    existing: &[(&'static str, String)],
    keep: &BTreeSet<(&'static str, String)>,
) -> Vec<(&'static str, String)> {
    existing
        .iter()
        .filter(|(k, n)| !keep.contains(&(*k, n.clone())))
        .cloned()
        .collect()
}

/// The running Deployment of an app: the largest one with replicas (older versions are
/// kept at zero for rollback).
pub fn running(live: &[Deployment]) -> Option<&Deployment> {
    live.iter()
        .filter(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) > 0)
        .max_by_key(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1))
}

fn shown_version(d: &Deployment) -> String {
    d.labels()
        .get("app.kubernetes.io/version")
        .cloned()
        .unwrap_or_else(|| d.name_any())
}

/// Decides one pass for `app`, given what `berth render` makes of it, its live Deployments
/// and the Releases of its namespace. `Err` is a rendering that cannot be turned to JSON.
pub fn plan(
    app: &Application,
    rendered: &[Manifest],
    live: &[Deployment],
    releases: &[Release],
) -> Result<AppPlan, String> {
    let name = app.name_any();
    let version = app.spec.version.clone().unwrap_or_default();
    let holding = releases
        .iter()
        .find(|r| r.spec.apps.contains(&name) && !crate::verbs::finished(r));
    // Each rendered object as (kind, name, JSON), converted once.
    let objects = rendered
        .iter()
        .map(|m| {
            m.to_json()
                .map(|j| (m.kind(), crate::cluster::obj_name(&j), j))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let target = objects
        .iter()
        .find(|(kind, _, _)| *kind == "Deployment")
        .map(|(_, n, _)| n.clone())
        .unwrap_or_default();
    let run = running(live);
    let fresh = live.is_empty();
    let on_target = run.is_some_and(|d| d.name_any() == target);
    let canary = app.spec.release.canary.is_some();

    let mut apply = Vec::new();
    for (kind, obj_name, obj) in &objects {
        let per_version = matches!(
            *kind,
            "Deployment" | "HorizontalPodAutoscaler" | "PodDisruptionBudget"
        ) || (*kind == "Service" && *obj_name == target);
        if per_version {
            if holding.is_some() || !(fresh || on_target) {
                continue;
            }
        } else if *kind == "Ingress" && canary && holding.is_some() {
            continue;
        }
        apply.push((*kind, obj.clone()));
    }

    let release_name = format!("{name}-{}", berth_model::version_key(&name, &version));
    let current_version = if fresh {
        Some(version.clone())
    } else {
        run.map(shown_version)
    };
    let mut release = None;
    let acted = app.status.as_ref().and_then(|s| s.acted_version.clone());
    let mut acted_version = Some(version.clone());
    let up_to_date = if fresh || on_target {
        (true, "Running", format!("version {version} serves the app"))
    } else if let Some(r) = holding {
        // Acted on once the release under way ends.
        acted_version = acted;
        (
            false,
            "Releasing",
            format!(
                "release {} moves the app to version {}",
                r.name_any(),
                r.spec.version
            ),
        )
    } else if let Some(r) = releases.iter().find(|r| r.name_any() == release_name) {
        let phase = r
            .status
            .as_ref()
            .and_then(|s| s.phase)
            .map_or("refused", |p| p.as_str());
        (
            false,
            "ReleaseEnded",
            format!(
                "release {release_name} of version {version} ended ({phase}); set spec.version back to {}, or delete release {release_name} to try again",
                current_version.as_deref().unwrap_or("the running version")
            ),
        )
    } else if acted.as_deref() == Some(version.as_str()) {
        // Another release (started by hand) moved the app since: undoing it because the spec
        // still names the version before would surprise whoever started it.
        (
            false,
            "Diverged",
            format!(
                "version {} runs, released outside spec.version ({version}): set spec.version to {0} to keep it, or start a release of {version}",
                current_version.as_deref().unwrap_or("(none)")
            ),
        )
    } else {
        let mut r = Release::new(
            &release_name,
            ReleaseSpec {
                apps: vec![name.clone()],
                version: version.clone(),
                groups: None,
                gate: None,
                progress_deadline: None,
                paused: false,
                rollback: false,
                approvals: Vec::new(),
            },
        );
        r.metadata.namespace = app.namespace();
        release = Some(r);
        (
            false,
            "Releasing",
            format!(
                "started release {release_name}: {} → {version}",
                current_version.as_deref().unwrap_or("nothing running")
            ),
        )
    };
    let keep = holding.is_none().then(|| {
        let mut keep: BTreeSet<(&'static str, String)> =
            objects.iter().map(|(k, n, _)| (*k, n.clone())).collect();
        for d in live {
            keep.insert(("Service", d.name_any()));
        }
        keep
    });
    Ok(AppPlan {
        apply,
        release,
        current_version,
        up_to_date,
        acted_version,
        keep,
    })
}

/// The status a pass leaves: conditions keep their transition time while their status
/// holds.
pub fn status(
    previous: Option<&ApplicationStatus>,
    generation: Option<i64>,
    applied: (bool, &str, String),
    up_to_date: (bool, &str, String),
    (current_version, acted_version): (Option<String>, Option<String>),
    now: Millis,
) -> ApplicationStatus {
    let prior = previous
        .map(|p| p.conditions.as_slice())
        .unwrap_or_default();
    let conditions = [("Applied", applied), ("UpToDate", up_to_date)]
        .into_iter()
        .map(|(type_, (on, reason, message))| {
            let status = if on { "True" } else { "False" }.to_string();
            let last_transition_time = prior
                .iter()
                .find(|c| c.type_ == type_ && c.status == status)
                .map_or_else(|| format_time(now), |c| c.last_transition_time.clone());
            Condition {
                type_: type_.into(),
                status,
                reason: reason.into(),
                message,
                last_transition_time,
                observed_generation: generation,
            }
        })
        .collect();
    ApplicationStatus {
        current_version,
        acted_version,
        observed_generation: generation,
        conditions,
    }
}

/// The Application a change to Deployment `d` concerns (its `berth.dev/app` label).
pub fn application_for_deployment(d: &Deployment) -> Option<ObjectRef<Application>> {
    let app = d.labels().get(berth_render::APP_LABEL)?;
    Some(ObjectRef::new(app).within(&d.namespace()?))
}

/// The Applications a change to Release `r` concerns.
pub fn applications_for_release(r: &Release) -> Vec<ObjectRef<Application>> {
    let Some(ns) = r.namespace() else {
        return Vec::new();
    };
    r.spec
        .apps
        .iter()
        .map(|a| ObjectRef::new(a).within(&ns))
        .collect()
}

/// Reconciles one Application: the function the Application controller calls.
pub async fn reconcile(app: Arc<Application>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = std::time::Instant::now();
    let result = reconcile_once(&app, &ctx).await;
    ctx.metrics.observe(started.elapsed(), result.is_err());
    result
}

/// After a failed pass: log and try again shortly.
pub fn error_policy(app: Arc<Application>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(application = %app.name_any(), %error, "reconcile failed");
    Action::requeue(ERROR_RETRY)
}

async fn reconcile_once(app: &Application, ctx: &Context) -> Result<Action, Error> {
    let name = app.name_any();
    let ns = app
        .namespace()
        .ok_or_else(|| Error::NoNamespace(name.clone()))?;
    let now = (ctx.clock)();
    let generation = app.meta().generation;
    let rendered = berth_render::render(app, None).map_err(|e| e.to_string());
    let planned = match rendered {
        Ok(r) => {
            let live = ctx.cluster.deployments(&ns, &name).await?;
            let releases = ctx.cluster.releases(&ns).await?;
            plan(app, &r, &live, &releases)
        }
        Err(e) => Err(e),
    };
    let p = match planned {
        Ok(p) => p,
        Err(why) => {
            // Nothing is applied from a spec that does not render: what runs keeps running.
            let st = status(
                app.status.as_ref(),
                generation,
                (false, "InvalidSpec", why.clone()),
                (false, "InvalidSpec", "the spec does not render".into()),
                (
                    app.status.as_ref().and_then(|s| s.current_version.clone()),
                    app.status.as_ref().and_then(|s| s.acted_version.clone()),
                ),
                now,
            );
            if app.status.as_ref() != Some(&st) {
                ctx.cluster.write_app_status(&ns, &name, &st).await?;
                publish(ctx, app, EventType::Warning, "InvalidSpec", &why).await;
            }
            return Ok(Action::await_change());
        }
    };
    for (kind, obj) in &p.apply {
        ctx.cluster.apply_rendered(&ns, kind, obj).await?;
    }
    if let Some(keep) = &p.keep {
        let existing = ctx.cluster.made_for(&ns, &name).await?;
        for (kind, obj) in stale(&existing, keep) {
            ctx.cluster.delete_made(&ns, kind, &obj).await?;
        }
    }
    if let Some(r) = &p.release {
        match Api::<Release>::namespaced(ctx.cluster.client().clone(), &ns)
            .create(&PostParams::default(), r)
            .await
        {
            Ok(_) => {
                publish(ctx, app, EventType::Normal, "Releasing", &p.up_to_date.2).await;
            }
            // Created by a pass whose status write was lost: the same Release.
            Err(kube::Error::Api(ae)) if ae.code == 409 => {}
            Err(source) => {
                return Err(Error::Create {
                    kind: "Release".into(),
                    name: r.name_any(),
                    source,
                });
            }
        }
    }
    let st = status(
        app.status.as_ref(),
        generation,
        (
            true,
            "Applied",
            format!("{} objects applied", p.apply.len()),
        ),
        p.up_to_date,
        (p.current_version, p.acted_version),
        now,
    );
    if app.status.as_ref() != Some(&st) {
        ctx.cluster.write_app_status(&ns, &name, &st).await?;
    }
    Ok(Action::await_change())
}

async fn publish(ctx: &Context, app: &Application, type_: EventType, reason: &str, note: &str) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(note.chars().take(1000).collect()),
        action: reason.to_string(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &app.object_ref(&())).await {
        tracing::warn!(application = %app.name_any(), error = %e, "cannot publish Event");
    }
}

#[cfg(test)]
mod tests;
