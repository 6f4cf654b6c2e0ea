//! TCP sockets of the current network namespace, read from `/proc/net/tcp` and `/proc/net/tcp6`.
//!
//! The format is the kernel's `Documentation/networking/proc_net_tcp.rst`: after a header line,
//! one socket a line, fields separated by spaces:
//!
//! ```text
//!   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//!   46: 010310AC:9C4C 030310AC:1770 01 00000150:00000000 01:00000019 00000000  1000        0 54165785 ...
//! ```
//!
//! Addresses are hex (IPv4 as 8 digits, IPv6 as 32), ports 4 hex digits, `st` the hex state
//! from `include/net/tcp_states.h` (01 ESTABLISHED, 0A LISTEN, ...), and the tenth field the
//! socket's inode, which links it to a process's `/proc/<pid>/fd/*` entry `socket:[inode]`.
//! `/proc/net` is `/proc/self/net`: a process sees the sockets of its own network namespace,
//! which is the pod's.

use std::collections::BTreeSet;

/// `TCP_ESTABLISHED` in `include/net/tcp_states.h`.
pub const ESTABLISHED: u8 = 0x01;
/// `TCP_LISTEN` in `include/net/tcp_states.h`.
pub const LISTEN: u8 = 0x0A;

/// The parts of one socket line that draining needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Socket {
    /// The local port.
    pub local_port: u16,
    /// The remote port (0 for a listening socket).
    pub remote_port: u16,
    /// The TCP state, as in `include/net/tcp_states.h`.
    pub state: u8,
    /// The socket's inode (0 for sockets no longer attached to a file, e.g. TIME_WAIT).
    pub inode: u64,
}

/// Parses one line of `/proc/net/tcp` or `/proc/net/tcp6`; `None` for the header and for
/// anything that is not a socket line.
pub fn parse_line(line: &str) -> Option<Socket> {
    let mut fields = line.split_whitespace();
    let slot = fields.next()?;
    // The header starts with "sl"; socket lines with "<number>:".
    slot.strip_suffix(':')?.parse::<u64>().ok()?;
    let local = fields.next()?;
    let remote = fields.next()?;
    let state = u8::from_str_radix(fields.next()?, 16).ok()?;
    // tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout come before the inode.
    let inode = fields.nth(5)?.parse::<u64>().ok()?;
    Some(Socket {
        local_port: port_of(local)?,
        remote_port: port_of(remote)?,
        state,
        inode,
    })
}

/// The port of an `ADDRESS:PORT` field, both hex.
fn port_of(field: &str) -> Option<u16> {
    let (addr, port) = field.rsplit_once(':')?;
    if !(addr.len() == 8 || addr.len() == 32) || !addr.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u16::from_str_radix(port, 16).ok()
}

/// Parses a whole file's text, skipping the header and any line that does not parse.
pub fn parse_table(text: &str) -> Vec<Socket> {
    text.lines().filter_map(parse_line).collect()
}

/// The ports sockets listen on; with `owned`, only the listening sockets whose inode is in it
/// (the sockets held by berth-init's own processes, so a sidecar sharing the pod's network
/// namespace is not waited for).
pub fn listening_ports(sockets: &[Socket], owned: Option<&BTreeSet<u64>>) -> BTreeSet<u16> {
    sockets
        .iter()
        .filter(|s| s.state == LISTEN)
        .filter(|s| owned.is_none_or(|o| o.contains(&s.inode)))
        .map(|s| s.local_port)
        .collect()
}

/// Established connections whose local port is one of `ports`: connections accepted by the
/// app's listeners (outgoing connections have ephemeral local ports and are not counted).
pub fn established_on(sockets: &[Socket], ports: &BTreeSet<u16>) -> usize {
    sockets
        .iter()
        .filter(|s| s.state == ESTABLISHED && ports.contains(&s.local_port))
        .count()
}

/// Reads the sockets of this process's network namespace (IPv4 and IPv6; a kernel without
/// IPv6 has no tcp6 file, which counts as no sockets).
pub fn read_sockets() -> std::io::Result<Vec<Socket>> {
    let mut sockets = parse_table(&std::fs::read_to_string("/proc/net/tcp")?);
    match std::fs::read_to_string("/proc/net/tcp6") {
        Ok(text) => sockets.extend(parse_table(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(sockets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_lines_parse_into_ports_state_and_inode() {
        struct Case {
            name: &'static str,
            line: &'static str,
            want: Option<Socket>,
        }
        let cases = [
            Case {
                // The example line of Documentation/networking/proc_net_tcp.rst:
                // local 172.16.3.1:40012 (0x9C4C), remote 172.16.3.3:6000 (0x1770), ESTABLISHED.
                name: "kernel documentation example",
                line: "  46: 010310AC:9C4C 030310AC:1770 01 00000150:00000000 01:00000019 00000000  1000        0 54165785 4 cd1e6040 25 4 27 3 -1",
                want: Some(Socket {
                    local_port: 0x9C4C,
                    remote_port: 0x1770,
                    state: ESTABLISHED,
                    inode: 54165785,
                }),
            },
            Case {
                // 127.0.0.1:3306 listening (0x0CEA = 3306), state 0A.
                name: "IPv4 listener on loopback",
                line: "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 20918 1 0000000000000000 100 0 0 10 0",
                want: Some(Socket {
                    local_port: 3306,
                    remote_port: 0,
                    state: LISTEN,
                    inode: 20918,
                }),
            },
            Case {
                // [::]:8080 (0x1F90) listening, from /proc/net/tcp6.
                name: "IPv6 listener on all addresses",
                line: "   1: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0",
                want: Some(Socket {
                    local_port: 8080,
                    remote_port: 0,
                    state: LISTEN,
                    inode: 31337,
                }),
            },
            Case {
                // TIME_WAIT (06) sockets have no inode any more.
                name: "TIME_WAIT without an inode",
                line: "   7: 0100007F:1F90 0100007F:D2F0 06 00000000:00000000 03:00000D2B 00000000     0        0 0 3 0000000000000000",
                want: Some(Socket {
                    local_port: 8080,
                    remote_port: 0xD2F0,
                    state: 0x06,
                    inode: 0,
                }),
            },
            Case {
                name: "the header line",
                line: "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                want: None,
            },
            Case {
                name: "an empty line",
                line: "",
                want: None,
            },
            Case {
                name: "a truncated line",
                line: "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000",
                want: None,
            },
            Case {
                name: "an address of the wrong length",
                line: "   0: 7F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1",
                want: None,
            },
        ];
        for c in cases {
            assert_eq!(parse_line(c.line), c.want, "{}", c.name);
        }
    }

    fn sock(local_port: u16, state: u8, inode: u64) -> Socket {
        Socket {
            local_port,
            remote_port: 40000,
            state,
            inode,
        }
    }

    #[test]
    fn only_established_connections_on_the_app_ports_are_counted() {
        let sockets = [
            sock(8080, LISTEN, 1),
            sock(8080, ESTABLISHED, 2),
            sock(8080, ESTABLISHED, 3),
            sock(8080, 0x06, 0),         // TIME_WAIT: already closed
            sock(8080, 0x08, 4),         // CLOSE_WAIT: the peer has gone
            sock(9090, ESTABLISHED, 5),  // another port
            sock(51234, ESTABLISHED, 6), // an outgoing connection from an ephemeral port
        ];
        let ports = BTreeSet::from([8080]);
        assert_eq!(established_on(&sockets, &ports), 2);
        assert_eq!(established_on(&sockets, &BTreeSet::new()), 0);
    }

    #[test]
    fn listening_ports_can_be_limited_to_sockets_the_processes_own() {
        let sockets = [
            sock(8080, LISTEN, 1),
            sock(15001, LISTEN, 2),
            sock(8080, ESTABLISHED, 3),
            sock(8443, LISTEN, 4),
        ];
        assert_eq!(
            listening_ports(&sockets, None),
            BTreeSet::from([8080, 8443, 15001])
        );
        // The sidecar's 15001 is not ours.
        let owned = BTreeSet::from([1, 3, 4]);
        assert_eq!(
            listening_ports(&sockets, Some(&owned)),
            BTreeSet::from([8080, 8443])
        );
    }

    #[test]
    fn a_whole_table_skips_the_header() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 20918 1 0000000000000000 100 0 0 10 0\n";
        assert_eq!(parse_table(text).len(), 1);
    }

    #[test]
    fn this_machine_s_proc_net_tcp_parses() {
        // Every line but the header must parse, or the format moved under us.
        let text = std::fs::read_to_string("/proc/net/tcp").expect("read /proc/net/tcp");
        let lines = text.lines().count();
        assert_eq!(parse_table(&text).len(), lines.saturating_sub(1));
    }
}
