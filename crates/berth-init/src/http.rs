//! The small HTTP endpoint: `/healthz`, `/readyz` and `/metrics` (Prometheus text format).
//! Answers are built by pure functions from a [`Status`]; the shell accepts connections from
//! the main loop, one short request at a time, so no thread is needed.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

/// What the endpoint reports, refreshed by the main loop before it answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Status {
    /// Why berth-init is not ready, or `None` when it is.
    pub not_ready: Option<String>,
    /// Children reaped since start (orphans, start programs, restarts, everything).
    pub reaped_total: u64,
    /// Restarts per supervised process name (`main`, `supervise-1`, ...).
    pub restarts_total: Vec<(String, u64)>,
    /// A supervised process reached its restart limit.
    pub given_up: bool,
    /// A drain is under way.
    pub draining: bool,
    /// Seconds since the drain started.
    pub drain_elapsed_seconds: f64,
    /// Seconds from the drain's start to its SIGTERM, once sent.
    pub drain_delay_seconds: Option<f64>,
    /// Established connections on the app's ports at the last count during the drain.
    pub drain_connections: Option<usize>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub code: u16,
    /// Body text.
    pub body: String,
    /// Content-Type.
    pub content_type: &'static str,
}

const TEXT: &str = "text/plain; charset=utf-8";
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The answer to a request whose head (request line and headers) is `head`.
pub fn respond(head: &[u8], status: &Status) -> Response {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let text = |code, body: &str| Response {
        code,
        body: body.to_string(),
        content_type: TEXT,
    };
    if target.is_empty() {
        return text(400, "bad request\n");
    }
    if method != "GET" && method != "HEAD" {
        return text(405, "only GET and HEAD\n");
    }
    let path = target.split('?').next().unwrap_or(target);
    match path {
        "/healthz" | "/livez" => text(200, "ok\n"),
        "/readyz" => match &status.not_ready {
            None => text(200, "ready\n"),
            Some(why) => text(503, &format!("not ready: {why}\n")),
        },
        "/metrics" => Response {
            code: 200,
            body: metrics(status),
            content_type: PROMETHEUS,
        },
        _ => text(404, "not found; try /healthz, /readyz or /metrics\n"),
    }
}

/// The Prometheus text exposition of a status.
pub fn metrics(s: &Status) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, String)]| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, value) in samples {
            out.push_str(&format!("{name}{labels} {value}\n"));
        }
    };
    let one = |v: String| [(String::new(), v)];
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    metric(
        "berth_init_ready",
        "gauge",
        "1 when the main process runs and no drain is under way.",
        &one(flag(s.not_ready.is_none())),
    );
    metric(
        "berth_init_reaped_total",
        "counter",
        "Child processes reaped, orphans included.",
        &one(s.reaped_total.to_string()),
    );
    let restarts: Vec<(String, String)> = s
        .restarts_total
        .iter()
        .map(|(name, n)| (format!("{{process=\"{name}\"}}"), n.to_string()))
        .collect();
    metric(
        "berth_init_restarts_total",
        "counter",
        "Restarts of supervised processes.",
        &restarts,
    );
    metric(
        "berth_init_restart_limit_reached",
        "gauge",
        "1 when a supervised process reached its restart limit.",
        &one(flag(s.given_up)),
    );
    metric(
        "berth_init_draining",
        "gauge",
        "1 while the drain sequence runs.",
        &one(flag(s.draining)),
    );
    metric(
        "berth_init_drain_elapsed_seconds",
        "gauge",
        "Seconds since the drain started.",
        &one(format!("{:.3}", s.drain_elapsed_seconds)),
    );
    if let Some(d) = s.drain_delay_seconds {
        metric(
            "berth_init_drain_delay_seconds",
            "gauge",
            "Seconds from the drain's start to SIGTERM.",
            &one(format!("{d:.3}")),
        );
    }
    if let Some(c) = s.drain_connections {
        metric(
            "berth_init_drain_connections",
            "gauge",
            "Established connections on the app's ports at the last count.",
            &one(c.to_string()),
        );
    }
    out
}

/// Serializes an answer; `head_only` for HEAD requests.
pub fn encode(r: &Response, head_only: bool) -> Vec<u8> {
    let reason = match r.code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "",
    };
    let mut out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        r.code,
        r.content_type,
        r.body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(r.body.as_bytes());
    }
    out
}

/// How long one client may take to send its request before it is dropped: the main loop
/// waits for it, so this bounds how long reaping and signals can be held up.
const CLIENT_TIMEOUT: Duration = Duration::from_millis(200);
/// Connections answered per wake-up, so a flood of probes cannot starve the loop.
const ACCEPT_BATCH: usize = 16;

/// Answers the connections waiting on a non-blocking listener.
pub fn serve_pending(listener: &TcpListener, status: &Status) {
    for _ in 0..ACCEPT_BATCH {
        match listener.accept() {
            Ok((stream, _)) => {
                // A client that misbehaves only loses its own answer.
                let _ = answer(stream, status);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e)
                if e.kind() == ErrorKind::Interrupted
                    || e.kind() == ErrorKind::ConnectionAborted => {}
            Err(_) => return,
        }
    }
}

fn answer(mut stream: TcpStream, status: &Status) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut buf = [0u8; 2048];
    let mut len = 0;
    while len < buf.len() {
        let n = stream.read(&mut buf[len..])?;
        len += n;
        if n == 0
            || buf[..len].windows(4).any(|w| w == b"\r\n\r\n")
            || buf[..len].windows(2).any(|w| w == b"\n\n")
        {
            break;
        }
    }
    let head = &buf[..len];
    let response = respond(head, status);
    stream.write_all(&encode(&response, head.starts_with(b"HEAD ")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Status {
        Status {
            restarts_total: vec![("main".into(), 2)],
            reaped_total: 7,
            ..Status::default()
        }
    }

    #[test]
    fn each_path_answers_with_its_status_code() {
        let not_ready = Status {
            not_ready: Some("draining".into()),
            ..ready()
        };
        let cases: &[(&str, &Status, u16)] = &[
            ("GET /healthz HTTP/1.1\r\n\r\n", &ready(), 200),
            ("GET /healthz HTTP/1.1\r\n\r\n", &not_ready, 200),
            ("GET /readyz HTTP/1.1\r\n\r\n", &ready(), 200),
            ("GET /readyz HTTP/1.1\r\n\r\n", &not_ready, 503),
            ("GET /readyz?verbose HTTP/1.0\r\n\r\n", &not_ready, 503),
            ("HEAD /metrics HTTP/1.1\r\n\r\n", &ready(), 200),
            ("GET /other HTTP/1.1\r\n\r\n", &ready(), 404),
            ("POST /readyz HTTP/1.1\r\n\r\n", &ready(), 405),
            ("", &ready(), 400),
        ];
        for (req, status, want) in cases {
            assert_eq!(respond(req.as_bytes(), status).code, *want, "{req:?}");
        }
        assert_eq!(
            respond(b"GET /readyz HTTP/1.1\r\n\r\n", &not_ready).body,
            "not ready: draining\n"
        );
    }

    #[test]
    fn metrics_expose_restarts_reaped_children_and_the_drain() {
        let draining = Status {
            not_ready: Some("draining".into()),
            draining: true,
            drain_elapsed_seconds: 1.5,
            drain_delay_seconds: Some(1.0),
            drain_connections: Some(3),
            ..ready()
        };
        let text = metrics(&draining);
        for line in [
            "berth_init_ready 0",
            "berth_init_reaped_total 7",
            "berth_init_restarts_total{process=\"main\"} 2",
            "berth_init_draining 1",
            "berth_init_drain_elapsed_seconds 1.500",
            "berth_init_drain_delay_seconds 1.000",
            "berth_init_drain_connections 3",
            "# TYPE berth_init_reaped_total counter",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        // Before a drain the drain-only series are absent rather than zero.
        assert!(!metrics(&ready()).contains("berth_init_drain_delay_seconds"));
    }

    #[test]
    fn head_answers_carry_the_length_but_no_body() {
        let r = respond(b"GET /healthz HTTP/1.1\r\n\r\n", &ready());
        let full = String::from_utf8(encode(&r, false)).expect("utf-8");
        assert!(full.starts_with("HTTP/1.1 200 OK\r\n"), "{full}");
        assert!(full.ends_with("\r\n\r\nok\n"), "{full}");
        let head = String::from_utf8(encode(&r, true)).expect("utf-8");
        assert!(
            head.contains("Content-Length: 3\r\n") && head.ends_with("\r\n\r\n"),
            "{head}"
        );
    }
}
