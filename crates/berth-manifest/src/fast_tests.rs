//! The fast path against the full parser: same trees, same positions, same errors, on
//! generated YAML in every style the fast path handles and many it declines.

use proptest::prelude::*;

use crate::load::{load_documents, parse_documents};
use crate::node::{Node, Pos, Value};

/// Trees must be identical; errors must be reported for the same documents (a syntax error
/// seen in a split-off document may be placed earlier than the whole-stream parser places
/// it, at the end of that document rather than at the next one's marker).
/// An empty block scalar at the very end of a document has no text to point at; the two
/// paths place it at the end of its line or at the next document's marker.
fn normalize(docs: Vec<crate::Document>) -> Vec<(usize, Node)> {
    fn walk(n: &mut Node) {
        match &mut n.value {
            Value::Str(s) if s.is_empty() => n.pos = Pos::default(),
            Value::Seq(items) => {
                items.iter_mut().for_each(walk);
                // A block sequence is placed at its first item.
                if items.first().is_some_and(|f| f.pos == Pos::default()) {
                    n.pos = Pos::default();
                }
            }
            Value::Map(m) => m.0.iter_mut().for_each(|e| walk(&mut e.value)),
            _ => {}
        }
    }
    docs.into_iter()
        .map(|d| {
            let mut n = d.root;
            walk(&mut n);
            (d.index, n)
        })
        .collect()
}

fn same_as_full_parser(text: &str) {
    let (full_docs, full_errs) = parse_documents("t.yaml", text, 0, 0);
    let (docs, errs) = load_documents("t.yaml", text);
    let (docs, full_docs) = (normalize(docs), normalize(full_docs));
    assert_eq!(docs, full_docs, "fast path differs on:\n{text}");
    let docs_of = |e: &[crate::LoadError]| e.iter().map(|e| e.document).collect::<Vec<_>>();
    assert_eq!(
        docs_of(&errs),
        docs_of(&full_errs),
        "errors differ on:\n{text}\n{errs:?}\n{full_errs:?}"
    );
}

#[derive(Debug, Clone)]
enum Tree {
    Scalar(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("plain".to_string()),
        Just("8080".to_string()),
        Just("-3".to_string()),
        Just("1.5".to_string()),
        Just("true".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just(String::new()),
        Just("yes".to_string()),
        Just("100m".to_string()),
        Just("a: b".to_string()),
        Just("#hash".to_string()),
        Just("x #y".to_string()),
        Just(" lead".to_string()),
        Just("trail ".to_string()),
        Just("it's".to_string()),
        Just("say \"hi\"".to_string()),
        Just("line1\nline2\n".to_string()),
        Just("line1\n\n  indented\n".to_string()),
        Just("héllo wörld".to_string()),
        Just("tab\there".to_string()),
        Just("-dash".to_string()),
        Just("- item".to_string()),
        Just("[x]".to_string()),
        Just("{y}".to_string()),
        Just("*star".to_string()),
        Just("&amp".to_string()),
        Just("a,b".to_string()),
        Just("0x1F".to_string()),
        Just("1e3".to_string()),
        "[a-z0-9./_-]{1,10}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-zA-Z0-9]{0,8}",
        Just("app.kubernetes.io/name".to_string()),
        Just("a b".to_string()),
        Just("1".to_string()),
        Just("true".to_string()),
        Just("-k".to_string()),
        Just("ké".to_string()),
        Just("x:y".to_string()),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    scalar()
        .prop_map(Tree::Scalar)
        .prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Tree::Seq),
                proptest::collection::vec((key(), inner), 0..5).prop_map(|mut kv| {
                    let mut seen = std::collections::HashSet::new();
                    kv.retain(|(k, _)| seen.insert(k.clone()));
                    Tree::Map(kv)
                }),
            ]
        })
}

/// How to write each node: chosen by a stream of booleans so proptest can shrink it.
struct Style<'a> {
    bits: &'a [bool],
    i: usize,
}

impl Style<'_> {
    fn pick(&mut self) -> bool {
        let b = self
            .bits
            .get(self.i % self.bits.len().max(1))
            .copied()
            .unwrap_or(false);
        self.i += 1;
        b
    }
}

fn plain_ok(s: &str) -> bool {
    !s.is_empty()
        && crate::node::resolve_plain(s) == crate::node::Value::Str(s.to_string())
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains(['\n', '\t', '"', '\''])
        && !s.starts_with([
            '-', '#', '[', ']', '{', '}', '*', '&', '!', '|', '>', '%', '@', '`', ',', '?', ':',
        ])
}

fn quote(s: &str, st: &mut Style) -> String {
    if st.pick() && !s.contains(['\n', '\t']) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}

fn scalar_text(s: &str, st: &mut Style) -> String {
    if plain_ok(s) && st.pick() {
        s.to_string()
    } else {
        quote(s, st)
    }
}

fn key_text(k: &str, st: &mut Style) -> String {
    if plain_ok(k) && !k.contains(':') && st.pick() {
        k.to_string()
    } else {
        quote(k, st)
    }
}

fn flow(t: &Tree, st: &mut Style) -> String {
    match t {
        Tree::Scalar(s) => {
            if plain_ok(s) && !s.contains([',', '[', ']', '{', '}', ':', '#']) && st.pick() {
                s.clone()
            } else {
                quote(s, st)
            }
        }
        Tree::Seq(items) => {
            let parts: Vec<String> = items.iter().map(|i| flow(i, st)).collect();
            format!("[{}]", parts.join(if st.pick() { ", " } else { "," }))
        }
        Tree::Map(kv) => {
            let parts: Vec<String> = kv
                .iter()
                .map(|(k, v)| format!("{}: {}", quote(k, st), flow(v, st)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Writes `t` as the value of something at indentation `ind`; `out` ends at the point where
/// the value goes (after `key:` or `- `).
fn block(t: &Tree, ind: usize, out: &mut String, st: &mut Style, in_seq: bool) {
    let pad = " ".repeat(ind);
    match t {
        Tree::Scalar(s) => {
            if s.ends_with('\n') && !s.trim_end_matches('\n').contains("\n\n\n") && st.pick() {
                out.push_str(" |");
                if !s.ends_with("\n\n") {
                    for line in s.trim_end_matches('\n').split('\n') {
                        out.push('\n');
                        if !line.is_empty() {
                            out.push_str(&pad);
                            out.push_str("  ");
                            out.push_str(line);
                        }
                    }
                    out.push('\n');
                    return;
                }
                out.pop();
                out.pop();
            }
            out.push(' ');
            out.push_str(&scalar_text(s, st));
            if st.pick() {
                out.push_str("  # note");
            }
            out.push('\n');
        }
        Tree::Seq(items) if items.is_empty() || st.pick() && st.pick() => {
            out.push(' ');
            out.push_str(&flow(t, st));
            out.push('\n');
        }
        Tree::Map(kv) if kv.is_empty() || st.pick() && st.pick() => {
            out.push(' ');
            out.push_str(&flow(t, st));
            out.push('\n');
        }
        Tree::Seq(items) => {
            out.push('\n');
            // Indentless sequences under a mapping key, as kubectl writes them.
            let item_ind = if !in_seq && st.pick() { ind } else { ind + 2 };
            for i in items {
                if st.pick() {
                    out.push_str(&" ".repeat(item_ind));
                    out.push_str("# comment\n");
                }
                out.push_str(&" ".repeat(item_ind));
                out.push('-');
                match i {
                    Tree::Map(kv) if !kv.is_empty() && st.pick() => {
                        // Compact mapping: first key on the dash line.
                        let inner = item_ind + 2;
                        for (n, (k, v)) in kv.iter().enumerate() {
                            if n == 0 {
                                out.push(' ');
                            } else {
                                out.push_str(&" ".repeat(inner));
                            }
                            out.push_str(&key_text(k, st));
                            out.push(':');
                            block(v, inner, out, st, false);
                        }
                    }
                    _ => block(i, item_ind, out, st, true),
                }
            }
        }
        Tree::Map(kv) => {
            out.push('\n');
            let inner = ind + 2;
            for (k, v) in kv {
                out.push_str(&" ".repeat(inner));
                out.push_str(&key_text(k, st));
                out.push(':');
                block(v, inner, out, st, false);
                if st.pick() && st.pick() {
                    out.push('\n');
                }
            }
        }
    }
}

fn document(t: &Tree, st: &mut Style) -> String {
    let mut out = String::new();
    match t {
        Tree::Map(kv) if !kv.is_empty() => {
            for (k, v) in kv {
                out.push_str(&key_text(k, st));
                out.push(':');
                block(v, 0, &mut out, st, false);
            }
        }
        Tree::Seq(items) if !items.is_empty() => {
            for i in items {
                out.push('-');
                block(i, 0, &mut out, st, true);
            }
        }
        other => {
            out.push_str(&flow(other, st));
            out.push('\n');
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1500,
        // Deterministic: the same cases on every run and machine.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0062_6572_7468),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fast_path_builds_what_the_full_parser_builds(
        docs in proptest::collection::vec(tree(), 1..4),
        bits in proptest::collection::vec(any::<bool>(), 1..64),
        lead in any::<bool>(),
    ) {
        let mut st = Style { bits: &bits, i: 0 };
        let mut text = String::new();
        if lead {
            text.push_str("# leading comment\n");
        }
        for (n, d) in docs.iter().enumerate() {
            if n > 0 || st.pick() {
                text.push_str("---\n");
            }
            text.push_str(&document(d, &mut st));
        }
        same_as_full_parser(&text);
    }

    #[test]
    fn fast_path_agrees_on_mangled_text(
        docs in proptest::collection::vec(tree(), 1..3),
        bits in proptest::collection::vec(any::<bool>(), 1..32),
        cut in any::<proptest::sample::Index>(),
        insert in prop_oneof![Just(" "), Just("\n"), Just("- "), Just(": "), Just("#"), Just("  "), Just("|"), Just("\""), Just("---\n")],
    ) {
        let mut st = Style { bits: &bits, i: 0 };
        let mut text = String::new();
        for d in &docs {
            text.push_str("---\n");
            text.push_str(&document(d, &mut st));
        }
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, insert);
        same_as_full_parser(&text);
    }
}

#[test]
fn fast_path_matches_on_kubectl_style_manifests() {
    let cases = [
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app.kubernetes.io/name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n        args: [\"--port\", \"8080\"]\n        command:\n        - /bin/sh\n        - -c\n        - |\n          echo hi\n          exec nginx\n        ports:\n        - containerPort: 8080\n          name: http\n",
        "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [\n    {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"x\": 1.5, \"y\": true, \"z\": null}}\n  ]\n}\n",
        "# c\n---\n---\na: 1\n---\n# only comment\n---\n- x\n- - y\n  - z\n- k: v\n  l: w\n",
        "a:\nb: 1\nc:   # comment\nd:\n  - x\ne: ~\nk: [a, b]\n",
        "a: |-\n  x\n\n  y\n\nb: 2\n",
    ];
    for c in cases {
        same_as_full_parser(c);
    }
}

#[test]
fn fast_path_is_taken_for_typical_manifests() {
    let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports:\n  - port: 80\n    name: http\n";
    assert!(matches!(
        crate::fast::parse(text, 1),
        Some(crate::fast::Parsed::Node(_))
    ));
}

#[test]
fn deep_nesting_is_declined_not_a_stack_overflow() {
    // A review found 15 KB of `[` aborting the process; both paths must answer with an error.
    for text in [
        format!("data: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
        format!("data: {}\n", "[".repeat(100_000)),
        (0..400)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect::<String>(),
    ] {
        let (docs, errs) = load_documents("deep.yaml", &text);
        assert!(
            docs.is_empty() && !errs.is_empty(),
            "deep input must be an error"
        );
    }
}

#[test]
fn long_keys_and_byte_order_marks_read_as_the_full_parser_reads_them() {
    same_as_full_parser(&format!("{}: 1\n", "k".repeat(1100)));
    same_as_full_parser("a: 1\n---\n\u{feff}b: 2\n");
    let (docs, errs) = load_documents("bom.yaml", "\u{feff}a: 1\n");
    assert!(errs.is_empty());
    assert_eq!(docs[0].root.get("a").and_then(Node::as_i64), Some(1));
}
