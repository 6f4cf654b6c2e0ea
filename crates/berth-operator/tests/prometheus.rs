//! Metric gates against a real Prometheus (Debian's package, installed by scripts/setup) on
//! loopback, scraping a test exporter: the gate is seen to pass, then to fail when the
//! exported error ratio rises.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use berth_model::release::MetricGate;
use berth_operator::prometheus::{evaluate, first_sample, query};

/// Kills Prometheus when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Serves `berth_test_error_ratio <value>` at /metrics, the value read at each scrape.
fn exporter(value: Arc<AtomicU64>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let v = f64::from_bits(value.load(Ordering::SeqCst));
            let body = format!("# TYPE berth_test_error_ratio gauge\nberth_test_error_ratio {v}\n");
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

async fn wait_for_value(base: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(body) = query(base, "berth_test_error_ratio").await
            && first_sample("berth_test_error_ratio", &body) == Ok(want)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus at {base} never reported {want}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_metric_gate_passes_then_fails_against_a_real_prometheus() {
    let value = Arc::new(AtomicU64::new(0.02f64.to_bits()));
    let target = exporter(value.clone());
    let dir = std::env::temp_dir().join(format!("berth-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\nscrape_configs:\n  - job_name: app\n    static_configs: [{{targets: ['127.0.0.1:{target}']}}]\n"
        ),
    )
    .expect("config");
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus runs (installed by scripts/setup)");
    let _running = Running(child);
    let base = format!("http://127.0.0.1:{port}");

    wait_for_value(&base, 0.02).await;
    let gate = MetricGate {
        query: "max(berth_test_error_ratio)".into(),
        threshold: 0.05,
        pass_when: None,
        prometheus: Some(base.clone()),
    };
    assert_eq!(evaluate(&gate, "http://unused:9090").await, Ok(true));

    value.store(0.2f64.to_bits(), Ordering::SeqCst);
    wait_for_value(&base, 0.2).await;
    assert_eq!(evaluate(&gate, "http://unused:9090").await, Ok(false));

    // A query Prometheus cannot parse is an error naming it, not a verdict.
    let broken = MetricGate {
        query: "max(".into(),
        ..gate
    };
    let err = evaluate(&broken, &base).await.expect_err("no verdict");
    assert!(err.to_string().contains("max("), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
