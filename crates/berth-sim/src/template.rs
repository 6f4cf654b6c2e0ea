//! Reading a pod template once into what the simulator needs of it: the hash that names
//! its ReplicaSet, the scheduler's view of its pods, probes, the preStop hook's duration,
//! the grace period, tolerations of node conditions, the CPU limit.

use std::collections::BTreeMap;

use berth_manifest::{Node, Object, Pos};
use berth_scheduler::PodInfo;

use crate::SimError;
use crate::scenario::ControlPlane;
use crate::time::Millis;
use crate::world::{PreStop, Probe, Template};

/// Sets an annotation on a pod template.
pub(crate) fn set_annotation(tpl: &mut serde_json::Value, key: &str, value: &str) {
    if let Some(m) = tpl.as_object_mut() {
        let meta = m.entry("metadata").or_insert_with(|| serde_json::json!({}));
        if let Some(meta) = meta.as_object_mut() {
            let ann = meta
                .entry("annotations")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(ann) = ann.as_object_mut() {
                ann.insert(key.into(), value.into());
            }
        }
    }
}

/// Sets the first container's image.
pub(crate) fn set_image(tpl: &mut serde_json::Value, image: &str) {
    if let Some(c) = tpl.pointer_mut("/spec/containers/0")
        && let Some(c) = c.as_object_mut()
    {
        c.insert("image".into(), image.into());
    }
}

/// FNV-1a: a stable hash for `pod-template-hash` (same template, same name, every run).
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn probe(v: Option<&serde_json::Value>) -> Option<Probe> {
    let v = v?;
    let secs = |f: &str, d: u64| v.get(f).and_then(|x| x.as_u64()).unwrap_or(d);
    Some(Probe {
        initial_delay: secs("initialDelaySeconds", 0) * 1000,
        period: secs("periodSeconds", 10).max(1) * 1000,
        success: secs("successThreshold", 1).max(1) as u32,
        failure: secs("failureThreshold", 3).max(1) as u32,
    })
}

/// What a preStop hook's duration is: `sleep` actions, exec hooks that start with
/// `sleep N`, and berth's connection drain (a sleep, then a wait for connections).
fn pre_stop(v: Option<&serde_json::Value>) -> PreStop {
    let Some(v) = v else { return PreStop::None };
    if let Some(s) = v.pointer("/sleep/seconds").and_then(|s| s.as_u64()) {
        return PreStop::Sleep(s * 1000);
    }
    let Some(cmd) = v.pointer("/exec/command").and_then(|c| c.as_array()) else {
        return PreStop::Unknown;
    };
    let words: Vec<&str> = cmd.iter().filter_map(|w| w.as_str()).collect();
    let script = words.join(" ");
    let sleep = leading_sleep(&script);
    if script.contains("/proc/net/tcp") {
        // berth's drain hook waits for connections up to a deadline, written either as a
        // loop count (`while [ $i -lt N ]`) or a clock (`end=$(($(date +%s) + N))`).
        let number_after = |marker: &str| {
            script
                .split(marker)
                .nth(1)
                .and_then(|r| r.trim_start().split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse::<u64>().ok())
        };
        let timeout = number_after("date +%s) +")
            .or_else(|| number_after("-lt "))
            .unwrap_or(30);
        return PreStop::Drain {
            sleep: sleep.unwrap_or(0),
            timeout: timeout * 1000,
        };
    }
    match sleep {
        Some(s) => PreStop::Sleep(s),
        None => PreStop::Unknown,
    }
}

/// A container whose command runs under berth-init drains as its environment says:
/// not-ready, the delay, SIGTERM, then a wait for connections on the drain ports. That is
/// what berth's preStop drain does, so the kubelet model treats it the same way.
fn under_berth_init(container: &serde_json::Value) -> Option<PreStop> {
    let first = container.pointer("/command/0")?.as_str()?;
    if !first.ends_with("/berth-init") && first != "berth-init" {
        return None;
    }
    let env = |name: &str| {
        container
            .get("env")?
            .as_array()?
            .iter()
            .find(|e| e.get("name").and_then(|n| n.as_str()) == Some(name))?
            .get("value")?
            .as_str()
    };
    let delay = env("BERTH_INIT_DRAIN_DELAY")
        .and_then(|d| crate::time::parse_millis(d).ok())
        .unwrap_or(0);
    let timeout = env("BERTH_INIT_DRAIN_TIMEOUT")
        .and_then(|d| crate::time::parse_millis(d).ok())
        .unwrap_or(25_000);
    Some(match env("BERTH_INIT_DRAIN_PORTS") {
        Some("none") => PreStop::Sleep(delay),
        _ => PreStop::Drain {
            sleep: delay,
            timeout,
        },
    })
}

/// The `N` of a script that begins with `sleep N` (after an optional `sh -c`).
fn leading_sleep(script: &str) -> Option<Millis> {
    let pos = script.find("sleep ")?;
    let before = &script[..pos];
    let plain = before.split_whitespace().all(|w| {
        matches!(
            w,
            "/bin/sh" | "sh" | "-c" | "/bin/bash" | "bash" | "-ec" | "exec"
        )
    });
    if !plain {
        return None;
    }
    let n: String = script[pos + 6..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let secs: f64 = n.parse().ok()?;
    Some((secs * 1000.0).round() as Millis)
}

/// Reads a pod template.
pub(crate) fn read(json: &serde_json::Value, cp: &ControlPlane) -> Result<Template, SimError> {
    let bad = |m: &str| SimError::Template(m.to_string());
    let labels: BTreeMap<String, String> = json
        .pointer("/metadata/labels")
        .and_then(|v| v.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let spec = json
        .get("spec")
        .ok_or_else(|| bad("the template has no spec"))?;
    let container = spec
        .pointer("/containers/0")
        .ok_or_else(|| bad("the template has no container"))?;
    let image = container
        .get("image")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let text = serde_json::to_string(json).map_err(|e| bad(&e.to_string()))?;
    let hash = {
        // Upstream encodes its hash with the same vowel-free alphabet as generated names.
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut h = fnv(text.as_bytes());
        (0..10)
            .map(|_| {
                let c = ALPHABET[(h % ALPHABET.len() as u64) as usize] as char;
                h /= ALPHABET.len() as u64;
                c
            })
            .collect::<String>()
    };
    // The scheduler reads the template as the pod it would be.
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "template", "namespace": "default", "labels": labels},
        "spec": spec,
    });
    let object = Object {
        file: std::sync::Arc::from("template"),
        document: 0,
        item: None,
        node: Node::from_json(&pod, Pos::default()),
        duplicate_keys: Vec::new(),
    };
    let mut sched = PodInfo::from_object(&object);
    // DefaultTolerationSeconds admission: pods that do not tolerate node conditions get
    // 300 s (or the scenario's value) for not-ready and unreachable.
    let mut condition_tolerations = Vec::new();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let taint = berth_scheduler::Taint {
            key: key.into(),
            value: String::new(),
            effect: "NoExecute".into(),
        };
        let own: Vec<Option<Millis>> = spec
            .get("tolerations")
            .and_then(|t| t.as_array())
            .map(|ts| {
                ts.iter()
                    .filter(|t| {
                        let tol = berth_scheduler::Toleration {
                            key: t.get("key").and_then(|v| v.as_str()).unwrap_or("").into(),
                            operator: t
                                .get("operator")
                                .and_then(|v| v.as_str())
                                .unwrap_or("Equal")
                                .into(),
                            value: t.get("value").and_then(|v| v.as_str()).unwrap_or("").into(),
                            effect: t
                                .get("effect")
                                .and_then(|v| v.as_str())
                                .unwrap_or("")
                                .into(),
                        };
                        tol.tolerates(&taint)
                    })
                    .map(|t| {
                        t.get("tolerationSeconds")
                            .and_then(|v| v.as_i64())
                            .map(|s| s.max(0) as u64 * 1000)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if own.is_empty() {
            condition_tolerations.push((key.to_string(), Some(cp.default_toleration)));
            sched.tolerations.push(berth_scheduler::Toleration {
                key: key.into(),
                operator: "Exists".into(),
                value: String::new(),
                effect: "NoExecute".into(),
            });
        } else {
            // Several matching tolerations: the longest wins; one without a limit is for ever.
            let forever = own.iter().any(Option::is_none);
            let longest = own.iter().flatten().max().copied();
            condition_tolerations.push((key.to_string(), if forever { None } else { longest }));
        }
    }
    let grace = spec
        .get("terminationGracePeriodSeconds")
        .and_then(|v| v.as_u64())
        .unwrap_or(30)
        * 1000;
    Ok(Template {
        hash,
        json: json.clone(),
        labels,
        sched,
        image,
        grace,
        berth_init: under_berth_init(container).is_some(),
        pre_stop: under_berth_init(container)
            .unwrap_or_else(|| pre_stop(container.pointer("/lifecycle/preStop"))),
        readiness: probe(container.get("readinessProbe")),
        liveness: probe(container.get("livenessProbe")),
        startup: probe(container.get("startupProbe")),
        condition_tolerations,
        cpu_limit: container
            .pointer("/resources/limits/cpu")
            .and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_f64().map(|f| f.to_string()))
            })
            .and_then(|q| berth_manifest::quantity::Quantity::parse(&q).ok())
            .and_then(|q| i64::try_from(q.millis()).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_stop_hooks_read_as_durations() {
        let j = |v: serde_json::Value| pre_stop(Some(&v));
        assert_eq!(
            j(serde_json::json!({"sleep": {"seconds": 5}})),
            PreStop::Sleep(5_000)
        );
        assert_eq!(
            j(serde_json::json!({"exec": {"command": ["/bin/sh", "-c", "sleep 15"]}})),
            PreStop::Sleep(15_000)
        );
        assert_eq!(
            j(serde_json::json!({"exec": {"command": ["sleep", "2.5"]}})),
            PreStop::Sleep(2_500)
        );
        assert_eq!(
            j(serde_json::json!({"exec": {"command": ["/bin/sh", "-c",
                "sleep 15; i=0; while [ $i -lt 30 ] && cat /proc/net/tcp; do sleep 1; done"]}})),
            PreStop::Drain {
                sleep: 15_000,
                timeout: 30_000
            }
        );
        assert_eq!(
            j(serde_json::json!({"exec": {"command": ["/app/stop.sh"]}})),
            PreStop::Unknown
        );
        assert_eq!(
            j(serde_json::json!({"httpGet": {"path": "/stop", "port": 80}})),
            PreStop::Unknown
        );
    }

    #[test]
    fn templates_hash_stably_and_change_with_the_image() {
        let t = serde_json::json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "app", "image": "web:1"}]}
        });
        let cp = ControlPlane::default();
        let a = read(&t, &cp).expect("template");
        let b = read(&t, &cp).expect("template");
        assert_eq!(a.hash, b.hash);
        let mut t2 = t.clone();
        set_image(&mut t2, "web:2");
        assert_ne!(read(&t2, &cp).expect("template").hash, a.hash);
        assert_eq!(a.grace, 30_000);
        // DefaultTolerationSeconds gives both condition tolerations 300 s.
        assert_eq!(
            a.condition_tolerations,
            vec![
                ("node.kubernetes.io/not-ready".to_string(), Some(300_000)),
                ("node.kubernetes.io/unreachable".to_string(), Some(300_000)),
            ]
        );
    }
}
