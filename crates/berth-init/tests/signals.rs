//! Signal forwarding, exit codes, and the end of every process of the container.

mod common;

use std::time::{Duration, Instant};

use common::*;
use nix::sys::signal::Signal;

#[test]
fn each_forwarded_signal_ends_a_default_main_process_with_128_plus_its_number() {
    let dir = temp_dir("exit-codes");
    let cases = [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ];
    // All at once: each case is a separate berth-init, so they run side by side.
    let runs: Vec<_> = cases
        .iter()
        .map(|sig| {
            let ready = dir.join(format!("{sig}.ready"));
            let child = start(
                &[],
                &role("sleep", &[&format!("ready={}", ready.display())]),
            );
            (*sig, ready, child)
        })
        .collect();
    for (sig, ready, mut child) in runs {
        wait_file(&ready);
        signal(child.id(), sig);
        let status = wait_exit(&mut child, SOON);
        assert_eq!(
            status.code(),
            Some(128 + sig as i32),
            "{sig}: {}",
            stderr_of(&mut child)
        );
    }
}

#[test]
fn forwarded_signals_reach_the_main_process_and_its_own_exit_code_comes_back() {
    let dir = temp_dir("forward");
    let (log, ready) = (dir.join("log"), dir.join("ready"));
    let main = role(
        "record",
        &[
            &format!("log={}", log.display()),
            &format!("ready={}", ready.display()),
            "term-exit=42",
        ],
    );
    let mut child = start(&[], &main);
    wait_file(&ready);
    let forwarded = [
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGWINCH,
    ];
    for (i, sig) in forwarded.iter().enumerate() {
        signal(child.id(), *sig);
        // One at a time: standard signals sent together may merge.
        let seen = wait_until(SOON, || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .count()
                == i + 1
        });
        assert!(
            seen,
            "{sig} was not forwarded; log: {:?}",
            std::fs::read_to_string(&log)
        );
    }
    signal(child.id(), Signal::SIGTERM);
    let status = wait_exit(&mut child, SOON);
    assert_eq!(status.code(), Some(42), "{}", stderr_of(&mut child));
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "main SIGUSR1",
            "main SIGUSR2",
            "main SIGHUP",
            "main SIGINT",
            "main SIGQUIT",
            "main SIGWINCH",
            "main SIGTERM"
        ]
    );
}

#[test]
fn the_group_target_also_reaches_the_main_process_children_and_the_process_target_does_not() {
    for (target, child_gets_it) in [("group", true), ("process", false)] {
        let dir = temp_dir(&format!("group-{target}"));
        let (log, ready) = (dir.join("log"), dir.join("ready"));
        let main = role(
            "group-parent",
            &[
                &format!("log={}", log.display()),
                &format!("ready={}", ready.display()),
            ],
        );
        let mut child = start(&["--signal-target", target, "--drain-timeout", "5s"], &main);
        wait_file(&ready);
        signal(child.id(), Signal::SIGUSR1);
        let want = if child_gets_it { 2 } else { 1 };
        assert!(
            wait_until(SOON, || std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .count()
                >= want),
            "{target}: {:?}",
            std::fs::read_to_string(&log)
        );
        signal(child.id(), Signal::SIGTERM);
        let status = wait_exit(&mut child, SOON);
        let mut lines: Vec<String> = std::fs::read_to_string(&log)
            .expect("log")
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        let usr1: Vec<&String> = lines.iter().filter(|l| l.ends_with("SIGUSR1")).collect();
        if child_gets_it {
            assert_eq!(usr1, ["child SIGUSR1", "parent SIGUSR1"], "{target}");
        } else {
            assert_eq!(usr1, ["parent SIGUSR1"], "{target}");
        }
        // Either way the child got SIGTERM before berth-init left: from the group signal, or
        // as a process left behind when the main one was gone.
        assert!(
            lines.contains(&"child SIGTERM".to_string()),
            "{target}: {lines:?}"
        );
        assert_eq!(
            status.code(),
            Some(0),
            "{target}: {}",
            stderr_of(&mut child)
        );
    }
}

#[test]
fn a_main_process_that_ignores_sigterm_is_killed_when_the_drain_timeout_ends() {
    let dir = temp_dir("ignore-term");
    let ready = dir.join("ready");
    let mut child = start(
        &["--drain-timeout", "1s", "--drain-ports", "none"],
        &role("ignore-term", &[&format!("ready={}", ready.display())]),
    );
    wait_file(&ready);
    let sent = Instant::now();
    signal(child.id(), Signal::SIGTERM);
    let status = wait_exit(&mut child, SOON);
    let took = sent.elapsed();
    let stderr = stderr_of(&mut child);
    assert_eq!(status.code(), Some(137), "{stderr}");
    assert!(
        took >= Duration::from_secs(1),
        "SIGKILL came before the timeout: {took:?}"
    );
    assert!(
        stderr.contains("SIGKILL to the remaining processes: 1s after SIGTERM (--drain-timeout)"),
        "{stderr}"
    );
}

#[test]
fn background_children_left_by_the_main_process_are_gone_before_berth_init_exits() {
    // The main process exits 0 at once, leaving a child in another process group behind (tini
    // without -g would exit and leave it). One child honours SIGTERM, the other ignores it.
    for ignore in [false, true] {
        let dir = temp_dir(&format!("background-{ignore}"));
        let (pid_file, child_ready) = (dir.join("pid"), dir.join("child-ready"));
        let mut args = vec![
            format!("pid-file={}", pid_file.display()),
            format!("child-ready={}", child_ready.display()),
        ];
        if ignore {
            args.push("ignore-term=1".into());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = start(
            &["--drain-timeout", "1s", "--drain-ports", "none"],
            &role("background", &args),
        );
        let status = wait_exit(&mut child, SOON);
        let stderr = stderr_of(&mut child);
        let orphan: i32 = std::fs::read_to_string(&pid_file)
            .expect("pid file")
            .trim()
            .parse()
            .expect("pid");
        assert_eq!(status.code(), Some(0), "ignore={ignore}: {stderr}");
        assert!(
            !alive(orphan),
            "ignore={ignore}: background child {orphan} outlived berth-init"
        );
        assert!(
            stderr.contains("SIGTERM to 1 remaining process"),
            "ignore={ignore}: {stderr}"
        );
        assert_eq!(
            stderr.contains("SIGKILL"),
            ignore,
            "ignore={ignore}: {stderr}"
        );
    }
}
