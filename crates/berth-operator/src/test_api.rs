//! A fake Kubernetes API server over kube's mocked service (`tower_test::mock::pair`, as
//! kube-client's own tests use it): it keeps objects by path, answers GET, LIST (by label
//! selector), server-side apply PATCH (merged into what it holds; on `/status`, the status
//! only), POST (echoed back: Events, created objects), PUT (replaces) and DELETE, and records every
//! request.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock;

/// One request as the fake API server received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: Value,
}

#[derive(Default)]
pub struct Store {
    pub objects: BTreeMap<String, Value>,
    pub seen: Vec<Seen>,
}

pub type Shared = Arc<Mutex<Store>>;

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn labels_match(obj: &Value, selector: &str) -> bool {
    let selector = selector
        .replace("%2F", "/")
        .replace("%3D", "=")
        .replace("%2C", ",");
    selector.split(',').filter(|kv| !kv.is_empty()).all(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        obj["metadata"]["labels"][k] == v
    })
}

fn answer(store: &mut Store, seen: &Seen) -> (StatusCode, Value) {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                   "reason": "NotFound", "code": 404, "message": "not found"}),
        )
    };
    match seen.method.as_str() {
        "GET" => {
            if let Some(o) = store.objects.get(&seen.path) {
                return (StatusCode::OK, o.clone());
            }
            let selector = seen
                .query
                .split('&')
                .find_map(|q| q.strip_prefix("labelSelector="));
            // A collection path (`.../namespaces/NS/RESOURCE`) without a selector lists all.
            let collection = seen
                .path
                .split("/namespaces/")
                .nth(1)
                .is_some_and(|rest| rest.split('/').count() == 2);
            let selector = match selector {
                Some(s) => s,
                None if collection => "",
                None => return not_found(),
            };
            let prefix = format!("{}/", seen.path);
            let items: Vec<Value> = store
                .objects
                .iter()
                .filter(|(k, o)| {
                    k.strip_prefix(&prefix)
                        .is_some_and(|rest| !rest.contains('/'))
                        && labels_match(o, selector)
                })
                .map(|(_, o)| o.clone())
                .collect();
            (StatusCode::OK, json!({"metadata": {}, "items": items}))
        }
        "PATCH" => {
            let (key, status) = match seen.path.strip_suffix("/status") {
                Some(k) => (k.to_string(), true),
                None => (seen.path.clone(), false),
            };
            // Like the API server: an apply that would create an autoscaler without its
            // target is invalid.
            if !status
                && key.contains("/horizontalpodautoscalers/")
                && !store.objects.contains_key(&key)
                && seen.body["spec"]["scaleTargetRef"].is_null()
            {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                           "reason": "Invalid", "code": 422,
                           "message": "spec.scaleTargetRef.kind: Required value"}),
                );
            }
            let obj = store.objects.entry(key).or_insert_with(|| json!({}));
            if status {
                obj["status"] = seen.body["status"].clone();
            } else {
                merge(obj, &seen.body);
            }
            (StatusCode::OK, obj.clone())
        }
        "POST" => {
            if let Some(name) = seen.body["metadata"]["name"].as_str() {
                let key = format!("{}/{name}", seen.path);
                if store.objects.contains_key(&key) {
                    return (
                        StatusCode::CONFLICT,
                        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                               "reason": "AlreadyExists", "code": 409, "message": "exists"}),
                    );
                }
                store.objects.insert(key, seen.body.clone());
            }
            (StatusCode::CREATED, seen.body.clone())
        }
        "DELETE" => match store.objects.remove(&seen.path) {
            Some(o) => (StatusCode::OK, o),
            None => not_found(),
        },
        "PUT" => {
            store.objects.insert(seen.path.clone(), seen.body.clone());
            (StatusCode::OK, seen.body.clone())
        }
        _ => not_found(),
    }
}

/// A client whose every request goes to the fake API server over `store`.
pub fn fake_client(store: Shared, namespace: &str) -> Client {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        let mut handle = std::pin::pin!(handle);
        while let Some((request, send)) = handle.next_request().await {
            let (parts, body) = request.into_parts();
            let bytes = body.collect().await.expect("body").to_bytes();
            let seen = Seen {
                method: parts.method.to_string(),
                path: parts.uri.path().to_string(),
                query: parts.uri.query().unwrap_or_default().to_string(),
                content_type: parts
                    .headers
                    .get(http::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            };
            let (code, out) = {
                let mut s = store.lock().expect("lock");
                let out = answer(&mut s, &seen);
                s.seen.push(seen);
                out
            };
            let response = Response::builder()
                .status(code)
                .body(Body::from(serde_json::to_vec(&out).expect("json")))
                .expect("response");
            send.send_response(response);
        }
    });
    Client::new(service, namespace)
}
