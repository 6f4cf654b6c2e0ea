//! Metric gates: one PromQL query against Prometheus's HTTP API (`/api/v1/query`) and the
//! verdict on its first sample. The verdict is pure; the query is a plain HTTP/1.1 GET
//! (Prometheus in a cluster is reached over plain HTTP on its Service).

use berth_model::release::{MetricGate, PassWhen};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Why a metric gate could not give a verdict.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GateError {
    /// The Prometheus address is not `http://host:port[/prefix]`.
    #[error("{0:?} is not an http:// address of Prometheus")]
    Address(String),
    /// Network or HTTP trouble.
    #[error("querying {url}: {message}")]
    Http {
        /// What was asked.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// Prometheus answered, but not with a sample.
    #[error("query {query:?}: {message}")]
    Answer {
        /// The PromQL.
        query: String,
        /// What the answer lacked.
        message: String,
    },
}

/// The first sample of a `/api/v1/query` answer (vector or scalar).
pub fn first_sample(query: &str, body: &Value) -> Result<f64, GateError> {
    let bad = |message: &str| GateError::Answer {
        query: query.to_string(),
        message: message.to_string(),
    };
    if body["status"] != "success" {
        let why = body["error"]
            .as_str()
            .unwrap_or("the answer is not a success");
        return Err(bad(why));
    }
    let data = &body["data"];
    let value = match data["resultType"].as_str() {
        Some("vector") => data["result"]
            .as_array()
            .and_then(|r| r.first())
            .map(|s| &s["value"][1])
            .ok_or_else(|| bad("no sample yet (an empty vector)"))?,
        Some("scalar") => &data["result"][1],
        other => return Err(bad(&format!("a {other:?} result has no single value"))),
    };
    value
        .as_str()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .ok_or_else(|| bad("the sample is not a finite number"))
}

/// Whether a sample passes the gate: below the threshold (the default: error rates,
/// latencies) or above it (success rates).
pub fn passes(gate: &MetricGate, sample: f64) -> bool {
    match gate.pass_when.unwrap_or(PassWhen::Below) {
        PassWhen::Below => sample < gate.threshold,
        PassWhen::Above => sample > gate.threshold,
    }
}

fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Runs one instant query and returns Prometheus's JSON answer.
pub async fn query(base: &str, promql: &str) -> Result<Value, GateError> {
    let rest = base
        .strip_prefix("http://")
        .ok_or_else(|| GateError::Address(base.to_string()))?;
    let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.is_empty() {
        return Err(GateError::Address(base.to_string()));
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let path = format!(
        "/{}api/v1/query?query={}",
        if prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", prefix.trim_end_matches('/'))
        },
        encode(promql)
    );
    let url = format!("http://{authority}{path}");
    let http = |message: String| GateError::Http {
        url: url.clone(),
        message,
    };
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .map_err(|e| http(e.to_string()))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| http(e.to_string()))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .map_err(|e| http(e.to_string()))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| http("no HTTP header in the answer".into()))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" && status != "400" && status != "422" {
        // 400/422 carry Prometheus's own error in JSON; anything else is the transport's.
        return Err(http(format!("HTTP {status}")));
    }
    if head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"))
    {
        body = dechunk(&body).ok_or_else(|| http("a broken chunked body".into()))?;
    }
    serde_json::from_slice(&body).map_err(|e| http(format!("not JSON: {e}")))
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

/// Queries the gate's Prometheus and gives the verdict.
pub async fn evaluate(gate: &MetricGate, default_base: &str) -> Result<bool, GateError> {
    let base = gate.prometheus.as_deref().unwrap_or(default_base);
    let body = query(base, &gate.query).await?;
    Ok(passes(gate, first_sample(&gate.query, &body)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gate(threshold: f64, pass_when: Option<PassWhen>) -> MetricGate {
        MetricGate {
            query: "q".into(),
            threshold,
            pass_when,
            prometheus: None,
        }
    }

    #[test]
    fn the_first_sample_of_a_vector_or_a_scalar_is_read() {
        let vector = json!({"status": "success", "data": {"resultType": "vector",
            "result": [{"metric": {}, "value": [1.7e9, "0.02"]}]}});
        assert_eq!(first_sample("q", &vector), Ok(0.02));
        let scalar =
            json!({"status": "success", "data": {"resultType": "scalar", "result": [1.7e9, "3"]}});
        assert_eq!(first_sample("q", &scalar), Ok(3.0));
        let empty = json!({"status": "success", "data": {"resultType": "vector", "result": []}});
        assert!(
            matches!(first_sample("q", &empty), Err(GateError::Answer { message, .. }) if message.contains("no sample"))
        );
        let error =
            json!({"status": "error", "errorType": "bad_data", "error": "parse error at char 3"});
        assert!(
            matches!(first_sample("q", &error), Err(GateError::Answer { message, .. }) if message.contains("parse error"))
        );
        let nan = json!({"status": "success", "data": {"resultType": "scalar", "result": [1.7e9, "NaN"]}});
        assert!(first_sample("q", &nan).is_err());
    }

    #[test]
    fn below_is_the_default_and_above_flips_it() {
        assert!(passes(&gate(0.05, None), 0.02));
        assert!(!passes(&gate(0.05, None), 0.05));
        assert!(passes(&gate(0.99, Some(PassWhen::Above)), 0.995));
        assert!(!passes(&gate(0.99, Some(PassWhen::Above)), 0.9));
    }

    #[test]
    fn chunked_bodies_are_put_back_together() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n").as_deref(),
            Some(&b"Wikipedia"[..])
        );
        assert_eq!(dechunk(b"4\r\nWi"), None);
        assert_eq!(
            encode("rate(x{a=\"b\"}[5m])"),
            "rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29"
        );
    }
}
