//! From text to [`Node`] trees and Kubernetes [`Object`]s, one document at a time.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use granit_parser::{Event, Marker, Parser, ScalarStyle, StructureStyle};

use crate::node::{Entry, Map, Node, Pos, Value, resolve_plain};
use crate::path::{FieldPath, Seg};

/// Deepest nesting accepted; real manifests stay far below, and a bound keeps every later
/// recursive walk (conversion, drop) off the stack limit.
const MAX_DEPTH: usize = 200;
/// Most nodes that aliases may copy into one document (stops "billion laughs" inputs).
const MAX_ALIAS_NODES: usize = 200_000;

/// Input that could not be read as Kubernetes objects: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct LoadError {
    /// The file as the user named it (`-` for standard input).
    pub file: String,
    /// 0-based index of the document in a multi-document stream, when known.
    pub document: Option<usize>,
    /// Where the problem is.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is something to say.
    pub hint: Option<String>,
    /// What kind of problem it is.
    pub kind: LoadErrorKind,
}

/// What kind of input problem a [`LoadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadErrorKind {
    /// Not text: NUL bytes or invalid UTF-8.
    Binary,
    /// Text that is not valid YAML or JSON.
    Syntax,
    /// An unrendered Helm or Go template.
    Template,
    /// Valid YAML that is not a Kubernetes object (no `apiVersion`/`kind`, not a mapping):
    /// `values.yaml`, `Chart.yaml`, CI workflows.
    NotAnObject,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.pos.line, self.pos.col)?;
        if let Some(d) = self.document {
            write!(f, "document {}: ", d + 1)?;
        }
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// A mapping key written twice in one mapping. The last value wins, as kubectl reads it
/// (kubernetes/kubernetes#125885); the first is silently lost.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateKey {
    /// Path of the repeated key.
    pub path: FieldPath,
    /// Where it is first written.
    pub first: Pos,
    /// Where it is written again (the value in effect).
    pub second: Pos,
}

/// One document of a YAML/JSON stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based index in the stream.
    pub index: usize,
    /// Its tree.
    pub root: Node,
    /// Keys written twice.
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// One Kubernetes object read from a file, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The file it was read from.
    pub file: Arc<str>,
    /// 0-based document index within the file.
    pub document: usize,
    /// Index within a `kind: List` document's `items`, when it came from one.
    pub item: Option<usize>,
    /// The object's tree.
    pub node: Node,
    /// Keys written twice in the object (paths from the object's root).
    pub duplicate_keys: Vec<DuplicateKey>,
}

impl Object {
    /// `apiVersion`, or `""`.
    pub fn api_version(&self) -> &str {
        self.node
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    /// `kind`, or `""`.
    pub fn kind(&self) -> &str {
        self.node.get("kind").and_then(Node::as_str).unwrap_or("")
    }

    /// `metadata.name`, or `""`.
    pub fn name(&self) -> &str {
        self.node
            .path(&["metadata", "name"])
            .and_then(Node::as_str)
            .unwrap_or("")
    }

    /// `metadata.namespace`, if set.
    pub fn namespace(&self) -> Option<&str> {
        self.node
            .path(&["metadata", "namespace"])
            .and_then(Node::as_str)
    }

    /// One annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.node
            .path(&["metadata", "annotations", key])
            .and_then(Node::as_str)
    }

    /// One label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.node
            .path(&["metadata", "labels", key])
            .and_then(Node::as_str)
    }
}

/// Reads raw bytes: rejects binary data and invalid UTF-8 with a position, then
/// [`load_objects`].
pub fn load_bytes(file: &str, bytes: &[u8]) -> (Vec<Object>, Vec<LoadError>) {
    match decode_text(file, bytes) {
        Ok(text) => load_objects(file, text),
        Err(e) => (Vec::new(), vec![e]),
    }
}

/// The bytes as text, or an error with the position of the first NUL byte or invalid UTF-8
/// sequence. A UTF-8 byte-order mark is skipped.
pub fn decode_text<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, LoadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bad = |at: usize, message: String| {
        let before = &bytes[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let col = at
            - before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        LoadError {
            file: file.to_string(),
            document: None,
            pos: Pos {
                line: line as u32,
                col: col as u32,
            },
            message,
            hint: Some("berth reads Kubernetes objects as UTF-8 YAML or JSON text".into()),
            kind: LoadErrorKind::Binary,
        }
    };
    if let Some(at) = bytes.iter().position(|b| *b == 0) {
        return Err(bad(at, "binary data (a NUL byte), not YAML or JSON".into()));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        bad(
            e.valid_up_to(),
            "invalid UTF-8: this is not a text file".into(),
        )
    })
}

/// Reads every document of a YAML/JSON stream as a tree. Empty documents are skipped; a
/// document that fails to parse yields an error and reading goes on with the next one.
///
/// Documents are split at their `---` markers and each goes through [`crate::fast`] first;
/// what the fast path declines goes through the full YAML parser.
pub fn load_documents(file: &str, text: &str) -> (Vec<Document>, Vec<LoadError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(chunks) = split_json_stream(text).or_else(|| split_documents(text)) else {
        return parse_documents(file, text, 0, 0);
    };
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    for c in chunks {
        let body = &text[c.body..c.end];
        match crate::fast::parse(body, c.body_line) {
            Some(crate::fast::Parsed::Node(root)) => docs.push(Document {
                index: c.index,
                root,
                duplicate_keys: Vec::new(),
            }),
            Some(crate::fast::Parsed::Empty) => {}
            None => {
                let (d, e) =
                    parse_documents(file, &text[c.start..c.end], c.start_line - 1, c.index);
                docs.extend(d);
                errors.extend(e);
            }
        }
    }
    (docs, errors)
}

/// One document of a stream, by byte ranges.
struct Chunk {
    /// Document index in the stream.
    index: usize,
    /// Whether it starts with a `---` line.
    explicit: bool,
    /// Start of the chunk (its `---` line, if any).
    start: usize,
    /// 1-based line of `start`.
    start_line: u32,
    /// Start of the content after the `---` line.
    body: usize,
    /// 1-based line of `body`.
    body_line: u32,
    /// End of the chunk.
    end: usize,
}

/// Splits concatenated JSON values (`{...}\n{...}`, as `kubectl get -o json` of several
/// resources, `jq -c` or API watch output gives), which kubectl reads one after another.
/// `None` unless there are at least two values, each starting on its own line.
fn split_json_stream(text: &str) -> Option<Vec<Chunk>> {
    let b = text.as_bytes();
    let first = b.iter().position(|c| !c.is_ascii_whitespace())?;
    if !matches!(b[first], b'{' | b'[') {
        return None;
    }
    let mut chunks = Vec::new();
    let mut i = first;
    let mut line = 1 + b[..first].iter().filter(|c| **c == b'\n').count() as u32;
    while i < b.len() {
        // Values must start a line, so that columns in the split-off text stay right.
        let line_start = b[..i]
            .iter()
            .rposition(|c| *c == b'\n')
            .map_or(0, |p| p + 1);
        if !b[line_start..i].iter().all(|c| *c == b' ') || !matches!(b[i], b'{' | b'[') {
            return None;
        }
        let (mut depth, mut in_str, mut esc) = (0usize, false, false);
        let mut end = None;
        let mut newlines = 0u32;
        for (k, &c) in b.iter().enumerate().skip(i) {
            if c == b'\n' {
                newlines += 1;
            }
            if in_str {
                match (esc, c) {
                    (true, _) => esc = false,
                    (false, b'\\') => esc = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        end = Some(k + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end?;
        chunks.push(Chunk {
            index: chunks.len(),
            explicit: true,
            start: line_start,
            start_line: line,
            body: line_start,
            body_line: line,
            end,
        });
        line += newlines;
        i = end;
        while i < b.len() && b[i].is_ascii_whitespace() {
            if b[i] == b'\n' {
                line += 1;
            }
            i += 1;
        }
    }
    (chunks.len() > 1).then_some(chunks)
}

/// Splits a stream at `---` lines, numbering documents as the YAML parser does; `None` when
/// the stream uses anything that makes splitting by lines unsafe (directives, `...`, content
/// on a `---` line).
fn split_documents(text: &str) -> Option<Vec<Chunk>> {
    let mut chunks = Vec::new();
    let mut cur = Chunk {
        index: 0,
        explicit: false,
        start: 0,
        start_line: 1,
        body: 0,
        body_line: 1,
        end: text.len(),
    };
    let mut first_has_content = false;
    let mut offset = 0;
    for (line_no, line) in (1u32..).zip(text.split_inclusive('\n')) {
        let l = line.trim_end_matches(['\n', '\r']);
        if l.starts_with('%') || l.starts_with("...") {
            return None;
        }
        if l == "---" || l.starts_with("--- ") || l.starts_with("---\t") {
            let after = l[3..].trim();
            if !(after.is_empty() || after.starts_with('#')) {
                return None;
            }
            cur.end = offset;
            let keep = cur.explicit || first_has_content;
            let next_index = if keep { cur.index + 1 } else { cur.index };
            if keep {
                chunks.push(cur);
            }
            cur = Chunk {
                index: next_index,
                explicit: true,
                start: offset,
                start_line: line_no,
                body: offset + line.len(),
                body_line: line_no + 1,
                end: text.len(),
            };
        } else if !cur.explicit && !first_has_content {
            let t = l.trim_start();
            first_has_content = !(t.is_empty() || t.starts_with('#'));
        }
        offset += line.len();
    }
    cur.end = text.len();
    if cur.explicit || first_has_content {
        chunks.push(cur);
    }
    Some(chunks)
}

/// The full YAML parser over `text`, whose first line is line `line_offset + 1` of the file
/// and whose first document is document `doc_offset`.
pub(crate) fn parse_documents(
    file: &str,
    text: &str,
    line_offset: u32,
    doc_offset: usize,
) -> (Vec<Document>, Vec<LoadError>) {
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::new();
    // The document being read, and the index the next one gets. A document that fails
    // before its start event is still counted, so later documents keep their numbers.
    let mut current: Option<usize> = None;
    // The document that just ended: junk after its end is reported as part of it.
    let mut ended: Option<usize> = None;
    let mut next_index = 0usize;
    while let Some(next) = parser.next_event() {
        let step = next
            .map_err(|e| (pos(e.marker(), line_offset), syntax_message(&e.info())))
            .and_then(|(event, span)| match event {
                Event::DocumentStart(..) => {
                    ended = None;
                    current = Some(next_index);
                    next_index += 1;
                    builder = Builder::new();
                    Ok(None)
                }
                Event::DocumentEnd => {
                    ended = current;
                    Ok(builder
                        .root
                        .take()
                        .map(|root| (root, std::mem::take(&mut builder.duplicates))))
                }
                Event::StreamStart | Event::StreamEnd => Ok(None),
                other => builder
                    .event(other, pos(&span.start, line_offset))
                    .map(|()| None),
            });
        match step {
            Ok(Some((root, duplicate_keys))) => {
                if !root.is_null() {
                    docs.push(Document {
                        index: doc_offset + current.unwrap_or(0),
                        root,
                        duplicate_keys,
                    });
                }
                current = None;
            }
            Ok(None) => {}
            Err((at, message)) => {
                let d = current.take().or(ended.take()).unwrap_or_else(|| {
                    next_index += 1;
                    next_index - 1
                });
                let template = template_hint(text);
                errors.push(LoadError {
                    file: file.to_string(),
                    document: Some(doc_offset + d),
                    pos: at,
                    message,
                    kind: if template.is_some() {
                        LoadErrorKind::Template
                    } else {
                        LoadErrorKind::Syntax
                    },
                    hint: template.or_else(|| {
                        Some("fix the YAML syntax at this position; `yamllint` shows more".into())
                    }),
                });
                builder = Builder::new();
                match parser.proceed_next_document() {
                    Ok(true) => {}
                    Ok(false) | Err(_) => break,
                }
            }
        }
    }
    (docs, errors)
}

/// Reads every Kubernetes object of a YAML/JSON stream. `kind: List` documents (and every
/// `*List` kind with `items`, as `kubectl get -o json` prints) are flattened into their items.
pub fn load_objects(file: &str, text: &str) -> (Vec<Object>, Vec<LoadError>) {
    let (docs, mut errors) = load_documents(file, text);
    let file_arc: Arc<str> = Arc::from(file);
    let mut objects = Vec::with_capacity(docs.len());
    for Document {
        index: document,
        root,
        duplicate_keys,
    } in docs
    {
        let is_list = root
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && root.get("items").is_some();
        if is_list {
            let Node {
                value: Value::Map(map),
                ..
            } = root
            else {
                continue;
            };
            for entry in map.0 {
                if entry.key != "items" {
                    continue;
                }
                let items = match entry.value.value {
                    Value::Seq(items) => items,
                    Value::Null => Vec::new(),
                    _ => {
                        errors.push(LoadError {
                            file: file.to_string(),
                            document: Some(document),
                            pos: entry.value.pos,
                            message: format!(
                                "`items` of a List must be a sequence, found {}",
                                entry.value.type_name()
                            ),
                            hint: None,
                            kind: LoadErrorKind::NotAnObject,
                        });
                        continue;
                    }
                };
                for (i, item) in items.into_iter().enumerate() {
                    match check_object(&item) {
                        Ok(()) => objects.push(Object {
                            file: file_arc.clone(),
                            document,
                            item: Some(i),
                            node: item,
                            // Duplicates inside this item, with paths from the item's root.
                            duplicate_keys: duplicate_keys
                                .iter()
                                .filter_map(|d| match d.path.0.as_slice() {
                                    [Seg::Key(k), Seg::Index(j), rest @ ..]
                                        if k == "items" && *j == i =>
                                    {
                                        Some(DuplicateKey {
                                            path: FieldPath(rest.to_vec()),
                                            ..d.clone()
                                        })
                                    }
                                    _ => None,
                                })
                                .collect(),
                        }),
                        Err((at, message, hint)) => errors.push(LoadError {
                            file: file.to_string(),
                            document: Some(document),
                            pos: at,
                            message: format!("items[{i}]: {message}"),
                            hint,
                            kind: LoadErrorKind::NotAnObject,
                        }),
                    }
                }
            }
            continue;
        }
        match check_object(&root) {
            Ok(()) => objects.push(Object {
                file: file_arc.clone(),
                document,
                item: None,
                node: root,
                duplicate_keys,
            }),
            Err((at, message, hint)) => errors.push(LoadError {
                file: file.to_string(),
                document: Some(document),
                pos: at,
                message,
                kind: if template_hint(text).is_some() {
                    LoadErrorKind::Template
                } else {
                    LoadErrorKind::NotAnObject
                },
                hint: hint.or_else(|| template_hint(text)),
            }),
        }
    }
    (objects, errors)
}

type ObjectProblem = (Pos, String, Option<String>);

fn check_object(node: &Node) -> Result<(), ObjectProblem> {
    let Some(map) = node.as_map() else {
        return Err((
            node.pos,
            format!(
                "not a Kubernetes object: the document is {}",
                node.type_name()
            ),
            Some(
                "a Kubernetes object is a mapping with `apiVersion`, `kind` and `metadata`".into(),
            ),
        ));
    };
    for field in ["apiVersion", "kind"] {
        match map.get(field) {
            None => {
                return Err((
                    node.pos,
                    format!("not a Kubernetes object: `{field}` is missing"),
                    Some(format!(
                        "add `{field}:` (for example `apiVersion: apps/v1` and `kind: Deployment`)"
                    )),
                ));
            }
            Some(v) if v.as_str().is_none_or(str::is_empty) => {
                return Err((
                    v.pos,
                    format!(
                        "`{field}` must be a non-empty string, found {}",
                        v.type_name()
                    ),
                    None,
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn template_hint(text: &str) -> Option<String> {
    (text.contains("{{") && text.contains("}}")).then(|| {
        "this looks like a Helm or Go template; render it first (`helm template . | berth doctor -`)"
            .into()
    })
}

fn syntax_message(info: &str) -> String {
    format!("invalid YAML: {info}")
}

fn pos(m: &Marker, line_offset: u32) -> Pos {
    Pos {
        line: m.line() as u32 + line_offset,
        col: m.col() as u32 + 1,
    }
}

enum Frame {
    Seq {
        pos: Pos,
        items: Vec<Node>,
        anchor: usize,
        block: bool,
    },
    Map {
        pos: Pos,
        entries: Vec<Entry>,
        /// The pending key, and whether it was written plain (only a plain `<<` merges).
        key: Option<(String, Pos, bool)>,
        merges: Vec<Node>,
        anchor: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    alias_nodes: usize,
    /// Whether the scalar being completed was written plain and untagged.
    plain_scalar: bool,
    /// Keys written twice in this document.
    duplicates: Vec<DuplicateKey>,
}

type Step = Result<(), (Pos, String)>;

impl Builder {
    fn new() -> Self {
        Self {
            stack: Vec::new(),
            root: None,
            anchors: HashMap::new(),
            alias_nodes: 0,
            plain_scalar: false,
            duplicates: Vec::new(),
        }
    }

    fn event(&mut self, event: Event<'_>, at: Pos) -> Step {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag_suffix = tag
                    .as_ref()
                    .and_then(|t| t.core_suffix().map(str::to_string));
                let value = match (style, tag_suffix.as_deref()) {
                    (_, Some("str")) => Value::Str(text.into_owned()),
                    (ScalarStyle::Plain, _) => resolve_plain(&text),
                    _ => Value::Str(text.into_owned()),
                };
                self.plain_scalar = style == ScalarStyle::Plain && tag_suffix.is_none();
                self.complete(Node::new(at, value), anchor)
            }
            Event::SequenceStart(style, anchor, _) => self.open(Frame::Seq {
                pos: at,
                items: Vec::new(),
                anchor,
                block: style == StructureStyle::Block,
            }),
            Event::MappingStart(_, anchor, _) => self.open(Frame::Map {
                pos: at,
                entries: Vec::new(),
                key: None,
                merges: Vec::new(),
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Err((at, "unbalanced end of collection".into()));
                };
                let (node, anchor) = match frame {
                    Frame::Seq {
                        pos,
                        items,
                        anchor,
                        block,
                    } => {
                        // A block sequence is located at its first item: the parser's own
                        // start marker for a sequence under a key varies with comments and
                        // indentation, and the item is what a user looks for.
                        let pos = match items.first() {
                            Some(first) if block => first.pos,
                            _ => pos,
                        };
                        (Node::new(pos, Value::Seq(items)), anchor)
                    }
                    Frame::Map {
                        pos,
                        mut entries,
                        merges,
                        anchor,
                        ..
                    } => {
                        merge_into(&mut entries, merges);
                        (Node::new(pos, Value::Map(Map(entries))), anchor)
                    }
                };
                self.complete(node, anchor)
            }
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id) else {
                    return Err((at, "alias to an unknown anchor".into()));
                };
                self.alias_nodes += count_nodes(node);
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err((
                        at,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    ));
                }
                let mut copy = node.clone();
                copy.pos = at;
                self.complete(copy, 0)
            }
            _ => Ok(()),
        }
    }

    fn open(&mut self, frame: Frame) -> Step {
        if self.stack.len() >= MAX_DEPTH {
            let at = match &frame {
                Frame::Seq { pos, .. } | Frame::Map { pos, .. } => *pos,
            };
            return Err((at, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// The path of the value being completed (the pending key of the innermost mapping).
    fn pending_path(&self) -> FieldPath {
        FieldPath(
            self.stack
                .iter()
                .filter_map(|f| match f {
                    Frame::Map { key, .. } => key.as_ref().map(|(k, _, _)| Seg::Key(k.clone())),
                    Frame::Seq { items, .. } => Some(Seg::Index(items.len())),
                })
                .collect(),
        )
    }

    fn complete(&mut self, node: Node, anchor: usize) -> Step {
        let plain = std::mem::take(&mut self.plain_scalar);
        let duplicate_path = match self.stack.last() {
            Some(Frame::Map {
                entries,
                key: Some((k, _, plain_key)),
                ..
            }) if !(k == "<<" && *plain_key) && entries.iter().any(|e| &e.key == k) => {
                Some(self.pending_path())
            }
            _ => None,
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries,
                key,
                merges,
                ..
            }) => match key.take() {
                None => {
                    let text = match node.value {
                        Value::Str(s) => s,
                        Value::Null => "null".to_string(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err((
                                node.pos,
                                "a mapping key must be a scalar; complex keys are not Kubernetes YAML"
                                    .into(),
                            ));
                        }
                        other => Node::new(node.pos, other).scalar_text().unwrap_or_default(),
                    };
                    *key = Some((text, node.pos, plain));
                    Ok(())
                }
                Some((k, key_pos, plain_key)) => {
                    if k == "<<" && plain_key {
                        merges.push(node);
                        return Ok(());
                    }
                    if let Some(prev) = entries.iter_mut().find(|e| e.key == k) {
                        // kubectl keeps the last value; record that the first was lost.
                        self.duplicates.push(DuplicateKey {
                            path: duplicate_path.unwrap_or_default(),
                            first: prev.key_pos,
                            second: key_pos,
                        });
                        *prev = Entry {
                            key: k,
                            key_pos,
                            value: node,
                        };
                        return Ok(());
                    }
                    entries.push(Entry {
                        key: k,
                        key_pos,
                        value: node,
                    });
                    Ok(())
                }
            },
        }
    }
}

/// YAML merge keys (`<<: *base`): explicit entries win, earlier sources win over later ones.
fn merge_into(entries: &mut Vec<Entry>, merges: Vec<Node>) {
    for source in merges {
        let maps: Vec<Node> = match source.value {
            Value::Seq(items) => items,
            _ => vec![source],
        };
        for m in maps {
            if let Value::Map(Map(src)) = m.value {
                for e in src {
                    if !entries.iter().any(|x| x.key == e.key) {
                        entries.push(e);
                    }
                }
            }
        }
    }
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(m) => m.iter().map(|e| count_nodes(&e.value)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_document_of_a_stream_becomes_an_object_with_its_line() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n";
        let (objs, errs) = load_objects("f.yaml", text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].name(), "a");
        assert_eq!(objs[1].kind(), "Deployment");
        assert_eq!(objs[1].document, 2);
        assert_eq!(objs[1].node.get("kind").map(|n| n.pos.line), Some(9));
    }

    #[test]
    fn a_broken_document_does_not_hide_the_next_one() {
        let text = "apiVersion: v1\nkind: [unclosed\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n";
        let (objs, errs) = load_objects("f.yaml", text);
        assert_eq!(objs.len(), 1, "{errs:?}");
        assert_eq!(objs[0].name(), "ok");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].document, Some(0));
        assert!(errs[0].to_string().starts_with("f.yaml:"), "{}", errs[0]);
    }

    #[test]
    fn kubectl_list_dumps_are_flattened_into_items() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","namespace":"x"}},
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}]}"#;
        let (objs, errs) = load_objects("dump.json", text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].namespace(), Some("x"));
        assert_eq!(objs[1].item, Some(1));
        assert_eq!(objs[1].node.pos.line, 3);
    }

    #[test]
    fn concatenated_json_objects_are_read_one_after_another() {
        // kubectl's YAMLOrJSONDecoder reads a stream of JSON values.
        let text = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"s1\"}}\n{\"apiVersion\":\"v1\",\n \"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"s2\"}}\n";
        let (objs, errs) = load_objects("s.json", text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].name(), "s2");
        assert_eq!(objs[1].document, 1);
        assert_eq!(objs[1].node.get("kind").map(|n| n.pos.line), Some(3));
    }

    #[test]
    fn helm_templates_are_named_as_such() {
        let text =
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: {{ .Values.replicas }}\n";
        let (_, errs) = load_objects("t.yaml", text);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().contains("helm template"), "{}", errs[0]);
        assert_eq!(errs[0].pos.line, 4);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_and_are_recorded() {
        // kubectl (sigs.k8s.io/yaml) keeps the last value of a repeated key.
        let text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 3\n  replicas: 2\n";
        let (objs, errs) = load_objects("d.yaml", text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            objs[0]
                .node
                .path(&["spec", "replicas"])
                .and_then(Node::as_i64),
            Some(2)
        );
        let d = &objs[0].duplicate_keys;
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path.to_string(), "spec.replicas");
        assert_eq!((d[0].first.line, d[0].second.line), (4, 5));
        let list = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"kind\": \"Pod\"}]}";
        let (objs, _) = load_objects("l.json", list);
        assert_eq!(objs[0].duplicate_keys[0].path.to_string(), "kind");
    }

    #[test]
    fn binary_input_is_refused_with_a_position() {
        let (objs, errs) = load_bytes("b.bin", b"apiVersion: v1\n\x00\x01\x02");
        assert!(objs.is_empty());
        assert_eq!(errs[0].pos.line, 2);
        assert!(errs[0].message.contains("binary"));
    }

    #[test]
    fn a_document_that_is_not_an_object_says_what_is_missing() {
        let (_, errs) = load_objects("x.yaml", "foo: bar\n---\n- a\n- b\n");
        assert_eq!(errs.len(), 2);
        assert!(errs[0].message.contains("`apiVersion` is missing"));
        assert!(errs[1].message.contains("a sequence"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys_resolve() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: &l {a: '1'}\n  annotations:\n    <<: *l\n    b: '2'\n";
        let (objs, errs) = load_objects("m.yaml", text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(objs[0].annotation("a"), Some("1"));
        assert_eq!(objs[0].annotation("b"), Some("2"));
    }

    #[test]
    fn only_a_plain_merge_key_merges() {
        let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  '<<': literal\n";
        let (objs, errs) = load_objects("q.yaml", text);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(
            objs[0].node.path(&["data", "<<"]).and_then(Node::as_str),
            Some("literal")
        );
    }

    #[test]
    fn alias_bombs_are_stopped() {
        let mut text = String::from(
            "apiVersion: v1\nkind: ConfigMap\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
        );
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let (_, errs) = load_objects("bomb.yaml", &text);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("aliases expand"), "{}", errs[0]);
    }
}
