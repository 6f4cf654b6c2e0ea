//! Reaping: a zombie storm as a child subreaper, and the same as PID 1 of a new PID namespace.

mod common;

use std::process::Command;

use common::*;

/// 4 spawners x 1000 orphans: "thousands of grandchildren" from the issue, in about a second.
const STORM: [&str; 2] = ["spawners=4", "orphans=1000"];

#[test]
fn a_zombie_storm_of_thousands_of_orphans_is_reaped_to_the_last_one() {
    // The main process makes 4000 orphans, waits until berth-init has no child but it (and so
    // no zombie) left, and checks berth-init's /metrics counted them all as reaped by it.
    let port = free_port();
    let mut child = start(
        &["--http-listen", &format!("127.0.0.1:{port}")],
        &role(
            "storm",
            &[STORM[0], STORM[1], &format!("metrics-port={port}")],
        ),
    );
    let status = wait_exit(&mut child, SOON + SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("4000 orphans spawned"), "{stderr}");
}

/// True when this machine lets us make a PID namespace (root, or a kernel that allows it).
fn pid_namespaces_work() -> bool {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn as_pid_1_of_a_pid_namespace_it_reaps_every_orphan_and_passes_the_exit_code_through() {
    if !pid_namespaces_work() {
        eprintln!("skipped: `unshare --pid --fork --mount-proc` is not allowed here");
        return;
    }
    // `unshare --fork` makes berth-init PID 1 of the new namespace; --mount-proc gives the
    // storm a /proc that shows only that namespace. The storm's parent is then pid 1.
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        &common::bin(),
        "--http-listen",
        &listen,
        "--",
    ])
    .args(role(
        "storm",
        &[STORM[0], STORM[1], &format!("metrics-port={port}")],
    ));
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn unshare");
    let status = wait_exit(&mut child, SOON + SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("4000 orphans spawned"), "{stderr}");

    // The exit code of the main process comes back through PID 1, and a background child
    // left behind gets SIGTERM (the namespace would SIGKILL it when PID 1 exits).
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--pid",
        "--fork",
        "--mount-proc",
        "--kill-child",
        &common::bin(),
        "--",
        "/bin/sh",
        "-c",
        "sleep 30 & exit 3",
    ]);
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn unshare");
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("SIGTERM to 1 remaining process"),
        "{stderr}"
    );
}
