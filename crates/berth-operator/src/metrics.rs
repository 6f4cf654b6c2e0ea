//! Prometheus metrics in the text exposition format, written by hand (four series do not
//! justify a metrics crate), and the tiny HTTP endpoint that serves them with `/healthz`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Upper bounds of the reconcile duration histogram, in seconds.
const BUCKETS: [f64; 8] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Counters the reconcile loop updates; read at scrape time.
#[derive(Debug, Default)]
pub struct Metrics {
    reconciles: AtomicU64,
    errors: AtomicU64,
    /// Cumulative counts per bucket of [`BUCKETS`] (a reconcile lands in every bucket whose
    /// bound it does not exceed, as Prometheus histograms count).
    buckets: [AtomicU64; BUCKETS.len()],
    duration_micros: AtomicU64,
}

impl Metrics {
    /// Records one reconcile: how long it took and whether it failed.
    pub fn observe(&self, took: Duration, failed: bool) {
        self.reconciles.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = took.as_secs_f64();
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.duration_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The exposition text. `phases` is each Release's phase (`None` before it starts),
    /// taken from the controller's cache at scrape time so deleted Releases drop out.
    pub fn render<'a>(&self, phases: impl IntoIterator<Item = Option<&'a str>>) -> String {
        let total = self.reconciles.load(Ordering::Relaxed);
        let mut out = String::new();
        // `write!` into a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(
            out,
            "# HELP berth_reconciles_total Release reconciles run.\n# TYPE berth_reconciles_total counter\nberth_reconciles_total {total}"
        );
        let _ = writeln!(
            out,
            "# HELP berth_reconcile_errors_total Release reconciles that failed on an API call.\n# TYPE berth_reconcile_errors_total counter\nberth_reconcile_errors_total {}",
            self.errors.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP berth_reconcile_duration_seconds Time one Release reconcile took.\n# TYPE berth_reconcile_duration_seconds histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "berth_reconcile_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                count.load(Ordering::Relaxed)
            );
        }
        let sum = self.duration_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "berth_reconcile_duration_seconds_bucket{{le=\"+Inf\"}} {total}\nberth_reconcile_duration_seconds_sum {sum}\nberth_reconcile_duration_seconds_count {total}"
        );
        let mut by_phase: BTreeMap<&str, u64> = BTreeMap::new();
        for p in phases {
            *by_phase.entry(p.unwrap_or("Pending")).or_default() += 1;
        }
        let _ = writeln!(
            out,
            "# HELP berth_releases Releases by phase.\n# TYPE berth_releases gauge"
        );
        for (phase, n) in by_phase {
            let _ = writeln!(out, "berth_releases{{phase=\"{phase}\"}} {n}");
        }
        out
    }
}

/// Serves `/healthz` and `/metrics` on `listener` until the task is dropped. `metrics` is
/// called once per scrape for the exposition text. The caller binds the port, so that a
/// port in use fails at startup rather than in a background task.
pub async fn serve(listener: TcpListener, metrics: impl Fn() -> String + Send + Sync + 'static) {
    let metrics = std::sync::Arc::new(metrics);
    loop {
        let Ok((mut conn, _)) = listener.accept().await else {
            // A failed accept (out of descriptors) is transient; the next one may work.
            continue;
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            // The request line is all we need; 4 kB holds any scraper's request head.
            let mut buf = [0u8; 4096];
            let n = match tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await {
                Ok(Ok(n)) => n,
                _ => return,
            };
            let head = String::from_utf8_lossy(&buf[..n]);
            let (code, ctype, body) = route(&head, || metrics());
            let response = format!(
                "HTTP/1.1 {code}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            // A scraper that hung up gets nothing; there is no one to tell.
            let _ = conn.write_all(response.as_bytes()).await;
        });
    }
}

/// The response to a request head: status line, content type, body.
fn route(head: &str, metrics: impl FnOnce() -> String) -> (&'static str, &'static str, String) {
    let mut words = head.split_whitespace();
    let (method, path) = (words.next(), words.next().unwrap_or("/"));
    let path = path.split('?').next().unwrap_or(path);
    match (method, path) {
        (Some("GET"), "/healthz") => ("200 OK", "text/plain", "ok\n".into()),
        (Some("GET"), "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics(),
        ),
        _ => ("404 Not Found", "text/plain", "not found\n".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_counts_reconciles_errors_durations_and_phases() {
        let m = Metrics::default();
        m.observe(Duration::from_millis(30), false);
        m.observe(Duration::from_millis(300), true);
        let text = m.render([Some("Progressing"), Some("Progressing"), None]);
        for line in [
            "berth_reconciles_total 2",
            "berth_reconcile_errors_total 1",
            // 30 ms is within 0.05 s; 300 ms only from 0.5 s on.
            "berth_reconcile_duration_seconds_bucket{le=\"0.01\"} 0",
            "berth_reconcile_duration_seconds_bucket{le=\"0.05\"} 1",
            "berth_reconcile_duration_seconds_bucket{le=\"0.5\"} 2",
            "berth_reconcile_duration_seconds_bucket{le=\"+Inf\"} 2",
            "berth_reconcile_duration_seconds_sum 0.33",
            "berth_reconcile_duration_seconds_count 2",
            "berth_releases{phase=\"Pending\"} 1",
            "berth_releases{phase=\"Progressing\"} 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn routes_answer_healthz_and_metrics_and_nothing_else() {
        let get = |head: &str| route(head, || "m\n".into());
        assert_eq!(get("GET /healthz HTTP/1.1\r\n\r\n").0, "200 OK");
        assert_eq!(get("GET /metrics?x=1 HTTP/1.1\r\n\r\n").2, "m\n");
        assert_eq!(get("POST /metrics HTTP/1.1\r\n\r\n").0, "404 Not Found");
        assert_eq!(get("").0, "404 Not Found");
    }

    #[tokio::test]
    async fn the_endpoint_serves_metrics_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(serve(listener, || "berth_reconciles_total 0\n".into()));
        let mut reply = String::new();
        let mut c = tokio::net::TcpStream::connect(addr).await.expect("connect");
        c.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .expect("write");
        c.read_to_string(&mut reply).await.expect("read");
        server.abort();
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(
            reply.ends_with("\r\n\r\nberth_reconciles_total 0\n"),
            "{reply}"
        );
    }
}
