//! The drain: no request lost on SIGTERM when the load balancer is given time to forget the
//! pod, requests lost without it; connections waited for; readiness off at once; prestop.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use nix::sys::signal::Signal;

/// How often the test's load balancer asks /readyz, as a kubelet probe plus endpoint update
/// would; it routes requests to the pod only while the last answer was 200.
const PROBE_PERIOD: Duration = Duration::from_millis(300);
/// Clients sending requests side by side.
const CLIENTS: usize = 16;
/// Every answer of the test server takes this long ("slow requests").
const SERVER_DELAY_MS: u64 = 200;

struct Outcome {
    ok: usize,
    lost: usize,
    exit: Option<i32>,
    stderr: String,
}

/// One request on a new connection; true when a complete 200 answer came back.
fn request(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    if s.write_all(b"GET / HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    s.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
        && answer.ends_with("ok")
}

/// Runs the slow server under berth-init with this drain delay, puts it under load through a
/// load balancer that follows /readyz, sends SIGTERM right after a probe found it ready, and
/// counts the requests that failed.
fn sigterm_under_load(drain_delay: &str, probe_period: Duration) -> Outcome {
    let (app, endpoint) = (free_port(), free_port());
    let dir = temp_dir(&format!("drain-{drain_delay}"));
    let ready = dir.join("ready");
    let flags = [
        "--http-listen",
        &format!("127.0.0.1:{endpoint}"),
        "--drain-delay",
        drain_delay,
        "--drain-timeout",
        "10s",
        "--drain-ports",
        &app.to_string(),
    ];
    let server = role(
        "slow-server",
        &[
            &format!("port={app}"),
            &format!("delay-ms={SERVER_DELAY_MS}"),
            &format!("ready={}", ready.display()),
        ],
    );
    let mut child = start(&flags, &server);
    wait_file(&ready);
    assert!(
        wait_until(SOON, || http_get(endpoint, "/readyz")
            .is_some_and(|(c, _)| c == 200)),
        "never ready"
    );

    let routing = Arc::new(AtomicBool::new(true));
    let (ok, lost) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (probed_tx, probed_rx) = mpsc::channel();
    let prober = {
        let routing = Arc::clone(&routing);
        thread::spawn(move || {
            while routing.load(Ordering::SeqCst) {
                thread::sleep(probe_period);
                let ready = http_get(endpoint, "/readyz").is_some_and(|(c, _)| c == 200);
                if !ready {
                    // Endpoint removed: the balancer forgets the pod for good.
                    routing.store(false, Ordering::SeqCst);
                }
                let _ = probed_tx.send(ready);
            }
        })
    };
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (routing, ok, lost) = (Arc::clone(&routing), Arc::clone(&ok), Arc::clone(&lost));
            thread::spawn(move || {
                // Staggered starts spread the requests over time.
                thread::sleep(Duration::from_millis(
                    i as u64 * SERVER_DELAY_MS / CLIENTS as u64,
                ));
                let started = Instant::now();
                while routing.load(Ordering::SeqCst) && started.elapsed() < SOON {
                    if request(app) {
                        ok.fetch_add(1, Ordering::SeqCst);
                    } else {
                        lost.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();

    // Under load for a while, then SIGTERM just after a probe said "ready": the balancer will
    // keep routing for about one probe period.
    assert!(
        wait_until(SOON, || ok.load(Ordering::SeqCst) >= 2 * CLIENTS),
        "load never got going"
    );
    loop {
        if probed_rx.recv_timeout(SOON).expect("probe") {
            break;
        }
    }
    signal(child.id(), Signal::SIGTERM);
    let status = wait_exit(&mut child, SOON);
    // Whatever the balancer thinks, nothing is left to route to.
    routing.store(false, Ordering::SeqCst);
    for c in clients {
        c.join().expect("client");
    }
    prober.join().expect("prober");
    Outcome {
        ok: ok.load(Ordering::SeqCst),
        lost: lost.load(Ordering::SeqCst),
        exit: status.code(),
        stderr: stderr_of(&mut child),
    }
}

#[test]
fn sigterm_with_a_drain_delay_loses_no_request_and_the_same_without_it_loses_some() {
    // 1.5 s of drain delay against a 0.3 s probe period: the balancer stops routing long
    // before the server gets SIGTERM, and the server finishes what it has in flight.
    let drained = sigterm_under_load("1500ms", PROBE_PERIOD);
    assert_eq!(
        drained.lost, 0,
        "requests lost with the drain ({} ok):\n{}",
        drained.ok, drained.stderr
    );
    assert!(drained.ok > 0);
    assert_eq!(drained.exit, Some(0), "{}", drained.stderr);
    assert!(
        drained.stderr.contains("SIGTERM after 1.5"),
        "{}",
        drained.stderr
    );

    // No delay: the server closes its listener while the balancer still routes to it until its
    // next probe. A balancer that probes every second (a common setting) leaves a window that
    // no scheduling jitter can close: every client sends requests in it (each takes 0.2 s), and
    // those are refused.
    let undrained = sigterm_under_load("0s", Duration::from_secs(1));
    eprintln!(
        "with the drain: {} ok, {} lost; without: {} ok, {} lost",
        drained.ok, drained.lost, undrained.ok, undrained.lost
    );
    assert!(
        undrained.lost > 0,
        "nothing lost without the drain ({} ok): the test cannot tell",
        undrained.ok
    );
    assert_eq!(undrained.exit, Some(0), "{}", undrained.stderr);
}

#[test]
fn once_no_connection_is_left_on_the_app_ports_what_ignores_sigterm_is_killed() {
    let app = free_port();
    let dir = temp_dir("idle-kill");
    let ready = dir.join("ready");
    // Ports found automatically: the listener the main process holds.
    let flags = [
        "--drain-timeout",
        "60s",
        "--drain-idle-grace",
        "200ms",
        "--drain-ports",
        "auto",
    ];
    let mut child = start(
        &flags,
        &role(
            "ignore-term",
            &[
                &format!("listen={app}"),
                &format!("ready={}", ready.display()),
            ],
        ),
    );
    wait_file(&ready);
    let conn = TcpStream::connect(("127.0.0.1", app)).expect("connect");
    signal(child.id(), Signal::SIGTERM);
    // While the connection is open, berth-init waits (a wait that only guards against a false
    // pass: a correct berth-init never exits here).
    assert!(
        !wait_until(Duration::from_secs(1), || child
            .try_wait()
            .expect("try_wait")
            .is_some()),
        "exited with a connection open"
    );
    drop(conn);
    let closed = Instant::now();
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(137), "{stderr}");
    assert!(
        closed.elapsed() < Duration::from_secs(60),
        "killed by the timeout, not by the idle rule"
    );
    assert!(
        stderr.contains(&format!("watching connections on port {app}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("SIGKILL to the remaining processes: no connection left for 200ms"),
        "{stderr}"
    );
}

#[test]
fn readiness_turns_off_at_once_on_sigterm_and_a_second_sigterm_skips_the_delay() {
    let endpoint = free_port();
    let dir = temp_dir("readiness");
    let (file, ready) = (dir.join("readiness"), dir.join("ready"));
    let flags = [
        "--http-listen",
        &format!("127.0.0.1:{endpoint}"),
        "--readiness-file",
        file.to_str().expect("utf-8"),
        "--drain-delay",
        "60s",
    ];
    let mut child = start(
        &flags,
        &role("sleep", &[&format!("ready={}", ready.display())]),
    );
    wait_file(&ready);
    assert!(
        wait_until(SOON, || http_get(endpoint, "/readyz")
            .is_some_and(|(c, _)| c == 200)),
        "never ready"
    );
    assert!(file.exists(), "readiness file missing while ready");
    assert_eq!(http_get(endpoint, "/healthz").map(|(c, _)| c), Some(200));

    signal(child.id(), Signal::SIGTERM);
    assert!(
        wait_until(SOON, || http_get(endpoint, "/readyz")
            .is_some_and(|(c, _)| c == 503)),
        "still ready after SIGTERM"
    );
    assert!(!file.exists(), "readiness file still there while draining");
    let (_, metrics) = http_get(endpoint, "/metrics").expect("metrics");
    assert!(metrics.contains("berth_init_draining 1"), "{metrics}");
    // Still serving health while it waits out the delay.
    assert_eq!(http_get(endpoint, "/healthz").map(|(c, _)| c), Some(200));

    signal(child.id(), Signal::SIGTERM);
    let status = wait_exit(&mut child, SOON);
    assert_eq!(status.code(), Some(143), "{}", stderr_of(&mut child));
}

/// A listener of the test's own with one accepted connection, held until dropped.
fn held_connection() -> (u16, TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    // The listener stays open through `server`'s port being in the established table; the
    // listening socket itself is not needed for the count.
    std::mem::forget(listener);
    (port, client, server)
}

#[test]
fn prestop_removes_the_readiness_file_and_waits_until_connections_close() {
    let dir = temp_dir("prestop");
    let file = dir.join("readiness");
    std::fs::write(&file, b"").expect("readiness file");
    let (port, client, server) = held_connection();
    let mut child = berth_init()
        .args([
            "prestop",
            "--drain-delay",
            "200ms",
            "--drain-timeout",
            "60s",
            "--drain-ports",
            &port.to_string(),
        ])
        .args(["--readiness-file", file.to_str().expect("utf-8")])
        .spawn()
        .expect("spawn prestop");
    assert!(
        wait_until(SOON, || !file.exists()),
        "readiness file not removed"
    );
    assert!(
        !wait_until(Duration::from_secs(1), || child
            .try_wait()
            .expect("try_wait")
            .is_some()),
        "returned with a connection open"
    );
    drop(client);
    drop(server);
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("no established connection left"),
        "{stderr}"
    );
}

#[test]
fn prestop_returns_at_its_timeout_when_connections_stay_open() {
    let (port, _client, _server) = held_connection();
    let started = Instant::now();
    let mut child = berth_init()
        .args([
            "prestop",
            "--drain-delay",
            "100ms",
            "--drain-timeout",
            "400ms",
            "--drain-ports",
            &port.to_string(),
        ])
        .spawn()
        .expect("spawn prestop");
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "returned before delay + timeout"
    );
    assert!(stderr.contains("1 connection(s) still open"), "{stderr}");
}
