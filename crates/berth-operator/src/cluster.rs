//! The API calls the Release reconciler makes, over a [`kube::Client`] (a real one, or one
//! over kube's mocked service in tests), and the error each can fail with.
//!
//! Field managers: new objects and the Release status are applied as `berth`; replica
//! counts and autoscaler bounds as `berth-release`. They must differ: server-side apply
//! removes the fields a manager applied before and omits now, so a `berth` apply of only
//! `spec.replicas` would strip the pod template that `berth` applied when it created the
//! Deployment.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

use berth_model::{Application, ApplicationStatus};

use crate::release_crd::{Release, ReleaseStatus};

/// Field manager for the objects berth creates and for Release status.
pub const FIELD_MANAGER: &str = "berth";
/// The finalizer that holds a deleted, unfinished Release until it has rolled back.
pub const FINALIZER: &str = "berth.dev/release";
/// Field manager of that finalizer on the Release (nothing else of the object is applied).
pub const FINALIZER_MANAGER: &str = "berth";
/// Field manager for the replica counts and autoscaler bounds the release engine owns.
pub const SCALE_FIELD_MANAGER: &str = "berth-release";

/// A reconcile that could not finish because a call to the API server failed; the
/// controller retries it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Release has no namespace (it is a namespaced kind, so the API never sends one).
    #[error("Release {0} has no namespace")]
    NoNamespace(String),
    /// Reading an Application failed.
    #[error("reading Application {name}: {source}")]
    ReadApplication {
        /// Application name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Adding or removing the Release's finalizer failed.
    #[error("updating the finalizer of Release {name}: {source}")]
    Finalizer {
        /// Release name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Reading the Release being reconciled failed.
    #[error("reading Release {name}: {source}")]
    ReadRelease {
        /// Release name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Listing the namespace's Releases (to refuse a conflicting one) failed.
    #[error("listing Releases: {0}")]
    ListReleases(#[source] kube::Error),
    /// Listing an app's Pods (to count the terminating ones) failed.
    #[error("listing the Pods of {app}: {source}")]
    ListPods {
        /// Application name.
        app: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Listing an app's Deployments failed.
    #[error("listing the Deployments of {app}: {source}")]
    ListDeployments {
        /// Application name.
        app: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Creating one of the new version's objects failed.
    #[error("applying {kind} {name}: {source}")]
    Create {
        /// Object kind.
        kind: String,
        /// Object name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Setting a Deployment's replicas failed.
    #[error("scaling Deployment {name} to {replicas}: {source}")]
    Scale {
        /// Deployment name.
        name: String,
        /// The count asked for.
        replicas: i32,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Setting an autoscaler's bounds failed.
    #[error("bounding HorizontalPodAutoscaler {name} to {min}..={max}: {source}")]
    BoundHpa {
        /// Autoscaler name.
        name: String,
        /// Lower bound.
        min: i32,
        /// Upper bound.
        max: i32,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Applying or deleting an Ingress that routes a release's traffic failed.
    #[error("routing traffic through Ingress {name}: {source}")]
    Route {
        /// Ingress name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Deleting a version kept for rollback failed.
    #[error("deleting {kind} {name} of the version kept for rollback: {source}")]
    Retire {
        /// Object kind.
        kind: String,
        /// Object name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Listing what berth made for an app failed.
    #[error("listing the objects berth made for {app}: {source}")]
    ListMade {
        /// Application name.
        app: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Deleting an object berth no longer renders failed.
    #[error("deleting {kind} {name}, which the Application no longer asks for: {source}")]
    Prune {
        /// Object kind.
        kind: String,
        /// Object name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// berth-render emitted a kind the operator does not know how to apply.
    #[error("cannot apply a {0}: the operator does not know that kind")]
    UnknownKind(String),
    /// Writing an Application's status failed.
    #[error("writing the status of Application {name}: {source}")]
    WriteAppStatus {
        /// Application name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// Writing the Release status failed.
    #[error("writing the status of Release {name}: {source}")]
    WriteStatus {
        /// Release name.
        name: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
}

// === impl Cluster ===

/// The API calls the reconciler makes, over a [`kube::Client`] (a real one, or one over a
/// mocked service in tests).
#[derive(Clone)]
pub struct Cluster {
    client: Client,
}

impl Cluster {
    /// Calls through this client.
    pub fn new(client: Client) -> Self {
        Cluster { client }
    }

    /// The client, for watches and Events.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub(crate) async fn application(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<Option<Application>, Error> {
        Api::<Application>::namespaced(self.client.clone(), ns)
            .get_opt(name)
            .await
            .map_err(|source| Error::ReadApplication {
                name: name.to_string(),
                source,
            })
    }

    pub(crate) async fn releases(&self, ns: &str) -> Result<Vec<Release>, Error> {
        Api::<Release>::namespaced(self.client.clone(), ns)
            .list(&ListParams::default())
            .await
            .map(|l| l.items)
            .map_err(Error::ListReleases)
    }

    pub(crate) async fn deployments(&self, ns: &str, app: &str) -> Result<Vec<Deployment>, Error> {
        let lp = ListParams::default().labels(&format!("{}={app}", berth_render::APP_LABEL));
        Api::<Deployment>::namespaced(self.client.clone(), ns)
            .list(&lp)
            .await
            .map(|l| l.items)
            .map_err(|source| Error::ListDeployments {
                app: app.to_string(),
                source,
            })
    }

    /// How many of an app's pods are terminating, by version (the `berth.dev/version`
    /// label): the Deployment status counts them only where the 1.33 feature gate
    /// `DeploymentReplicaSetTerminatingReplicas` is on.
    pub(crate) async fn terminating_pods(
        &self,
        ns: &str,
        app: &str,
    ) -> Result<BTreeMap<String, i32>, Error> {
        let lp = ListParams::default().labels(&format!("{}={app}", berth_render::APP_LABEL));
        let pods = Api::<Pod>::namespaced(self.client.clone(), ns)
            .list(&lp)
            .await
            .map_err(|source| Error::ListPods {
                app: app.to_string(),
                source,
            })?;
        let mut out = BTreeMap::new();
        for p in pods.items {
            if p.metadata.deletion_timestamp.is_some()
                && let Some(v) = p.labels().get(berth_render::VERSION_LABEL)
            {
                *out.entry(v.clone()).or_insert(0) += 1;
            }
        }
        Ok(out)
    }

    /// Applies a rendered Deployment and returns it as the server has it.
    pub(crate) async fn create_deployment(
        &self,
        ns: &str,
        obj: &Value,
    ) -> Result<Deployment, Error> {
        let name = obj_name(obj);
        Api::<Deployment>::namespaced(self.client.clone(), ns)
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(obj),
            )
            .await
            .map_err(|source| Error::Create {
                kind: "Deployment".into(),
                name,
                source,
            })
    }

    /// The API of one kind `berth render` writes (names from k8s-openapi's types, so the
    /// paths are exactly the typed ones); `UnknownKind` for any other.
    fn rendered_api(&self, ns: &str, kind: &str) -> Result<Api<DynamicObject>, Error> {
        let ar = match kind {
            "ServiceAccount" => ApiResource::erase::<ServiceAccount>(&()),
            "Service" => ApiResource::erase::<Service>(&()),
            "NetworkPolicy" => ApiResource::erase::<NetworkPolicy>(&()),
            "Ingress" => ApiResource::erase::<Ingress>(&()),
            "Deployment" => ApiResource::erase::<Deployment>(&()),
            "HorizontalPodAutoscaler" => ApiResource::erase::<HorizontalPodAutoscaler>(&()),
            "PodDisruptionBudget" => ApiResource::erase::<PodDisruptionBudget>(&()),
            // berth-render emits only the kinds above; a new one must be added here.
            other => return Err(Error::UnknownKind(other.to_string())),
        };
        Ok(Api::namespaced_with(self.client.clone(), ns, &ar))
    }

    /// Applies one object `berth render` wrote, as field manager `berth`.
    pub(crate) async fn apply_rendered(
        &self,
        ns: &str,
        kind: &str,
        obj: &Value,
    ) -> Result<(), Error> {
        let name = obj_name(obj);
        self.rendered_api(ns, kind)?
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(obj),
            )
            .await
            .map(drop)
            .map_err(|source| Error::Create {
                kind: kind.to_string(),
                name,
                source,
            })
    }

    /// The app-level objects berth made for `app` (labelled `berth.dev/app=<app>` and
    /// `app.kubernetes.io/managed-by=berth`), as (kind, name).
    pub(crate) async fn made_for(
        &self,
        ns: &str,
        app: &str,
    ) -> Result<Vec<(&'static str, String)>, Error> {
        let lp = ListParams::default().labels(&format!(
            "{}={app},app.kubernetes.io/managed-by=berth",
            berth_render::APP_LABEL
        ));
        let mut out = Vec::new();
        for kind in ["ServiceAccount", "Service", "NetworkPolicy", "Ingress"] {
            let items = self
                .rendered_api(ns, kind)?
                .list(&lp)
                .await
                .map_err(|source| Error::ListMade {
                    app: app.to_string(),
                    source,
                })?
                .items;
            out.extend(items.iter().map(|o| (kind, o.name_any())));
        }
        Ok(out)
    }

    /// Deletes one object [`Cluster::made_for`] listed; one already gone is fine.
    pub(crate) async fn delete_made(&self, ns: &str, kind: &str, name: &str) -> Result<(), Error> {
        match self
            .rendered_api(ns, kind)?
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(ae)) if ae.code == 404 => Ok(()),
            Err(source) => Err(Error::Prune {
                kind: kind.to_string(),
                name: name.to_string(),
                source,
            }),
        }
    }

    /// Writes an Application's status (server-side apply on the status subresource).
    pub(crate) async fn write_app_status(
        &self,
        ns: &str,
        name: &str,
        status: &ApplicationStatus,
    ) -> Result<(), Error> {
        self.apply_status::<Application>(ns, name, status)
            .await
            .map_err(|source| Error::WriteAppStatus {
                name: name.to_string(),
                source,
            })
    }

    /// Applies `status` whole on the status subresource of one of berth's own kinds, as
    /// `berth`: server-side apply then drops whatever the previous write had and this one
    /// does not (a condition that no longer applies).
    async fn apply_status<K>(
        &self,
        ns: &str,
        name: &str,
        status: &impl serde::Serialize,
    ) -> Result<(), kube::Error>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        let patch = json!({
            "apiVersion": K::api_version(&()),
            "kind": K::kind(&()),
            "metadata": {"name": name},
            "status": status,
        });
        Api::<K>::namespaced(self.client.clone(), ns)
            .patch_status(
                name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await
            .map(drop)
    }

    /// Applies one version's Service (created as `berth`, like the rest of a version).
    pub(crate) async fn apply_service(&self, ns: &str, obj: &Value) -> Result<(), Error> {
        let name = obj_name(obj);
        Api::<Service>::namespaced(self.client.clone(), ns)
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(obj),
            )
            .await
            .map(drop)
            .map_err(|source| Error::Create {
                kind: "Service".into(),
                name,
                source,
            })
    }

    /// Applies an Ingress whose routing the release engine owns (the app's, pointed at one
    /// version while a release routes canary traffic, and the canary one).
    pub(crate) async fn apply_ingress(&self, ns: &str, obj: &Value) -> Result<(), Error> {
        let name = obj_name(obj);
        Api::<Ingress>::namespaced(self.client.clone(), ns)
            .patch(
                &name,
                &PatchParams::apply(SCALE_FIELD_MANAGER).force(),
                &Patch::Apply(obj),
            )
            .await
            .map(drop)
            .map_err(|source| Error::Route { name, source })
    }

    /// Deletes an app's canary Ingress if it is there and labelled as that app's (a name
    /// alone could be another app's Ingress: an Application may be called `web-canary`).
    pub(crate) async fn delete_canary_ingress(&self, ns: &str, app: &str) -> Result<(), Error> {
        let name = berth_render::canary_ingress_name(app);
        let found = Api::<Ingress>::namespaced(self.client.clone(), ns)
            .get_opt(&name)
            .await
            .map_err(|source| Error::Route {
                name: name.clone(),
                source,
            })?;
        match found {
            Some(i) if i.labels().get(berth_render::APP_LABEL).map(String::as_str) == Some(app) => {
                self.delete_ingress(ns, &name).await
            }
            _ => Ok(()),
        }
    }

    /// Adds [`FINALIZER`] to a Release (server-side apply of that list entry alone, so that
    /// other finalizers stay).
    pub(crate) async fn add_finalizer(&self, ns: &str, name: &str) -> Result<(), Error> {
        self.apply_finalizers(ns, name, &[FINALIZER]).await
    }

    /// Takes [`FINALIZER`] off a Release: the same manager applies no entry, which drops
    /// the one it owned. A Release already gone is fine.
    pub(crate) async fn remove_finalizer(&self, ns: &str, name: &str) -> Result<(), Error> {
        self.apply_finalizers(ns, name, &[]).await
    }

    async fn apply_finalizers(&self, ns: &str, name: &str, list: &[&str]) -> Result<(), Error> {
        let patch = json!({
            "apiVersion": "berth.dev/v1alpha1",
            "kind": "Release",
            "metadata": {"name": name, "finalizers": list},
        });
        match Api::<Release>::namespaced(self.client.clone(), ns)
            .patch(
                name,
                &PatchParams::apply(FINALIZER_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(ae)) if ae.code == 404 => Ok(()),
            Err(source) => Err(Error::Finalizer {
                name: name.to_string(),
                source,
            }),
        }
    }

    /// One Release, read from the API server; `None` once deleted.
    pub(crate) async fn release(&self, ns: &str, name: &str) -> Result<Option<Release>, Error> {
        Api::<Release>::namespaced(self.client.clone(), ns)
            .get_opt(name)
            .await
            .map_err(|source| Error::ReadRelease {
                name: name.to_string(),
                source,
            })
    }

    /// Deletes an Ingress; one already gone is fine.
    pub(crate) async fn delete_ingress(&self, ns: &str, name: &str) -> Result<(), Error> {
        match Api::<Ingress>::namespaced(self.client.clone(), ns)
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(ae)) if ae.code == 404 => Ok(()),
            Err(source) => Err(Error::Route {
                name: name.to_string(),
                source,
            }),
        }
    }

    /// Deletes one version's objects (the Deployment last, so that a failure part-way is
    /// retried on the next pass: its autoscaler, budget and Service are named after it).
    /// Objects already gone are fine.
    pub(crate) async fn delete_version(&self, ns: &str, name: &str) -> Result<(), Error> {
        let c = &self.client;
        let dp = DeleteParams::default();
        let gone = |r: Result<(), kube::Error>, kind: &str| match r {
            Ok(()) => Ok(()),
            Err(kube::Error::Api(ae)) if ae.code == 404 => Ok(()),
            Err(source) => Err(Error::Retire {
                kind: kind.into(),
                name: name.to_string(),
                source,
            }),
        };
        gone(
            Api::<HorizontalPodAutoscaler>::namespaced(c.clone(), ns)
                .delete(name, &dp)
                .await
                .map(drop),
            "HorizontalPodAutoscaler",
        )?;
        gone(
            Api::<PodDisruptionBudget>::namespaced(c.clone(), ns)
                .delete(name, &dp)
                .await
                .map(drop),
            "PodDisruptionBudget",
        )?;
        gone(
            Api::<Service>::namespaced(c.clone(), ns)
                .delete(name, &dp)
                .await
                .map(drop),
            "Service",
        )?;
        gone(
            Api::<Deployment>::namespaced(c.clone(), ns)
                .delete(name, &dp)
                .await
                .map(drop),
            "Deployment",
        )
    }

    pub(crate) async fn scale(&self, ns: &str, name: &str, replicas: i32) -> Result<(), Error> {
        let patch = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {"replicas": replicas},
        });
        Api::<Deployment>::namespaced(self.client.clone(), ns)
            .patch(
                name,
                &PatchParams::apply(SCALE_FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await
            .map(drop)
            .map_err(|source| Error::Scale {
                name: name.to_string(),
                replicas,
                source,
            })
    }

    pub(crate) async fn bound_hpa(
        &self,
        ns: &str,
        name: &str,
        (min, max): (i32, i32),
    ) -> Result<(), Error> {
        let patch = json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name},
            "spec": {"minReplicas": min, "maxReplicas": max},
        });
        let applied = Api::<HorizontalPodAutoscaler>::namespaced(self.client.clone(), ns)
            .patch(
                name,
                &PatchParams::apply(SCALE_FIELD_MANAGER).force(),
                &Patch::Apply(&patch),
            )
            .await;
        match applied {
            Ok(_) => Ok(()),
            // No autoscaler for this version (deleted, or never rendered): the apply would
            // create one without a target, which the API server refuses as invalid. There is
            // nothing to bound, and the release must not stall on it.
            Err(kube::Error::Api(ae)) if ae.code == 422 || ae.code == 404 => Ok(()),
            Err(e) => Err(e),
        }
        .map_err(|source| Error::BoundHpa {
            name: name.to_string(),
            min,
            max,
            source,
        })
    }

    pub(crate) async fn write_status(
        &self,
        ns: &str,
        name: &str,
        status: &ReleaseStatus,
    ) -> Result<(), Error> {
        self.apply_status::<Release>(ns, name, status)
            .await
            .map_err(|source| Error::WriteStatus {
                name: name.to_string(),
                source,
            })
    }
}

pub(crate) fn obj_name(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
