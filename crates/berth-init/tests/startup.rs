//! Before and around the main command: start programs, start-order waits, supervision with a
//! restart limit, and errors for bad flags.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use nix::sys::signal::Signal;

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn start_programs_run_in_order_before_the_main_command() {
    let dir = temp_dir("start-order");
    let f = dir.join("order");
    let p = f.display();
    let one = format!(r#"["/bin/sh","-c","echo one >> {p}"]"#);
    let mut child = start(
        &["--start", &one, "--start", &format!("/bin/cp {p} {p}.copy")],
        &sh(&format!("echo main >> {p}")),
    );
    let status = wait_exit(&mut child, SOON);
    assert_eq!(status.code(), Some(0), "{}", stderr_of(&mut child));
    assert_eq!(lines(&f), ["one", "main"]);
    // The second start program ran after the first and before the main command.
    assert_eq!(lines(&dir.join("order.copy")), ["one"]);
}

#[test]
fn start_programs_can_come_from_the_environment_one_a_line() {
    let dir = temp_dir("start-env");
    let f = dir.join("order");
    let p = f.display();
    let mut child = berth_init()
        .env(
            "BERTH_INIT_START",
            format!(
                "[\"/bin/sh\",\"-c\",\"echo one >> {p}\"]\n[\"/bin/sh\",\"-c\",\"echo two >> {p}\"]"
            ),
        )
        .arg("--")
        .args(sh(&format!("echo main >> {p}")))
        .spawn()
        .expect("spawn");
    let status = wait_exit(&mut child, SOON);
    assert_eq!(status.code(), Some(0), "{}", stderr_of(&mut child));
    assert_eq!(lines(&f), ["one", "two", "main"]);
}

#[test]
fn a_failing_start_program_stops_everything_with_its_code_and_is_named() {
    let dir = temp_dir("start-fail");
    let marker = dir.join("main-ran");
    let mut child = start(
        &[
            "--start",
            "/bin/true",
            "--start",
            r#"["/bin/sh","-c","exit 4"]"#,
        ],
        &sh(&format!("touch {}", marker.display())),
    );
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(4), "{stderr}");
    assert!(stderr.contains(r#"start program 2 of 2 (/bin/sh -c "exit 4") exited with code 4; the main command was not started"#), "{stderr}");
    assert!(!marker.exists(), "the main command ran");
    // A start program that does not exist: 127, as a shell says.
    let mut child = start(&["--start", "/no/such/program"], &sh("true"));
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(127), "{stderr}");
    assert!(
        stderr.contains("cannot run start program 1 of 1 (/no/such/program)"),
        "{stderr}"
    );
}

#[test]
fn the_main_command_waits_for_a_tcp_target_and_starts_once_it_listens() {
    let dir = temp_dir("wait-tcp");
    let marker = dir.join("started");
    let port = free_port();
    let mut child = start(
        &[
            "--wait-for",
            &format!("tcp://127.0.0.1:{port}"),
            "--wait-timeout",
            "60s",
        ],
        &sh(&format!("touch {}", marker.display())),
    );
    // Nothing listens yet: nothing starts (a guard against a false pass, not a timing bet).
    assert!(
        !wait_until(Duration::from_millis(500), || marker.exists()),
        "started before the target listened"
    );
    let _listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(marker.exists());
    assert!(
        stderr.contains(&format!("waiting for tcp://127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("tcp://127.0.0.1:{port} is ready")),
        "{stderr}"
    );
}

#[test]
fn an_http_target_counts_as_ready_only_once_it_answers_200_to_399() {
    let dir = temp_dir("wait-http");
    let marker = dir.join("started");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let served = Arc::new(AtomicUsize::new(0));
    {
        let served = Arc::clone(&served);
        // Answers 503 twice (a dependency still starting), then 200.
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let n = served.fetch_add(1, Ordering::SeqCst);
                let answer: &[u8] = if n < 2 {
                    b"HTTP/1.1 503 Service Unavailable\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\n\r\n"
                };
                let _ = s.write_all(answer);
            }
        });
    }
    let target = format!("http://127.0.0.1:{port}/healthz");
    let mut child = start(
        &["--wait-for", &target],
        &sh(&format!("touch {}", marker.display())),
    );
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(marker.exists());
    assert_eq!(served.load(Ordering::SeqCst), 3, "{stderr}");
    assert!(
        stderr.contains(&format!("waiting for {target} (http status 503)")),
        "{stderr}"
    );
}

#[test]
fn a_target_that_never_comes_up_fails_after_the_timeout_and_is_named() {
    let dir = temp_dir("wait-timeout");
    let marker = dir.join("started");
    let port = free_port();
    let started = Instant::now();
    let mut child = start(
        &[
            "--wait-for",
            &format!("tcp://127.0.0.1:{port}"),
            "--wait-timeout",
            "300ms",
        ],
        &sh(&format!("touch {}", marker.display())),
    );
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(
        stderr.contains(&format!(
            "timed out after 300ms (--wait-timeout) waiting for tcp://127.0.0.1:{port}"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was started"), "{stderr}");
    assert!(!marker.exists());
}

#[test]
fn a_crashing_main_process_is_restarted_with_backoff_up_to_the_limit_then_berth_init_stays_up_not_ready()
 {
    let dir = temp_dir("restart");
    let runs = dir.join("runs");
    let endpoint = free_port();
    let flags = [
        "--restart",
        "on-failure",
        "--restart-limit",
        "3",
        "--restart-window",
        "1m",
        "--restart-backoff",
        "50ms",
        "--http-listen",
        &format!("127.0.0.1:{endpoint}"),
    ];
    // Each run appends its start time in nanoseconds, then crashes with code 3.
    let mut child = start(
        &flags,
        &sh(&format!("date +%s%N >> {}; exit 3", runs.display())),
    );
    let metric = |m: &str| {
        http_get(endpoint, "/metrics").is_some_and(|(_, body)| body.lines().any(|l| l == m))
    };
    assert!(
        wait_until(SOON, || metric("berth_init_restart_limit_reached 1")),
        "never gave up: {:?}",
        http_get(endpoint, "/metrics")
    );
    assert!(metric("berth_init_restarts_total{process=\"main\"} 3"));
    let (code, body) = http_get(endpoint, "/readyz").expect("readyz");
    assert_eq!(
        (code, body.as_str()),
        (
            503,
            "not ready: the main process reached its restart limit\n"
        )
    );
    // One first run and three restarts, then no more (a guard: a correct berth-init never
    // starts a fifth run).
    assert!(
        !wait_until(Duration::from_millis(300), || lines(&runs).len() > 4),
        "restarted past the limit"
    );
    let starts: Vec<u128> = lines(&runs)
        .iter()
        .map(|l| l.parse().expect("nanoseconds"))
        .collect();
    assert_eq!(starts.len(), 4);
    // Backoff 50 ms, doubled: at least 50, 100 and 200 ms between the runs.
    for (i, min_ms) in [50u128, 100, 200].iter().enumerate() {
        let gap_ms = (starts[i + 1] - starts[i]) / 1_000_000;
        assert!(
            gap_ms >= *min_ms,
            "gap {i} was {gap_ms} ms, under the {min_ms} ms backoff"
        );
    }
    assert_eq!(
        http_get(endpoint, "/healthz").map(|(c, _)| c),
        Some(200),
        "berth-init itself stays healthy"
    );
    signal(child.id(), Signal::SIGTERM);
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(
        status.code(),
        Some(3),
        "the last exit code of the main process: {stderr}"
    );
    assert!(
        stderr.contains("restart limit reached (3 restarts within 1m)"),
        "{stderr}"
    );
}

#[test]
fn a_clean_exit_is_not_a_crash_under_on_failure() {
    let mut child = start(&["--restart", "on-failure"], &sh("exit 0"));
    let status = wait_exit(&mut child, SOON);
    assert_eq!(status.code(), Some(0), "{}", stderr_of(&mut child));
}

#[test]
fn supervised_programs_are_restarted_within_the_limit_and_stopped_with_the_main_one() {
    let dir = temp_dir("supervise");
    let (runs, ready) = (dir.join("runs"), dir.join("ready"));
    let endpoint = free_port();
    let crashy = format!(
        r#"["/bin/sh","-c","echo run >> {}; exit 1"]"#,
        runs.display()
    );
    let flags = [
        "--supervise",
        &crashy,
        "--supervise",
        "/bin/sleep 60",
        "--restart-limit",
        "2",
        "--restart-backoff",
        "10ms",
        "--http-listen",
        &format!("127.0.0.1:{endpoint}"),
    ];
    let mut child = start(
        &flags,
        &role("sleep", &[&format!("ready={}", ready.display())]),
    );
    wait_file(&ready);
    assert!(
        wait_until(SOON, || http_get(endpoint, "/readyz")
            .is_some_and(|(c, b)| c == 503 && b.contains("supervise-1"))),
        "{:?}",
        http_get(endpoint, "/readyz")
    );
    let (_, body) = http_get(endpoint, "/readyz").expect("readyz");
    assert!(body.contains(r#"reached its restart limit"#), "{body}");
    assert_eq!(lines(&runs).len(), 3, "one run and two restarts");
    signal(child.id(), Signal::SIGTERM);
    // The main process dies of SIGTERM; /bin/sleep 60 got SIGTERM too, or this would take a minute.
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("SIGTERM to the main process and the supervised ones"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_and_bad_environment_values_exit_2_naming_the_setting_and_the_fix() {
    struct Case {
        args: &'static [&'static str],
        env: &'static [(&'static str, &'static str)],
        says: &'static [&'static str],
    }
    let cases = [
        Case {
            args: &["--drain-delay", "5", "--", "true"],
            env: &[],
            says: &["--drain-delay", "`5` has no unit; write e.g. 5s or 5ms"],
        },
        Case {
            args: &["--", "true"],
            env: &[("BERTH_INIT_DRAIN_TIMEOUT", "soon")],
            says: &["--drain-timeout", "`soon` is not a duration"],
        },
        Case {
            args: &["--wait-for", "https://id", "--", "true"],
            env: &[],
            says: &["--wait-for", "use tcp:// or http:// (no TLS)"],
        },
        Case {
            args: &[],
            env: &[],
            says: &["required", "COMMAND"],
        },
    ];
    for Case { args, env, says } in cases {
        let mut cmd = berth_init();
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn");
        let status = wait_exit(&mut child, SOON);
        let stderr = stderr_of(&mut child);
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        for s in says {
            assert!(stderr.contains(s), "{args:?}: {s:?} not in {stderr}");
        }
    }
}

#[test]
fn help_documents_every_environment_variable() {
    let out = std::process::Command::new(common::bin())
        .arg("--help")
        .output()
        .expect("help");
    let help = String::from_utf8(out.stdout).expect("utf-8");
    for var in [
        "BERTH_INIT_START",
        "BERTH_INIT_WAIT_FOR",
        "BERTH_INIT_WAIT_TIMEOUT",
        "BERTH_INIT_SUPERVISE",
        "BERTH_INIT_RESTART",
        "BERTH_INIT_RESTART_LIMIT",
        "BERTH_INIT_RESTART_WINDOW",
        "BERTH_INIT_RESTART_BACKOFF",
        "BERTH_INIT_RESTART_BACKOFF_MAX",
        "BERTH_INIT_SIGNAL_TARGET",
        "BERTH_INIT_DRAIN_DELAY",
        "BERTH_INIT_DRAIN_TIMEOUT",
        "BERTH_INIT_DRAIN_PORTS",
        "BERTH_INIT_DRAIN_IDLE_GRACE",
        "BERTH_INIT_READINESS_FILE",
        "BERTH_INIT_HTTP_LISTEN",
        "BERTH_INIT_QUIET",
    ] {
        assert!(
            help.contains(&format!("[env: {var}=")),
            "{var} missing from --help"
        );
    }
}

#[test]
fn sigterm_during_a_start_program_reaches_it_and_nothing_else_starts() {
    let dir = temp_dir("start-term");
    let (ready, marker) = (dir.join("ready"), dir.join("main-ran"));
    let start_program = role("sleep", &[&format!("ready={}", ready.display())]);
    let json = format!(
        "[{}]",
        start_program
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut child = start(
        &["--start", &json],
        &sh(&format!("touch {}", marker.display())),
    );
    wait_file(&ready);
    signal(child.id(), Signal::SIGTERM);
    let status = wait_exit(&mut child, SOON);
    let stderr = stderr_of(&mut child);
    // The start program died of the forwarded SIGTERM: its code, 143, is berth-init's.
    assert_eq!(status.code(), Some(143), "{stderr}");
    assert!(stderr.contains("start program 1 of 1"), "{stderr}");
    assert!(!marker.exists(), "the main command ran");
}
