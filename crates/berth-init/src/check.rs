//! Start-order ready checks: `tcp://host:port` (a connection is accepted) and
//! `http://host[:port][/path]` (the answer's status is 200-399, as a kubelet probe counts it).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Something to wait for before the main command starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The text as given, for messages.
    pub text: String,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// For HTTP, the path (with query) to GET; `None` for a TCP check.
    pub http_path: Option<String>,
}

/// Why a check target could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// Not `tcp://` or `http://`.
    #[error("`{0}` needs a scheme: tcp://host:port or http://host[:port]/path")]
    NoScheme(String),
    /// https and anything else.
    #[error("scheme `{scheme}` in `{text}` is not supported; use tcp:// or http:// (no TLS)")]
    Scheme {
        /// The whole target.
        text: String,
        /// The scheme given.
        scheme: String,
    },
    /// No host.
    #[error("`{0}` has no host")]
    NoHost(String),
    /// A TCP target must name its port.
    #[error("`{0}` has no port; write tcp://host:port")]
    NoPort(String),
    /// The port is not a number from 1 to 65535.
    #[error("`{0}` has a bad port; use 1-65535")]
    BadPort(String),
}

impl Target {
    /// Parses `tcp://host:port` or `http://host[:port][/path]` (port 80 by default).
    pub fn parse(text: &str) -> Result<Target, TargetError> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| TargetError::NoScheme(text.to_string()))?;
        let http = match scheme {
            "tcp" => false,
            "http" => true,
            other => {
                return Err(TargetError::Scheme {
                    text: text.to_string(),
                    scheme: other.to_string(),
                });
            }
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = if let Some(after) = authority.strip_prefix('[') {
            // [v6 address]:port
            let (h, p) = after
                .split_once(']')
                .ok_or_else(|| TargetError::NoHost(text.to_string()))?;
            (h, p.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(TargetError::NoHost(text.to_string()));
        }
        let port = match (port, http) {
            (Some(p), _) => match p.parse::<u16>() {
                Ok(p) if p > 0 => p,
                _ => return Err(TargetError::BadPort(text.to_string())),
            },
            (None, true) => 80,
            (None, false) => return Err(TargetError::NoPort(text.to_string())),
        };
        let http_path = http.then(|| {
            if path.starts_with('/') {
                path.to_string()
            } else {
                format!("/{path}")
            }
        });
        Ok(Target {
            text: text.to_string(),
            host: host.to_string(),
            port,
            http_path,
        })
    }

    /// One attempt, bounded by `timeout`; `Err` says why the target is not ready yet.
    pub fn probe(&self, timeout: Duration) -> Result<(), String> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", self.host))?
            .collect();
        let mut last = format!("{} resolves to no address", self.host);
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(stream) => {
                    return match &self.http_path {
                        None => Ok(()),
                        Some(path) => self.http_get(stream, path, timeout),
                    };
                }
                Err(e) => last = format!("{addr}: {e}"),
            }
        }
        Err(last)
    }

    fn http_get(&self, mut stream: TcpStream, path: &str, timeout: Duration) -> Result<(), String> {
        let io = |e: std::io::Error| format!("http: {e}");
        stream.set_read_timeout(Some(timeout)).map_err(io)?;
        stream.set_write_timeout(Some(timeout)).map_err(io)?;
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {host}:{}\r\nUser-Agent: berth-init\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).map_err(io)?;
        // The status line fits in the first read or two; 512 bytes is plenty for it.
        let mut buf = [0u8; 512];
        let mut len = 0;
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).map_err(io)?;
            if n == 0 || buf[..len + n].contains(&b'\n') {
                len += n;
                break;
            }
            len += n;
        }
        match status_of(&buf[..len]) {
            Some(code) if (200..400).contains(&code) => Ok(()),
            Some(code) => Err(format!("http status {code}")),
            None => Err("no HTTP status line in the answer".to_string()),
        }
    }
}

/// The status code of an HTTP answer's first line (`HTTP/1.1 200 OK`).
pub fn status_of(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    parts.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str, host: &str, port: u16, path: Option<&str>) -> Target {
        Target {
            text: text.into(),
            host: host.into(),
            port,
            http_path: path.map(str::to_string),
        }
    }

    #[test]
    fn tcp_and_http_targets_parse_with_defaults() {
        let cases = [
            ("tcp://db:5432", t("tcp://db:5432", "db", 5432, None)),
            ("tcp://[::1]:80", t("tcp://[::1]:80", "::1", 80, None)),
            (
                "http://identity",
                t("http://identity", "identity", 80, Some("/")),
            ),
            (
                "http://identity:8080/healthz",
                t(
                    "http://identity:8080/healthz",
                    "identity",
                    8080,
                    Some("/healthz"),
                ),
            ),
            (
                "http://127.0.0.1:9/ready?full=1",
                t(
                    "http://127.0.0.1:9/ready?full=1",
                    "127.0.0.1",
                    9,
                    Some("/ready?full=1"),
                ),
            ),
            ("http://h?x", t("http://h?x", "h", 80, Some("/?x"))),
            (
                "http://[fe80::1]:81/",
                t("http://[fe80::1]:81/", "fe80::1", 81, Some("/")),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(Target::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_targets_are_refused_with_what_to_write() {
        let cases = [
            ("db:5432", TargetError::NoScheme("db:5432".into())),
            (
                "https://id/healthz",
                TargetError::Scheme {
                    text: "https://id/healthz".into(),
                    scheme: "https".into(),
                },
            ),
            ("tcp://db", TargetError::NoPort("tcp://db".into())),
            ("tcp://:5432", TargetError::NoHost("tcp://:5432".into())),
            ("tcp://db:0", TargetError::BadPort("tcp://db:0".into())),
            (
                "tcp://db:70000",
                TargetError::BadPort("tcp://db:70000".into()),
            ),
            ("http://db:x/", TargetError::BadPort("http://db:x/".into())),
        ];
        for (text, want) in cases {
            assert_eq!(Target::parse(text), Err(want), "{text}");
        }
    }

    #[test]
    fn status_lines_are_read_like_a_kubelet_probe() {
        let cases: &[(&[u8], Option<u16>)] = &[
            (b"HTTP/1.1 200 OK\r\n", Some(200)),
            (b"HTTP/1.0 503 Service Unavailable\r\nx", Some(503)),
            (b"HTTP/1.1 302", Some(302)),
            (b"SSH-2.0-OpenSSH\r\n", None),
            (b"", None),
        ];
        for (answer, want) in cases {
            assert_eq!(
                status_of(answer),
                *want,
                "{:?}",
                String::from_utf8_lossy(answer)
            );
        }
    }
}
