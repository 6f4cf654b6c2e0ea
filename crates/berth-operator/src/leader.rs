//! Leader election through a `coordination.k8s.io/v1` Lease, so that of several operator
//! replicas only one writes: two leaders would each scale from the same status.
//!
//! The rule ([`verdict`]) is the one client-go's `leaderelection` follows: a Lease with no
//! holder, or whose record has not changed for `leaseDurationSeconds` by the candidate's own
//! clock, may be taken; the holder renews it. Every write is a replace at the `resourceVersion` that was read, so
//! of two candidates racing for an expired Lease the API server lets exactly one win.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ObjectMeta, PostParams};
use kube::{Client, Error as KubeError};

/// What a candidate may do with the Lease it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nobody holds it, or the holder stopped renewing: take it.
    Acquire,
    /// We hold it: renew.
    Renew,
    /// Someone else holds it and renews it in time.
    Wait {
        /// The holder.
        holder: String,
    },
}

/// What a candidate last saw of a Lease someone else holds: the holder and its renew time,
/// and when, by the candidate's own clock, it first saw that record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    holder: String,
    renewed: Option<Timestamp>,
    at: Timestamp,
}

/// Whether `me` may take or renew a Lease whose spec is `spec`, at `now` (the candidate's
/// clock), given what it `observed` before; returns what it observes now.
///
/// As client-go does, a Lease held by another counts as expired only when its record has
/// not changed for `leaseDurationSeconds` by the candidate's own clock: comparing the
/// holder's `renewTime` with our clock would let a skewed clock steal a live Lease.
pub fn verdict(
    spec: Option<&LeaseSpec>,
    me: &str,
    observed: Option<&Observed>,
    now: Timestamp,
) -> (Verdict, Option<Observed>) {
    let Some(spec) = spec else {
        return (Verdict::Acquire, None);
    };
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    if holder.is_empty() {
        return (Verdict::Acquire, None);
    }
    if holder == me {
        return (Verdict::Renew, None);
    }
    let duration = SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0)));
    // A Lease never renewed counts from its acquisition.
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0);
    let seen = match observed {
        Some(o) if o.holder == holder && o.renewed == renewed => o.clone(),
        // A new record (or the first look): its lease runs from now, by our clock.
        _ => Observed {
            holder: holder.to_string(),
            renewed,
            at: now,
        },
    };
    if seen.at + duration <= now {
        (Verdict::Acquire, None)
    } else {
        (
            Verdict::Wait {
                holder: holder.to_string(),
            },
            Some(seen),
        )
    }
}

/// The spec to write after a verdict of [`Verdict::Acquire`] or [`Verdict::Renew`].
pub fn next_spec(
    previous: Option<&LeaseSpec>,
    me: &str,
    now: Timestamp,
    duration: Duration,
) -> LeaseSpec {
    let mut spec = previous.cloned().unwrap_or_default();
    let taking_over = spec.holder_identity.as_deref() != Some(me);
    if taking_over {
        spec.acquire_time = Some(MicroTime(now));
        // Counts changes of holder: taking a Lease from someone is one, taking a free one
        // (the first holder) is not.
        let had_holder = previous
            .and_then(|p| p.holder_identity.as_deref())
            .is_some_and(|h| !h.is_empty());
        let before = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
        spec.lease_transitions = Some(if had_holder { before + 1 } else { before });
    }
    spec.holder_identity = Some(me.to_string());
    spec.renew_time = Some(MicroTime(now));
    spec.lease_duration_seconds = Some(i32::try_from(duration.as_secs()).unwrap_or(i32::MAX));
    spec
}

/// Why a leadership attempt failed (a lost race is not an error: it is `Ok(false)`).
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// Reading, creating or replacing the Lease failed for a reason other than a lost race.
    #[error("{step} Lease {name}: {source}")]
    Api {
        /// What was being done.
        step: &'static str,
        /// Lease name.
        name: String,
        /// Cause.
        #[source]
        source: KubeError,
    },
}

/// One candidate for one Lease.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    me: String,
    duration: Duration,
    observed: std::sync::Mutex<Option<Observed>>,
}

impl Elector {
    /// A candidate named `me` for Lease `name` in `namespace`, held for `duration` per renewal.
    pub fn new(client: Client, namespace: &str, name: &str, me: &str, duration: Duration) -> Self {
        Elector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            me: me.to_string(),
            duration,
            observed: std::sync::Mutex::new(None),
        }
    }

    /// How long a Lease lasts without renewal.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Takes or renews the Lease: `Ok(true)` when we hold it now, `Ok(false)` when someone
    /// else does or won a race to it.
    pub async fn try_lead(&self, now: Timestamp) -> Result<bool, LeaderError> {
        let err = |step, source| LeaderError::Api {
            step,
            name: self.name.clone(),
            source,
        };
        let current = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| err("reading", e))?;
        let spec = current.as_ref().and_then(|l| l.spec.as_ref());
        let decided = {
            // A poisoned lock only means a panic elsewhere mid-update; the value is whole.
            let mut observed = self
                .observed
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (decided, seen) = verdict(spec, &self.me, observed.as_ref(), now);
            *observed = seen;
            decided
        };
        if let Verdict::Wait { .. } = decided {
            return Ok(false);
        }
        let spec = next_spec(spec, &self.me, now, self.duration);
        let result = match current {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        ..Default::default()
                    },
                    spec: Some(spec),
                };
                self.api.create(&PostParams::default(), &lease).await
            }
            Some(mut lease) => {
                // Keeps `metadata.resourceVersion`: the replace fails if anyone wrote since.
                lease.spec = Some(spec);
                self.api
                    .replace(&self.name, &PostParams::default(), &lease)
                    .await
            }
        };
        match result {
            Ok(_) => Ok(true),
            // 409: another candidate wrote first (created it, or replaced our version).
            Err(KubeError::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(err("writing", e)),
        }
    }

    /// Gives the Lease up on a clean shutdown (empty holder), so that another replica leads
    /// at its next try instead of waiting for the Lease to expire. A Lease someone else holds
    /// is left alone.
    pub async fn step_down(&self) -> Result<(), LeaderError> {
        let err = |step, source| LeaderError::Api {
            step,
            name: self.name.clone(),
            source,
        };
        let Some(mut lease) = self
            .api
            .get_opt(&self.name)
            .await
            .map_err(|e| err("reading", e))?
        else {
            return Ok(());
        };
        let ours = lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref())
            == Some(self.me.as_str());
        if !ours {
            return Ok(());
        }
        if let Some(spec) = lease.spec.as_mut() {
            spec.holder_identity = None;
        }
        match self
            .api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            // 409: someone wrote since we read; it is not ours to clear any more.
            Err(KubeError::Api(s)) if s.code == 409 => Ok(()),
            Err(e) => Err(err("releasing", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_api::{Shared, Store, fake_client};
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_795_528_800 + secs).expect("in range")
    }

    fn held_by(holder: &str, renewed: i64) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(holder.into()),
            lease_duration_seconds: Some(15),
            renew_time: Some(MicroTime(at(renewed))),
            acquire_time: Some(MicroTime(at(0))),
            lease_transitions: Some(3),
            ..Default::default()
        }
    }

    #[test]
    fn a_lease_is_taken_when_free_or_expired_and_renewed_by_its_holder() {
        let verdict_of = |spec: Option<LeaseSpec>| verdict(spec.as_ref(), "me", None, at(14)).0;
        assert_eq!(verdict_of(None), Verdict::Acquire, "no lease");
        assert_eq!(
            verdict_of(Some(LeaseSpec::default())),
            Verdict::Acquire,
            "empty holder"
        );
        assert_eq!(verdict_of(Some(held_by("me", 0))), Verdict::Renew, "ours");
        let wait = Verdict::Wait {
            holder: "other".into(),
        };
        // Held for 15 s from when we first saw its record, whatever its renewTime says.
        let (v, seen) = verdict(Some(&held_by("other", 0)), "me", None, at(14));
        assert_eq!(v, wait);
        let (v, seen) = verdict(Some(&held_by("other", 0)), "me", seen.as_ref(), at(28));
        assert_eq!(v, wait, "14 s after we saw it");
        let (v, _) = verdict(Some(&held_by("other", 0)), "me", seen.as_ref(), at(29));
        assert_eq!(v, Verdict::Acquire, "unchanged for 15 s");
        // A renewal seen resets our count.
        let (_, seen) = verdict(Some(&held_by("other", 0)), "me", None, at(0));
        let (v, seen) = verdict(Some(&held_by("other", 10)), "me", seen.as_ref(), at(10));
        assert_eq!(v, wait);
        let (v, _) = verdict(Some(&held_by("other", 10)), "me", seen.as_ref(), at(20));
        assert_eq!(v, wait, "renewed at 10 by our clock");
    }

    #[test]
    fn a_candidate_with_a_clock_ahead_does_not_steal_a_live_lease() {
        // The holder renewed "an hour ago" by our clock (ours is an hour ahead), and keeps
        // renewing: the record changes, so it is never taken.
        let mut seen = None;
        for t in (0..60).step_by(5) {
            let spec = held_by("other", t - 3_600);
            let (v, s) = verdict(Some(&spec), "me", seen.as_ref(), at(t));
            assert!(matches!(v, Verdict::Wait { .. }), "at {t}");
            seen = s;
        }
    }

    #[test]
    fn taking_over_counts_a_transition_and_renewing_does_not() {
        let taken = next_spec(
            Some(&held_by("other", 0)),
            "me",
            at(20),
            Duration::from_secs(15),
        );
        assert_eq!(taken.holder_identity.as_deref(), Some("me"));
        assert_eq!(taken.lease_transitions, Some(4));
        assert_eq!(taken.acquire_time, Some(MicroTime(at(20))));
        let renewed = next_spec(Some(&taken), "me", at(25), Duration::from_secs(15));
        assert_eq!(renewed.lease_transitions, Some(4));
        assert_eq!(renewed.acquire_time, Some(MicroTime(at(20))));
        assert_eq!(renewed.renew_time, Some(MicroTime(at(25))));
        let first = next_spec(None, "me", at(0), Duration::from_secs(15));
        assert_eq!(first.lease_transitions, Some(0));
    }

    const LEASES: &str = "/apis/coordination.k8s.io/v1/namespaces/berth-system/leases";

    #[tokio::test]
    async fn stepping_down_lets_another_replica_lead_at_once() {
        let store: Shared = Arc::new(Mutex::new(Store::default()));
        let elect = |me: &str| {
            Elector::new(
                fake_client(store.clone(), "berth-system"),
                "berth-system",
                "berth-operator",
                me,
                Duration::from_secs(15),
            )
        };
        let a = elect("pod-a");
        let b = elect("pod-b");
        assert!(a.try_lead(at(0)).await.expect("api answers"));
        assert!(
            !b.try_lead(at(5)).await.expect("api answers"),
            "held by pod-a"
        );
        // pod-b cannot take it from pod-a by stepping down itself.
        b.step_down().await.expect("api answers");
        assert!(!b.try_lead(at(6)).await.expect("api answers"));
        a.step_down().await.expect("api answers");
        assert!(
            b.try_lead(at(7)).await.expect("api answers"),
            "free 8 s before it would have expired"
        );
    }

    #[tokio::test]
    async fn a_free_lease_is_created_and_a_held_one_left_alone() {
        let store: Shared = Arc::new(Mutex::new(Store::default()));
        let elector = Elector::new(
            fake_client(store.clone(), "berth-system"),
            "berth-system",
            "berth-operator",
            "pod-a",
            Duration::from_secs(15),
        );
        assert!(elector.try_lead(at(0)).await.expect("api answers"));
        let other = Elector::new(
            fake_client(store.clone(), "berth-system"),
            "berth-system",
            "berth-operator",
            "pod-b",
            Duration::from_secs(15),
        );
        assert!(!other.try_lead(at(5)).await.expect("api answers"));
        let s = store.lock().expect("lock");
        let methods: Vec<(&str, &str)> = s
            .seen
            .iter()
            .map(|r| (r.method.as_str(), r.path.as_str()))
            .collect();
        let lease = format!("{LEASES}/berth-operator");
        assert_eq!(
            methods,
            [
                ("GET", lease.as_str()),
                ("POST", LEASES),
                ("GET", lease.as_str()),
            ]
        );
        assert_eq!(s.seen[1].body["spec"]["holderIdentity"], json!("pod-a"));
        assert_eq!(s.seen[1].body["spec"]["leaseDurationSeconds"], json!(15));
    }
}
