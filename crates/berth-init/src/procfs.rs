//! The process tree and socket ownership as `/proc` shows them: who descends from berth-init
//! (to signal every process of the container when berth-init is not PID 1) and which sockets
//! those processes hold (to find the app's listening ports).

use std::collections::{BTreeMap, BTreeSet};

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcEntry {
    /// Its pid.
    pub pid: i32,
    /// Its parent's pid.
    pub ppid: i32,
    /// Its process group.
    pub pgrp: i32,
    /// The state letter (R, S, D, Z, T, ...).
    pub state: char,
}

/// Parses `/proc/<pid>/stat`: `pid (comm) state ppid pgrp ...` (proc(5)). The command name may hold
/// spaces and parentheses, so the fields after it are found from the last `)`.
pub fn parse_stat(text: &str) -> Option<ProcEntry> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let mut rest = text.get(close + 1..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    let pgrp = rest.next()?.parse().ok()?;
    Some(ProcEntry {
        pid,
        ppid,
        pgrp,
        state,
    })
}

/// Every process in this PID namespace; processes that exit while it is read are skipped.
pub fn process_table() -> Vec<ProcEntry> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let name = e.ok()?.file_name();
        let pid: i32 = name.to_str()?.parse().ok()?;
        parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    })
    .collect()
}

/// The pids descending from `root` (children, their children, ...), not `root` itself.
pub fn descendants(table: &[ProcEntry], root: i32) -> Vec<i32> {
    let mut children: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for p in table {
        // pid 0 is the kernel's "no parent"; a self-parent would loop.
        if p.pid != p.ppid {
            children.entry(p.ppid).or_default().push(p.pid);
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    let mut seen = BTreeSet::from([root]);
    while let Some(pid) = stack.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(child) {
                out.push(child);
                stack.push(child);
            }
        }
    }
    out
}

/// The inode in a `/proc/<pid>/fd/N` link that points at a socket: `socket:[12345]`.
pub fn parse_socket_link(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The inodes of the sockets these processes hold open (unreadable processes are skipped).
pub fn socket_inodes(pids: &[i32]) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    for pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if let Ok(target) = std::fs::read_link(fd.path())
                && let Some(inode) = target.to_str().and_then(parse_socket_link)
            {
                out.insert(inode);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_parse_even_with_odd_command_names() {
        let cases = [
            (
                "1 (berth-init) S 0 1 1 0 -1",
                Some(ProcEntry {
                    pid: 1,
                    ppid: 0,
                    pgrp: 1,
                    state: 'S',
                }),
            ),
            (
                "42 (my prog) R 7 40 42 0",
                Some(ProcEntry {
                    pid: 42,
                    ppid: 7,
                    pgrp: 40,
                    state: 'R',
                }),
            ),
            // comm may itself contain ") Z 99 (" and must not fool the parser.
            (
                "43 (a) Z 99 (b) S 8 43 43",
                Some(ProcEntry {
                    pid: 43,
                    ppid: 8,
                    pgrp: 43,
                    state: 'S',
                }),
            ),
            (
                "44 (zombie) Z 1 44 44",
                Some(ProcEntry {
                    pid: 44,
                    ppid: 1,
                    pgrp: 44,
                    state: 'Z',
                }),
            ),
            ("garbage", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_stat(text), want, "{text}");
        }
    }

    #[test]
    fn descendants_include_grandchildren_but_not_other_trees() {
        let e = |pid, ppid| ProcEntry {
            pid,
            ppid,
            pgrp: pid,
            state: 'S',
        };
        // 10 is berth-init; 11, 12 its children; 13 a grandchild; 20 someone else's.
        let table = [
            e(1, 0),
            e(10, 1),
            e(11, 10),
            e(12, 10),
            e(13, 11),
            e(20, 1),
            e(21, 20),
        ];
        let mut got = descendants(&table, 10);
        got.sort();
        assert_eq!(got, [11, 12, 13]);
        assert!(descendants(&table, 13).is_empty());
    }

    #[test]
    fn only_socket_links_name_an_inode() {
        assert_eq!(parse_socket_link("socket:[54165785]"), Some(54165785));
        assert_eq!(parse_socket_link("pipe:[123]"), None);
        assert_eq!(parse_socket_link("/dev/null"), None);
    }

    #[test]
    fn this_process_appears_in_the_table_with_its_parent() {
        let me = std::process::id() as i32;
        let table = process_table();
        let entry = table.iter().find(|p| p.pid == me).expect("own entry");
        assert_eq!(entry.ppid, nix::unistd::getppid().as_raw());
    }

    #[test]
    fn a_listening_socket_of_this_process_is_found_by_inode() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let owned = socket_inodes(&[std::process::id() as i32]);
        let sockets = crate::proc_net::read_sockets().expect("read sockets");
        assert!(crate::proc_net::listening_ports(&sockets, Some(&owned)).contains(&port));
    }
}
