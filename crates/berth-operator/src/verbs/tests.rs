//! `berth release` verbs against kube's mocked service (the fake API server of
//! [`crate::test_api`]): the exact requests they send, and what they refuse to send.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;
use crate::test_api::{Seen, Shared, Store, fake_client};

const NS: &str = "shop";
const RELEASES: &str = "/apis/berth.dev/v1alpha1/namespaces/shop/releases";

fn release(name: &str, apps: &[&str], spec: Value, status: Option<Value>) -> Value {
    let mut r = json!({
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "Release",
        "metadata": {"name": name, "namespace": NS, "resourceVersion": "41",
                     "creationTimestamp": "2026-11-24T14:00:00Z"},
        "spec": {"apps": apps, "version": "2.0.0"},
    });
    if let (Some(into), Some(from)) = (r["spec"].as_object_mut(), spec.as_object()) {
        into.extend(from.clone());
    }
    if let Some(s) = status {
        r["status"] = s;
    }
    r
}

fn store(objects: &[Value]) -> Shared {
    let mut s = Store::default();
    for o in objects {
        let name = o["metadata"]["name"].as_str().expect("name");
        s.objects.insert(format!("{RELEASES}/{name}"), o.clone());
    }
    Arc::new(Mutex::new(s))
}

fn seen(store: &Shared) -> Vec<Seen> {
    store.lock().expect("lock").seen.clone()
}

fn typed(v: &Value) -> Release {
    serde_json::from_value(v.clone()).expect("a Release")
}

fn waiting_at(group: u32) -> Value {
    json!({"phase": "WaitingForGate", "group": group, "stage": "Shrink",
           "groups": [{}, {}, {}, {}]})
}

#[tokio::test]
async fn approve_adds_the_gate_the_release_waits_at_with_a_merge_patch_guarded_by_resource_version()
{
    let s = store(&[release(
        "web-2",
        &["web"],
        json!({"gate": {"manual": true}, "approvals": [1]}),
        Some(waiting_at(2)),
    )]);
    let client = fake_client(s.clone(), NS);
    let (updated, said) = request(&client, NS, "web-2", UserRequest::Approve(None))
        .await
        .expect("approved");
    assert_eq!(updated.spec.approvals, [1, 2]);
    assert!(said.contains("after group 2"), "{said}");
    let seen = seen(&s);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        (
            "GET",
            "/apis/berth.dev/v1alpha1/namespaces/shop/releases/web-2"
        )
    );
    let patch = &seen[1];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(patch.path, format!("{RELEASES}/web-2"));
    assert_eq!(patch.content_type, "application/merge-patch+json");
    assert_eq!(
        patch.body,
        json!({"metadata": {"resourceVersion": "41"}, "spec": {"approvals": [1, 2]}})
    );
}

#[tokio::test]
async fn pause_resume_and_rollback_each_set_one_spec_field() {
    let s = store(&[release("web-2", &["web"], json!({}), Some(waiting_at(1)))]);
    let client = fake_client(s.clone(), NS);
    for (req, body) in [
        (UserRequest::Pause, json!({"spec": {"paused": true}})),
        (UserRequest::Resume, json!({"spec": {"paused": false}})),
        (UserRequest::Rollback, json!({"spec": {"rollback": true}})),
    ] {
        request(&client, NS, "web-2", req).await.expect("accepted");
        let last = seen(&s).pop().expect("a request");
        assert_eq!(
            (last.method.as_str(), last.content_type.as_str()),
            ("PATCH", "application/merge-patch+json")
        );
        assert_eq!(last.body, body, "{req:?}");
    }
}

#[test]
fn requests_that_do_not_fit_the_state_are_refused_with_what_to_do() {
    let manual = json!({"gate": {"manual": true}});
    let table: [(&str, Value, Option<Value>, UserRequest, &str); 9] = [
        (
            "approve while moving",
            manual.clone(),
            Some(json!({"phase": "Progressing", "group": 2, "groups": [{}, {}, {}, {}]})),
            UserRequest::Approve(None),
            "approve a later gate ahead with --group N",
        ),
        (
            "approve past the last gate",
            manual.clone(),
            Some(waiting_at(1)),
            UserRequest::Approve(Some(4)),
            "follow groups 1 to 3",
        ),
        (
            "approve a gate already behind",
            manual.clone(),
            Some(waiting_at(3)),
            UserRequest::Approve(Some(1)),
            "is behind it",
        ),
        (
            "approve an interval gate",
            json!({"gate": {"interval": "5m"}}),
            Some(waiting_at(1)),
            UserRequest::Approve(None),
            "no manual gate",
        ),
        (
            "approve twice",
            json!({"gate": {"manual": true}, "approvals": [1]}),
            Some(waiting_at(1)),
            UserRequest::Approve(None),
            "already approved",
        ),
        (
            "pause a finished release",
            json!({}),
            Some(json!({"phase": "Succeeded", "group": 4})),
            UserRequest::Pause,
            "nothing to pause",
        ),
        (
            "resume what is not paused",
            json!({}),
            Some(waiting_at(1)),
            UserRequest::Resume,
            "is not paused",
        ),
        (
            "roll back twice",
            json!({"rollback": true}),
            Some(json!({"phase": "RollingBack", "group": 2})),
            UserRequest::Rollback,
            "already rolled back or rolling back",
        ),
        (
            "roll back a refused release",
            json!({}),
            Some(
                json!({"group": 0, "conditions": [{"type": "Progressing", "status": "False",
                "reason": "Conflict", "message": "m", "lastTransitionTime": "2026-11-24T14:00:00Z"}]}),
            ),
            UserRequest::Rollback,
            "delete it instead",
        ),
    ];
    for (case, spec, status, req, says) in table {
        let r = typed(&release("web-2", &["web"], spec, status));
        let why = request_patch(&r, req).expect_err(case);
        assert!(why.contains(says), "{case}: {why}");
    }
}

#[test]
fn a_gate_ahead_may_be_approved_before_the_release_reaches_it() {
    let r = typed(&release(
        "web-2",
        &["web"],
        json!({"gate": {"manual": true}}),
        Some(json!({"phase": "Progressing", "group": 1, "groups": [{}, {}, {}, {}]})),
    ));
    let (patch, _) = request_patch(&r, UserRequest::Approve(Some(2))).expect("accepted");
    assert_eq!(patch["spec"]["approvals"], json!([2]));
}

#[tokio::test]
async fn create_is_refused_while_another_release_of_the_same_app_runs() {
    let s = store(&[
        release(
            "web-2",
            &["web", "api"],
            json!({}),
            Some(json!({"phase": "WaitingForGate", "group": 1})),
        ),
        release(
            "web-1",
            &["web"],
            json!({}),
            Some(json!({"phase": "Succeeded", "group": 4})),
        ),
    ]);
    let client = fake_client(s.clone(), NS);
    let new = typed(&release("api-3", &["api"], json!({}), None));
    let err = create(&client, NS, &new).await.expect_err("refused");
    assert_eq!(
        err.to_string(),
        "api is already being released by web-2; wait for it to finish, or roll it back"
    );
    assert!(
        seen(&s).iter().all(|r| r.method == "GET"),
        "nothing written"
    );

    // Another app is free; a finished release of the same app does not hold it.
    let other = typed(&release("web-3", &["cart"], json!({}), None));
    create(&client, NS, &other).await.expect("created");
    let post = seen(&s).pop().expect("a request");
    assert_eq!(
        (post.method.as_str(), post.path.as_str()),
        ("POST", RELEASES)
    );
    assert_eq!(post.body["spec"]["apps"], json!(["cart"]));
}

#[tokio::test]
async fn a_missing_release_is_named_with_its_namespace() {
    let client = fake_client(store(&[]), NS);
    let err = get(&client, NS, "nope").await.expect_err("missing");
    assert_eq!(err.to_string(), "release nope not found in namespace shop");
}

#[test]
fn the_older_of_two_pending_releases_holds_the_app() {
    let mut a = release("a", &["web"], json!({}), None);
    let mut b = release("b", &["web"], json!({}), None);
    a["metadata"]["creationTimestamp"] = json!("2026-11-24T14:00:00Z");
    b["metadata"]["creationTimestamp"] = json!("2026-11-24T14:00:01Z");
    let all = [typed(&a), typed(&b)];
    let key = |r: &Release| {
        (
            r.metadata.creation_timestamp.as_ref().expect("time").0,
            r.name_any(),
        )
    };
    assert!(running(&all, Some("a"), Some(&key(&all[0]))).is_empty());
    assert_eq!(
        running(&all, Some("b"), Some(&key(&all[1]))),
        [("a".to_string(), vec!["web".to_string()])]
    );
}
