//! What `berth release` does to Releases in a cluster: creates one (refused while another
//! release of the same apps runs), reads them, and records a user's request (approve,
//! pause, resume, rollback) in the Release spec, where the operator acts on it.
//!
//! The decisions are pure ([`running`], [`request_patch`]); the async functions make one
//! or two API calls each. The spec is the only thing the CLI writes: the status belongs to
//! the operator, so a request made while the operator is down is carried out when it is
//! back.

use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use crate::release_crd::{Release, phase_from_crd};
use berth_model::release::ReleasePhase;

/// The condition reason of a Release the operator refused because another release of one
/// of its apps was running: it never starts (see [`crate::reconcile`]).
pub const CONFLICT_REASON: &str = "Conflict";

/// A request a user makes of a running release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserRequest {
    /// Open a manual gate: the boundary after this group (the one the release waits at
    /// when absent).
    Approve(Option<u32>),
    /// Freeze where it is.
    Pause,
    /// Go on after a pause.
    Resume,
    /// Back to the old version, now.
    Rollback,
}

/// Why a verb did not happen.
#[derive(Debug, thiserror::Error)]
pub enum VerbError {
    /// No such Release.
    #[error("release {name} not found in namespace {namespace}")]
    NotFound {
        /// Release name.
        name: String,
        /// Namespace.
        namespace: String,
    },
    /// The request does not fit the release's state (the message says why and what to do).
    #[error("{0}")]
    Refused(String),
    /// The API server refused or could not be reached.
    #[error("{action}: {source}")]
    Api {
        /// What was being done.
        action: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
}

/// Whether a release will do nothing more (succeeded, rolled back, or refused for a
/// conflict and so never started).
pub fn finished(r: &Release) -> bool {
    let Some(st) = &r.status else { return false };
    match st.phase {
        Some(p) => phase_from_crd(p).finished(),
        None => st.conditions.iter().any(|c| c.reason == CONFLICT_REASON),
    }
}

/// The releases among `all` that hold their apps: not finished, other than `except`, and
/// (when `created_before` is given) started or created before it. Ordered by name, as
/// `(name, apps)` pairs for [`berth_release::admit`].
pub fn running(
    all: &[Release],
    except: Option<&str>,
    created_before: Option<&(k8s_openapi::jiff::Timestamp, String)>,
) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = all
        .iter()
        .filter(|r| except != Some(r.name_any().as_str()))
        .filter(|r| !finished(r))
        .filter(|r| {
            let started = r.status.as_ref().is_some_and(|s| s.phase.is_some());
            match created_before {
                None => true,
                // Two Releases created together: the older one (by time, then name) goes
                // first, so exactly one of them starts whichever the operator sees first.
                Some((t, name)) => {
                    started
                        || r.metadata
                            .creation_timestamp
                            .as_ref()
                            .is_some_and(|c| (c.0, r.name_any()) < (*t, name.clone()))
                }
            }
        })
        .map(|r| (r.name_any(), r.spec.apps.clone()))
        .collect();
    out.sort();
    out
}

/// The merge patch that records `req` on `r`, and a sentence saying what it asks for; or
/// why it makes no sense now.
pub fn request_patch(r: &Release, req: UserRequest) -> Result<(Value, String), String> {
    let name = r.name_any();
    let st = r.status.clone().unwrap_or_default();
    let phase = st.phase;
    let done = phase.is_some_and(|p| phase_from_crd(p).finished());
    let where_ = match phase {
        Some(p) => format!("{} in group {}", p.as_str(), st.group),
        None => "not started".to_string(),
    };
    match req {
        UserRequest::Approve(boundary) => {
            if r.spec.gate.as_ref().is_some_and(|g| g.manual != Some(true)) {
                return Err(format!(
                    "release {name} has no manual gate (its gate is in spec.gate); nothing to approve"
                ));
            }
            if done || r.spec.rollback {
                return Err(format!("release {name} is {where_}; nothing to approve"));
            }
            let groups = u32::try_from(st.groups.len())
                .ok()
                .filter(|n| *n > 0)
                .or(r.spec.groups);
            let boundary = match boundary {
                Some(b) => b,
                None if phase == Some(ReleasePhase::WaitingForGate) => st.group,
                None => {
                    return Err(format!(
                        "release {name} is {where_}, not waiting at a gate; approve a later gate ahead with --group N"
                    ));
                }
            };
            if boundary == 0 || groups.is_some_and(|n| boundary >= n) {
                return Err(format!(
                    "--group {boundary}: the gates of release {name} follow groups 1 to {}",
                    groups.map_or("N-1".to_string(), |n| n.saturating_sub(1).to_string())
                ));
            }
            if phase.is_some() && boundary < st.group {
                return Err(format!(
                    "release {name} is {where_}; the gate after group {boundary} is behind it"
                ));
            }
            if r.spec.approvals.contains(&boundary) {
                return Err(format!(
                    "the gate after group {boundary} of release {name} is already approved"
                ));
            }
            let mut approvals = r.spec.approvals.clone();
            approvals.push(boundary);
            approvals.sort_unstable();
            // The resourceVersion makes the API server refuse the patch (409) if someone
            // changed the list meanwhile, instead of losing their approval.
            Ok((
                json!({"metadata": {"resourceVersion": r.resource_version()},
                       "spec": {"approvals": approvals}}),
                format!(
                    "approved the gate after group {boundary} (group {} may start)",
                    boundary + 1
                ),
            ))
        }
        UserRequest::Pause => {
            if done {
                return Err(format!("release {name} is {where_}; nothing to pause"));
            }
            if r.spec.paused {
                return Err(format!("release {name} is already paused"));
            }
            Ok((json!({"spec": {"paused": true}}), "paused".into()))
        }
        UserRequest::Resume => {
            if !r.spec.paused && phase == Some(ReleasePhase::Stalled) {
                return Err(format!(
                    "release {name} is Stalled in group {}: pause it, fix the cause, then resume (the group gets a new deadline); or roll back",
                    st.group
                ));
            }
            if !r.spec.paused {
                return Err(format!("release {name} is not paused ({where_})"));
            }
            Ok((json!({"spec": {"paused": false}}), "resumed".into()))
        }
        UserRequest::Rollback => {
            if phase == Some(ReleasePhase::RolledBack) || r.spec.rollback {
                return Err(format!(
                    "release {name} is already rolled back or rolling back"
                ));
            }
            if phase.is_none() && finished(r) {
                return Err(format!(
                    "release {name} was refused and never started; delete it instead"
                ));
            }
            Ok((
                json!({"spec": {"rollback": true}}),
                "rolling back: the old version returns to full strength now, without gates".into(),
            ))
        }
    }
}

fn api(client: &Client, ns: &str) -> Api<Release> {
    Api::namespaced(client.clone(), ns)
}

/// The Releases of a namespace.
pub async fn list(client: &Client, ns: &str) -> Result<Vec<Release>, VerbError> {
    api(client, ns)
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|source| VerbError::Api {
            action: format!("listing Releases in namespace {ns}"),
            source,
        })
}

/// One Release.
pub async fn get(client: &Client, ns: &str, name: &str) -> Result<Release, VerbError> {
    api(client, ns)
        .get_opt(name)
        .await
        .map_err(|source| VerbError::Api {
            action: format!("reading Release {name}"),
            source,
        })?
        .ok_or_else(|| VerbError::NotFound {
            name: name.to_string(),
            namespace: ns.to_string(),
        })
}

/// Creates `release` in `ns`, unless another release of one of its apps is running.
pub async fn create(client: &Client, ns: &str, release: &Release) -> Result<Release, VerbError> {
    let all = list(client, ns).await?;
    let apps: Vec<&str> = release.spec.apps.iter().map(String::as_str).collect();
    berth_release::admit(&apps, &running(&all, None, None)).map_err(VerbError::Refused)?;
    api(client, ns)
        .create(&PostParams::default(), release)
        .await
        .map_err(|source| match &source {
            kube::Error::Api(s) if s.code == 409 => VerbError::Refused(format!(
                "a Release named {} already exists in namespace {ns}; pick another with --name",
                release.name_any()
            )),
            _ => VerbError::Api {
                action: format!("creating Release {}", release.name_any()),
                source,
            },
        })
}

/// Records `req` on Release `name`; returns the updated Release and what was asked.
pub async fn request(
    client: &Client,
    ns: &str,
    name: &str,
    req: UserRequest,
) -> Result<(Release, String), VerbError> {
    let current = get(client, ns, name).await?;
    let (patch, said) = request_patch(&current, req).map_err(VerbError::Refused)?;
    let updated = api(client, ns)
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|source| match &source {
            kube::Error::Api(s) if s.code == 409 => VerbError::Refused(format!(
                "release {name} changed while this request was made; run it again"
            )),
            _ => VerbError::Api {
                action: format!("updating Release {name}"),
                source,
            },
        })?;
    Ok((updated, said))
}

#[cfg(test)]
mod tests;
