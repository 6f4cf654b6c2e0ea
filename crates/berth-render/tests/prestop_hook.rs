//! The connection-draining preStop hook berth writes is run for real against a live TCP
//! connection: it must wait while a connection is established and return once none is.

use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use berth_model::{Application, ApplicationSpec};
use berth_render::{Manifest, render};

fn hook_for(port: u16) -> Vec<String> {
    let spec: ApplicationSpec = serde_json::from_value(serde_json::json!({
        "image": "registry.example.com/team/app:1.0.0",
        "tier": "standard",
        "productLine": "shop",
        "owner": "team",
        "ports": [{"name": "http", "port": port}],
        "resources": {"cpu": "500m", "memory": "256Mi"},
        "shutdown": {"drainSeconds": 0, "waitForConnections": true, "connectionTimeoutSeconds": 3, "appStopSeconds": 1},
    }))
    .expect("spec decodes");
    let objects = render(&Application::new("app", spec), None).expect("renders");
    let dep = objects
        .iter()
        .find_map(|o| match o {
            Manifest::Deployment(d) => Some(d.clone()),
            _ => None,
        })
        .expect("a Deployment");
    let pod = dep.spec.expect("spec").template.spec.expect("pod");
    pod.containers[0]
        .lifecycle
        .as_ref()
        .and_then(|l| l.pre_stop.as_ref())
        .and_then(|h| h.exec.as_ref())
        .and_then(|e| e.command.clone())
        .expect("an exec preStop hook")
}

fn run(cmd: &[String]) -> Duration {
    let start = Instant::now();
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .status()
        .expect("hook runs");
    assert!(status.success(), "hook exits 0");
    start.elapsed()
}

#[test]
fn prestop_hook_waits_for_established_connections_then_returns() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cmd = hook_for(port);

    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (server_side, _) = listener.accept().expect("accept");
    let held = run(&cmd);
    assert!(
        held >= Duration::from_secs(2),
        "returned after {held:?} with a connection open"
    );

    drop(client);
    drop(server_side);
    let free = run(&cmd);
    assert!(
        free < Duration::from_secs(2),
        "waited {free:?} with no connection open"
    );
}
