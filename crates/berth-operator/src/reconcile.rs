//! The Release reconciler: a thin shell around [`berth_release::decide`].
//!
//! One pass reads the Release's Applications and each app's Deployments, creates the new
//! version's Deployment (at zero replicas) and autoscaler exactly as `berth render` writes
//! them when they are missing, builds the engine's [`View`], decides, and writes what the
//! decision says: replica counts, autoscaler bounds, the Release status (through the status
//! subresource) and an Event carrying the decision's reason.
//!
//! The mapping from objects to the engine's view lives in [`crate::mapping`] (pure) and the
//! API calls in [`crate::cluster`], so that only those calls need a cluster (or a mocked
//! one).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use berth_model::{Application, Budget};
use berth_release::{
    AppView, Decision, Millis, Phase, Status, View, canary_weights, decide, targets,
};
use k8s_openapi::api::apps::v1::Deployment;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube::runtime::reflector::ObjectRef;
use kube::{Client, Resource, ResourceExt};

pub use crate::cluster::Error;
use crate::cluster::{Cluster, obj_name};
use crate::mapping::{
    Route, conditions, floor, hpa_bounds, plan_for, request_for, retain_for, retention_due,
    route_for, version_view,
};
use crate::metrics::Metrics;
use crate::release_crd::{
    AppDeployments, HistoryEntry, Release, ReleaseSpec, ReleaseStatus, StatusError, format_time,
    from_crd_status, to_crd_status,
};
use crate::verbs::{self, CONFLICT_REASON};

/// How long to wait before looking again at a Release that was refused (its Application
/// may appear, or be fixed).
pub const REFUSED_RETRY: Duration = Duration::from_secs(60);
/// How long a finished release waits while a later release of its apps runs before it
/// looks again (to settle and retire).
pub const HELD_RETRY: Duration = Duration::from_secs(600);
/// How long to wait before retrying a reconcile whose API call failed.
pub const ERROR_RETRY: Duration = Duration::from_secs(15);

/// Milliseconds since the epoch, as the operator's clock gives them.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The wall clock: the operator is the one shell that runs on real time.
pub fn wall_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            // A clock before 1970 is a broken host; treat it as the epoch rather than panic.
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    })
}

/// What every reconcile shares.
pub struct Context {
    /// API calls.
    pub cluster: Cluster,
    /// Publishes Events on Releases.
    pub recorder: Recorder,
    /// The time.
    pub clock: Clock,
    /// Reconcile counts and durations.
    pub metrics: Arc<Metrics>,
    /// Prometheus for metric gates that name none (`$BERTH_PROMETHEUS_URL`).
    pub prometheus: String,
}

impl Context {
    /// A context over `client` with the wall clock, reporting Events as `berth-operator`.
    pub fn new(client: Client, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: "berth-operator".into(),
            instance,
        };
        Context {
            recorder: Recorder::new(client.clone(), reporter),
            cluster: Cluster::new(client),
            clock: wall_clock(),
            metrics: Arc::default(),
            prometheus: std::env::var("BERTH_PROMETHEUS_URL")
                .unwrap_or_else(|_| "http://prometheus-operated.monitoring:9090".into()),
        }
    }
}

// === reconcile ===

/// One app's part of a pass: its Deployments, bounds and floor.
struct AppState {
    name: String,
    app: Application,
    /// Terminating pods by version label.
    terminating: BTreeMap<String, i32>,
    old: Deployment,
    new: Deployment,
    bounds: (i32, i32),
    budget: Budget,
}

/// An expected "no": the Release cannot go on as written (a missing Application, a bad
/// spec, another release of the same app). Reported in the status and an Event, not
/// retried as an error.
struct Refusal {
    /// The conditions' reason: `Refused`, or [`CONFLICT_REASON`] for a refusal that is
    /// final.
    reason: &'static str,
    message: String,
}

impl Refusal {
    /// A refusal worth another look later (the Application may appear or be fixed).
    fn new(message: String) -> Refusal {
        Refusal {
            reason: "Refused",
            message,
        }
    }
}

impl From<StatusError> for Refusal {
    fn from(e: StatusError) -> Self {
        Refusal::new(format!("the status cannot be read back: {e}"))
    }
}

/// Reconciles one Release: the function [`kube::runtime::Controller::run`] calls.
pub async fn reconcile(release: Arc<Release>, ctx: Arc<Context>) -> Result<Action, Error> {
    // Only for the duration metric; no decision reads this clock.
    let started = std::time::Instant::now();
    let result = reconcile_once(&release, &ctx).await;
    ctx.metrics.observe(started.elapsed(), result.is_err());
    result
}

/// What the controller does after a failed reconcile: log it and try again shortly (the
/// controller's own backoff is not needed: the engine's decisions are idempotent).
pub fn error_policy(release: Arc<Release>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(release = %release.name_any(), %error, "reconcile failed");
    Action::requeue(ERROR_RETRY)
}

/// The Releases a change to Deployment `d` concerns: those in its namespace that release
/// its app (the `berth.dev/app` label) and have not finished. Deployments are matched by
/// label rather than owner: an owner reference to a Release would let the garbage
/// collector delete the app's Deployment with the Release.
pub fn releases_for_deployment(
    releases: &[Arc<Release>],
    d: &Deployment,
) -> Vec<ObjectRef<Release>> {
    let Some(app) = d.labels().get(berth_render::APP_LABEL) else {
        return Vec::new();
    };
    releases
        .iter()
        .filter(|r| r.namespace() == d.namespace())
        .filter(|r| r.spec.apps.iter().any(|a| a == app))
        .filter(|r| {
            let phase = r.status.as_ref().and_then(|s| s.phase);
            !phase.is_some_and(|p| crate::release_crd::phase_from_crd(p).finished())
        })
        .map(|r| ObjectRef::from_obj(r.as_ref()))
        .collect()
}

async fn reconcile_once(cached: &Arc<Release>, ctx: &Context) -> Result<Action, Error> {
    let name = cached.name_any();
    let ns = cached
        .namespace()
        .ok_or_else(|| Error::NoNamespace(name.clone()))?;
    // Read from the API server, not the watch cache: the counts derive from the status, and
    // a cache that has not yet seen the last pass's status write would start the release
    // again and move its replicas twice.
    let Some(fresh) = ctx.cluster.release(&ns, &name).await? else {
        return Ok(Action::await_change());
    };
    let release = &fresh;
    let prior = release.status.clone().unwrap_or_default();
    let now = (ctx.clock)();
    match pass(release, &ns, &prior, now, ctx).await? {
        Ok(action) => Ok(action),
        Err(Refusal {
            reason,
            message: why,
        }) => {
            let mut status = prior.clone();
            status.conditions = conditions(
                &prior.conditions,
                from_crd_status(&prior).ok().flatten().map(|s| s.phase),
                Some(reason),
                &why,
                release.meta().generation,
                now,
            );
            status.observed_generation = release.meta().generation;
            if status != prior {
                ctx.cluster.write_status(&ns, &name, &status).await?;
                publish(ctx, release, EventType::Warning, reason, "Refuse", &why).await;
            }
            if reason == CONFLICT_REASON {
                // Final: starting later, when the other release ends, would surprise whoever
                // rolled that one back.
                Ok(Action::await_change())
            } else {
                Ok(Action::requeue(REFUSED_RETRY))
            }
        }
    }
}

/// The pass proper: `Ok(Err(_))` is a refusal, `Err(_)` a failed API call.
async fn pass(
    release: &Release,
    ns: &str,
    prior: &ReleaseStatus,
    now: Millis,
    ctx: &Context,
) -> Result<Result<Action, Refusal>, Error> {
    let started = match from_crd_status(prior) {
        Ok(s) => s,
        Err(e) => return Ok(Err(e.into())),
    };
    // Deleting a Release that is moving replicas is its abort: it rolls back, and the
    // finalizer holds the object until the old version serves the app again.
    let deleting = release.metadata.deletion_timestamp.is_some();
    let unfinished = started.as_ref().is_some_and(|s| !s.phase.finished());
    let forced;
    let spec = if deleting && unfinished && !release.spec.rollback {
        forced = ReleaseSpec {
            rollback: true,
            paused: false,
            ..release.spec.clone()
        };
        &forced
    } else {
        &release.spec
    };
    if deleting && started.is_none() {
        // Never started: nothing to undo.
        ctx.cluster
            .remove_finalizer(ns, &release.name_any())
            .await?;
        return Ok(Ok(Action::await_change()));
    }
    // A finished release does nothing more, unless a succeeded one is asked to roll back:
    // going on deciding would fight the autoscaler that now owns the app.
    if let Some(s) = &started
        && (s.phase == Phase::RolledBack || (s.phase == Phase::Succeeded && !spec.rollback))
    {
        // A later release of these apps owns their counts, bounds and routing now.
        let me = release.name_any();
        let held = ctx.cluster.releases(ns).await?.iter().any(|r| {
            r.name_any() != me
                && !verbs::finished(r)
                && r.spec.apps.iter().any(|a| spec.apps.contains(a))
        });
        if held {
            return Ok(Ok(Action::requeue(HELD_RETRY)));
        }
        let mut found = Vec::new();
        for app_name in &spec.apps {
            if let Some(app) = ctx.cluster.application(ns, app_name).await? {
                found.push(app);
            }
        }
        let mut prior = prior.clone();
        if prior.settled.is_none() {
            if let Err(r) = settle(ctx, ns, s, &prior, &found).await? {
                return Ok(Err(r));
            }
            prior.settled = Some(format_time(now));
            ctx.cluster
                .write_status(ns, &release.name_any(), &prior)
                .await?;
        }
        if deleting {
            // Without its Release nobody can ask for a rollback: the version kept for one
            // goes now, then the object may go.
            retire(release, ns, &prior, s, &found, now, Some(0), ctx).await?;
            ctx.cluster
                .remove_finalizer(ns, &release.name_any())
                .await?;
            return Ok(Ok(Action::await_change()));
        }
        return retire(release, ns, &prior, s, &found, now, None, ctx)
            .await
            .map(Ok);
    }
    if started.is_none() && spec.paused {
        // Created paused: nothing moves until it is resumed (starting would scale group 1).
        return Ok(Ok(Action::await_change()));
    }
    if spec.apps.is_empty() {
        return Ok(Err(Refusal::new("spec.apps names no Application".into())));
    }
    if started.is_none()
        && let Some(why) = conflict(release, prior, ns, ctx).await?
    {
        return Ok(Err(Refusal {
            reason: CONFLICT_REASON,
            message: why,
        }));
    }
    // The status records each app's Deployments from the start; a Release whose apps no
    // longer match them would have its totals applied to the wrong apps.
    if started.is_some()
        && !prior
            .deployments
            .iter()
            .map(|d| &d.app)
            .eq(spec.apps.iter())
    {
        return Ok(Err(Refusal::new(
            "spec.apps changed after the release started; roll back and start a new Release".into(),
        )));
    }

    let mut apps = Vec::with_capacity(spec.apps.len());
    let mut plan = None;
    for app_name in &spec.apps {
        let Some(app) = ctx.cluster.application(ns, app_name).await? else {
            return Ok(Err(Refusal::new(format!(
                "Application {app_name} not found in namespace {ns}"
            ))));
        };
        if plan.is_none() {
            match plan_for(spec, &app) {
                Ok(p) => plan = Some(p),
                Err(e) => return Ok(Err(Refusal::new(e))),
            }
        }
        match app_state(ctx, ns, &app, &spec.version, prior).await? {
            Ok(a) => apps.push(a),
            Err(r) => return Ok(Err(r)),
        }
    }
    let Some(plan) = plan else {
        // Unreachable: `spec.apps` is not empty, so the loop ran and set the plan.
        return Ok(Err(Refusal::new("spec.apps names no Application".into())));
    };

    let view = View {
        apps: apps
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let (old, new) = (
                    version_view(&a.old, &a.terminating),
                    version_view(&a.new, &a.terminating),
                );
                let total = started
                    .as_ref()
                    .and_then(|s| s.totals.get(i).copied())
                    .unwrap_or(old.replicas + new.replicas);
                AppView {
                    name: a.name.clone(),
                    floor: floor(total, a.budget),
                    old,
                    new,
                }
            })
            .collect(),
        approvals: spec.approvals.clone(),
        metrics: metric_verdict(spec, started.as_ref(), &ctx.prometheus).await,
        request: request_for(spec, started.as_ref()),
    };
    let mut before = started.unwrap_or_else(|| Status::start(&view, &plan, now));
    if before.phase == Phase::Succeeded && view.request == berth_release::Request::Rollback {
        // The winner may have autoscaled since the release: the old version comes back at
        // today's size, not the size recorded then (the status carries it from here on).
        for (total, a) in before.totals.iter_mut().zip(&view.apps) {
            *total = (*total).max(a.new.replicas);
        }
    }
    let Decision {
        commands,
        status,
        reason,
        requeue_after,
    } = decide(&view, &plan, &before, now);

    let mut crd = to_crd_status(&status);
    crd.deployments = apps
        .iter()
        .map(|a| AppDeployments {
            app: a.name.clone(),
            old: a.old.name_any(),
            new: a.new.name_any(),
        })
        .collect();
    crd.conditions = conditions(
        &prior.conditions,
        Some(status.phase),
        None,
        &reason,
        release.meta().generation,
        now,
    );
    crd.observed_generation = release.meta().generation;
    // The status goes first: every count derives from it, so if the operator stops between
    // the two writes, the next pass re-derives and issues the same counts. Scaling first
    // would let a restart see the new pods as part of the app's total and move them twice.
    // From the first move on, a deleted Release rolls back before it goes.
    if !deleting
        && !release
            .finalizers()
            .iter()
            .any(|f| f == crate::cluster::FINALIZER)
    {
        ctx.cluster.add_finalizer(ns, &release.name_any()).await?;
    }
    if &crd != prior {
        ctx.cluster
            .write_status(ns, &release.name_any(), &crd)
            .await?;
    }
    // Autoscalers are pinned before the counts move (an autoscaler still on the app's
    // bounds could undo a count), and traffic moves before old pods go.
    let want = targets(&status, &plan);
    for (a, (v, t)) in apps.iter().zip(view.apps.iter().zip(want)) {
        let (new_bounds, old_bounds) = hpa_bounds(status.phase, t, v.new.replicas, a.bounds);
        // Autoscalers are named after their Deployments (berth-render).
        ctx.cluster
            .bound_hpa(ns, &v.new.deployment, new_bounds)
            .await?;
        ctx.cluster
            .bound_hpa(ns, &v.old.deployment, old_bounds)
            .await?;
    }

    // Canary routing follows the status: traffic moves after a group's pods are ready
    // (the status says so before this pass scales anything down) and leaves the new
    // version on a rollback as fast as the old one's pods return.
    for (a, weight) in apps
        .iter()
        .zip(canary_weights(&view, &status, &plan, first_weight(&apps)))
    {
        if a.app.spec.release.canary.is_some()
            && let Err(r) = route(
                ctx,
                ns,
                &a.app,
                Some((&a.old, &a.new)),
                &spec.version,
                route_for(status.phase, weight),
            )
            .await?
        {
            return Ok(Err(r));
        }
    }

    for c in &commands {
        let berth_release::Command::Scale {
            deployment,
            replicas,
            ..
        } = c;
        ctx.cluster.scale(ns, deployment, *replicas).await?;
    }

    // An Event per step that changed the status (the engine notes each in the history), so
    // that `kubectl describe` tells the story without one Event per poll.
    if status.history.len() > before.history.len() || prior.phase.is_none() {
        let kind = if status.phase == Phase::Stalled {
            EventType::Warning
        } else {
            EventType::Normal
        };
        // Recorder folds Events with the same reason and action into one series and keeps
        // the first note; the action names the step so that each step gets its own Event.
        let action = format!("Group{}{:?}", status.group, status.stage);
        let event_reason = format!("{:?}", status.phase);
        publish(ctx, release, kind, &event_reason, &action, &reason).await;
    }
    Ok(Ok(match requeue_after {
        Some(ms) => Action::requeue(Duration::from_millis(ms)),
        None => Action::await_change(),
    }))
}

/// Why a Release that has not started must never start: another release of one of its
/// apps holds it (started, or created earlier). A Release refused so once stays refused.
async fn conflict(
    release: &Release,
    prior: &ReleaseStatus,
    ns: &str,
    ctx: &Context,
) -> Result<Option<String>, Error> {
    if let Some(c) = prior
        .conditions
        .iter()
        .find(|c| c.reason == CONFLICT_REASON)
    {
        return Ok(Some(c.message.clone()));
    }
    let all = ctx.cluster.releases(ns).await?;
    let me = release.name_any();
    let key = release
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| (t.0, me.clone()));
    let apps: Vec<&str> = release.spec.apps.iter().map(String::as_str).collect();
    Ok(
        berth_release::admit(&apps, &verbs::running(&all, Some(&me), key.as_ref()))
            .err()
            .map(|why| {
                format!("{why}; this Release will not start: delete it and start a new one then")
            }),
    )
}

/// Puts a finished release's end state in place, idempotently: the losing version at zero,
/// the winner's autoscaler on the app's bounds and the loser's at one, the Ingress at rest
/// and no canary Ingress. The pass that finished the release wrote the same, but it may
/// have stopped part-way (its status went first).
async fn settle(
    ctx: &Context,
    ns: &str,
    st: &Status,
    prior: &ReleaseStatus,
    apps: &[Application],
) -> Result<Result<(), Refusal>, Error> {
    for d in &prior.deployments {
        let Some(app) = apps.iter().find(|a| a.name_any() == d.app) else {
            continue;
        };
        let (winner, loser) = if st.phase == Phase::Succeeded {
            (&d.new, &d.old)
        } else {
            (&d.old, &d.new)
        };
        let live = ctx.cluster.deployments(ns, &d.app).await?;
        if live
            .iter()
            .find(|x| x.name_any() == *loser)
            .is_some_and(|x| x.spec.as_ref().and_then(|s| s.replicas) != Some(0))
        {
            ctx.cluster.scale(ns, loser, 0).await?;
        }
        match app.resolved(None) {
            Ok(r) => {
                ctx.cluster
                    .bound_hpa(ns, winner, (r.min_replicas, r.max_replicas))
                    .await?
            }
            Err(e) => return Ok(Err(Refusal::new(format!("{}: {e}", d.app)))),
        }
        ctx.cluster.bound_hpa(ns, loser, (1, 1)).await?;
        if app.spec.release.canary.is_some() {
            if let Err(r) = route(ctx, ns, app, None, "", Route::Rest).await? {
                return Ok(Err(r));
            }
        } else {
            // Canary routing turned off during the release: its Ingress must still go.
            ctx.cluster.delete_canary_ingress(ns, &d.app).await?;
        }
    }
    Ok(Ok(()))
}

/// After a release ends, keeps the losing version's Deployment (at zero) for the apps'
/// `retainPrevious`, so that rolling back needs no new ReplicaSet, then deletes it with its
/// autoscaler, budget and Service, and records when in the status. A loser that runs again
/// (another release brought it back) is not touched.
#[allow(clippy::too_many_arguments)]
async fn retire(
    release: &Release,
    ns: &str,
    prior: &ReleaseStatus,
    st: &Status,
    apps: &[Application],
    now: Millis,
    retain: Option<Millis>,
    ctx: &Context,
) -> Result<Action, Error> {
    if prior.retired.is_some() {
        return Ok(Action::await_change());
    }
    // The engine notes the step that finished the release; `since` is the fallback.
    let ended = st.history.last().map_or(st.since, |(t, _)| *t);
    let retain = retain.unwrap_or_else(|| retain_for(apps));
    if let Err(left) = retention_due(ended, retain, now) {
        return Ok(Action::requeue(Duration::from_millis(left)));
    }
    let mut notes = Vec::new();
    for d in &prior.deployments {
        let loser = if st.phase == Phase::Succeeded {
            &d.old
        } else {
            &d.new
        };
        let live = ctx.cluster.deployments(ns, &d.app).await?;
        let running = live
            .iter()
            .find(|x| x.name_any() == *loser)
            .is_some_and(|x| x.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) > 0);
        if running {
            notes.push(format!("kept {loser}: it runs again"));
            continue;
        }
        ctx.cluster.delete_version(ns, loser).await?;
        notes.push(format!("deleted {loser}"));
    }
    let why = if retain == 0 {
        format!("{}: the Release was deleted", notes.join(", "))
    } else {
        format!(
            "{} after the {} kept for rollback",
            notes.join(", "),
            berth_release::fmt_ms(retain)
        )
    };
    let mut status = prior.clone();
    status.retired = Some(format_time(now));
    status.history.push(HistoryEntry {
        time: format_time(now),
        message: why.clone(),
    });
    ctx.cluster
        .write_status(ns, &release.name_any(), &status)
        .await?;
    publish(ctx, release, EventType::Normal, "Retired", "Retire", &why).await;
    Ok(Action::await_change())
}

/// The canary slice of group 1 (`spec.release.canary.weight`) of the first app: lockstep
/// apps share one gate, and so one canary slice.
fn first_weight(apps: &[AppState]) -> Option<u32> {
    apps.first()
        .and_then(|a| a.app.spec.release.canary.as_ref())
        .and_then(|c| c.weight)
        .and_then(|w| u32::try_from(w).ok())
}

/// Puts an app's Ingress traffic where `to` says: split between the old and new
/// versions' Services (each applied from its Deployment's selector), or at rest.
async fn route(
    ctx: &Context,
    ns: &str,
    app: &Application,
    versions: Option<(&Deployment, &Deployment)>,
    version: &str,
    to: Route,
) -> Result<Result<(), Refusal>, Error> {
    let app_name = app.name_any();
    let refuse = |e: berth_render::RenderError| Ok(Err(Refusal::new(format!("{app_name}: {e}"))));
    let json = |m: Option<berth_render::Manifest>| m.map(|m| m.to_json()).transpose();
    match (to, versions) {
        (Route::Split { weight, pinned }, Some((old, new))) => {
            for d in [old, new] {
                let selector = d
                    .spec
                    .as_ref()
                    .and_then(|s| s.selector.match_labels.clone())
                    .unwrap_or_default();
                match berth_render::version_service(app, &d.name_any(), selector).and_then(json) {
                    Ok(Some(svc)) => ctx.cluster.apply_service(ns, &svc).await?,
                    Ok(None) => {}
                    Err(e) => return refuse(e),
                }
            }
            // The main backend must have ready pods (ingress-nginx answers 503 without trying
            // the canary when it has none): the old version's while it has a share, the
            // Service of every version once the new one takes it all.
            let main_backend = if weight >= 100 {
                app_name.clone()
            } else {
                old.name_any()
            };
            let main = berth_render::main_ingress(app, &main_backend).and_then(json);
            let canary = berth_render::canary_ingress(app, version, weight, pinned).and_then(json);
            for ingress in [main, canary] {
                match ingress {
                    Ok(Some(i)) => ctx.cluster.apply_ingress(ns, &i).await?,
                    Ok(None) => {}
                    Err(e) => return refuse(e),
                }
            }
        }
        // Without the Deployments (a finished release) only the rest route is possible.
        (Route::Split { .. }, None) | (Route::Rest, _) => {
            match berth_render::main_ingress(app, &app_name).and_then(json) {
                Ok(Some(i)) => ctx.cluster.apply_ingress(ns, &i).await?,
                Ok(None) => {}
                Err(e) => return refuse(e),
            }
            ctx.cluster.delete_canary_ingress(ns, &app_name).await?;
        }
    }
    Ok(Ok(()))
}

/// Finds (or creates) one app's old and new Deployments.
async fn app_state(
    ctx: &Context,
    ns: &str,
    app: &Application,
    version: &str,
    prior: &ReleaseStatus,
) -> Result<Result<AppState, Refusal>, Error> {
    let app_name = app.name_any();
    let refuse = |why: String| Ok(Err(Refusal::new(format!("{app_name}: {why}"))));
    let resolved = match app.resolved(Some(version)) {
        Ok(r) => r,
        Err(e) => return refuse(e.to_string()),
    };
    let manifests = match berth_render::render(app, Some(version)) {
        Ok(m) => m,
        Err(e) => return refuse(e.to_string()),
    };
    let mut new_deployment = None;
    let mut companions = Vec::new();
    for m in &manifests {
        match m.kind() {
            "Deployment" => new_deployment = Some(m),
            "HorizontalPodAutoscaler" | "PodDisruptionBudget" => companions.push(m),
            _ => {}
        }
    }
    let Some(new_deployment) = new_deployment else {
        return refuse("berth render produced no Deployment".into());
    };
    let mut new_json = match new_deployment.to_json() {
        Ok(j) => j,
        Err(e) => return refuse(e.to_string()),
    };
    let new_name = obj_name(&new_json);
    let live = ctx.cluster.deployments(ns, &app_name).await?;
    let terminating = ctx.cluster.terminating_pods(ns, &app_name).await?;
    let recorded = prior.deployments.iter().find(|d| d.app == app_name);
    if let Some(r) = recorded
        && r.new != new_name
    {
        return refuse(format!(
            "spec.version changed after the release started ({} is being released); roll back and start a new Release",
            r.new
        ));
    }
    let old = match recorded {
        Some(r) => live.iter().find(|d| d.name_any() == r.old),
        // Before the release starts the old version is the running one: the largest other
        // Deployment of the app (older versions are kept at zero for rollback).
        None => live
            .iter()
            .filter(|d| d.name_any() != new_name)
            .filter(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1) > 0)
            .max_by_key(|d| d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)),
    };
    let Some(old) = old.cloned() else {
        return refuse(match recorded {
            Some(r) => format!("Deployment {} of the old version is gone", r.old),
            None => format!("no running version to release from (version {version} is new)"),
        });
    };
    let new = match live.iter().find(|d| d.name_any() == new_name) {
        Some(d) => d.clone(),
        None => {
            if recorded.is_some() {
                // It existed when the release started; recreating it at zero would
                // silently restart a group.
                return refuse(format!("Deployment {new_name} of the new version is gone"));
            }
            // Created at zero: the engine grows it group by group.
            new_json["spec"]["replicas"] = 0.into();
            ctx.cluster.create_deployment(ns, &new_json).await?
        }
    };
    if recorded.is_none() {
        // The version's autoscaler and disruption budget, on every pass until the release
        // has started (its status is written after them): an operator stopped between the
        // Deployment and these would otherwise leave the version without them. Nothing has
        // pinned the autoscaler yet, so applying the app's bounds takes nothing back.
        for m in companions {
            match m.to_json() {
                Ok(j) => ctx.cluster.apply_rendered(ns, m.kind(), &j).await?,
                Err(e) => return refuse(e.to_string()),
            }
        }
    }
    Ok(Ok(AppState {
        terminating,
        app: app.clone(),
        name: app_name,
        old,
        new,
        bounds: (resolved.min_replicas, resolved.max_replicas),
        budget: resolved.budget,
    }))
}

async fn publish(
    ctx: &Context,
    release: &Release,
    type_: EventType,
    reason: &str,
    action: &str,
    note: &str,
) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        // The API server rejects notes over 1 kB.
        note: Some(note.chars().take(1000).collect()),
        action: action.to_string(),
        secondary: None,
    };
    // Events are for people; a lost one must not hold up the release.
    if let Err(e) = ctx.recorder.publish(&event, &release.object_ref(&())).await {
        tracing::warn!(release = %release.name_any(), error = %e, "cannot publish Event");
    }
}

#[cfg(test)]
mod tests;

/// The verdict of the metric gate the release waits at, if it waits at one: queried now,
/// as the engine's view of it. No verdict (Prometheus unreachable, no sample yet) leaves
/// the gate closed; the reason goes to the log and the engine says what it waits for.
async fn metric_verdict(
    spec: &berth_model::release::ReleaseSpec,
    started: Option<&Status>,
    default_prometheus: &str,
) -> Vec<(u32, bool)> {
    let Some(st) = started.filter(|s| s.phase == berth_release::Phase::WaitingForGate) else {
        return Vec::new();
    };
    let Some(gate) = spec.gate.as_ref().and_then(|g| g.metric.as_ref()) else {
        return Vec::new();
    };
    match crate::prometheus::evaluate(gate, default_prometheus).await {
        Ok(pass) => vec![(st.group, pass)],
        Err(e) => {
            tracing::warn!(error = %e, "metric gate has no verdict yet");
            Vec::new()
        }
    }
}
