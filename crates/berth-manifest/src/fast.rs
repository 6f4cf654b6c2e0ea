//! A fast path for the YAML that Kubernetes manifests are made of.
//!
//! Block mappings and sequences, single-line plain and quoted scalars, literal block
//! scalars, comments, and flow collections (JSON included, over several lines). Anything
//! else (anchors, tags, folded or multi-line scalars, complex keys, unusual indentation, any
//! error) makes [`parse`] return `None`, and the caller parses the document with the full
//! YAML parser instead, which also produces the error messages. The two paths build the
//! same trees with the same positions; a differential property test holds them to it.
//!
//! Why: the general parser runs at about 45 MB/s here, a third of the doctor's budget of
//! 50,000 objects per second; this path runs several times faster on the same input.

use crate::node::{Entry, Map, Node, Pos, Value, resolve_plain};

/// What a document chunk held.
pub(crate) enum Parsed {
    /// A document.
    Node(Node),
    /// Only blank lines and comments.
    Empty,
}

/// One line of the chunk.
struct Line<'a> {
    /// Full text without the line break.
    text: &'a str,
    /// Whether the line is ASCII (then a column is a byte offset).
    ascii: bool,
    /// Byte offset of the line in the chunk.
    start: usize,
    /// Leading spaces; `None` for blank or comment-only lines.
    indent: Option<usize>,
}

struct Fast<'a> {
    src: &'a str,
    lines: Vec<Line<'a>>,
    /// Absolute line number of `lines[0]`.
    first_line: u32,
    /// Current line.
    i: usize,
    /// A column where the current line's content starts instead of its indentation
    /// (the content after `- ` in a sequence item).
    virt: Option<(usize, usize)>,
    /// Current nesting of block collections.
    depth: usize,
    /// The last (line, byte, characters) counted on a non-ASCII line: positions are asked
    /// for in increasing order, so counting resumes there instead of from the line start
    /// (a single-line JSON document would otherwise cost quadratic time).
    chars_at: std::cell::Cell<(usize, usize, usize)>,
}

/// Deeper nesting is left to the full parser, which reports it as an error; keeps this
/// path's recursion far from the stack limit.
const MAX_DEPTH: usize = 150;
/// YAML limits implicit keys to 1024 characters.
const MAX_KEY: usize = 1024;

/// Parses one document chunk, or `None` when it needs the full parser.
pub(crate) fn parse(src: &str, first_line: u32) -> Option<Parsed> {
    if src.contains(['\t', '\r', '\u{feff}']) {
        return None;
    }
    let mut lines = Vec::new();
    let mut start = 0;
    for text in src.split('\n') {
        let trimmed = text.trim_start_matches(' ');
        let indent = if trimmed.is_empty() || trimmed.starts_with('#') {
            None
        } else {
            Some(text.len() - trimmed.len())
        };
        lines.push(Line {
            text,
            ascii: text.is_ascii(),
            start,
            indent,
        });
        start += text.len() + 1;
    }
    let mut f = Fast {
        src,
        lines,
        first_line,
        i: 0,
        virt: None,
        depth: 0,
        chars_at: std::cell::Cell::new((usize::MAX, 0, 0)),
    };
    f.skip_blank();
    if f.i >= f.lines.len() {
        return Some(Parsed::Empty);
    }
    let ind = f.indent(f.i)?;
    let text = f.rest(f.i, ind);
    let node = if text.starts_with(['{', '[']) {
        let (node, end) = f.flow_at(f.lines[f.i].start + ind, 0)?;
        f.finish_flow(end)?;
        node
    } else {
        f.block(ind)?
    };
    f.skip_blank();
    if f.i < f.lines.len() {
        return None;
    }
    Some(Parsed::Node(node))
}

fn is_blank_rest(s: &str) -> bool {
    let t = s.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && (t.len() < s.len() || s.is_empty()))
}

impl<'a> Fast<'a> {
    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && self.lines[self.i].indent.is_none() {
            self.i += 1;
        }
    }

    fn indent(&self, i: usize) -> Option<usize> {
        match self.virt {
            Some((vi, col)) if vi == i => Some(col),
            _ => self.lines[i].indent,
        }
    }

    fn rest(&self, i: usize, col: usize) -> &'a str {
        &self.lines[i].text[col..]
    }

    fn pos(&self, i: usize, byte_col: usize) -> Pos {
        let line = &self.lines[i];
        let col = if line.ascii {
            byte_col
        } else {
            let (li, b, c) = self.chars_at.get();
            let (from_b, from_c) = if li == i && b <= byte_col {
                (b, c)
            } else {
                (0, 0)
            };
            let c = from_c + line.text[from_b..byte_col].chars().count();
            self.chars_at.set((i, byte_col, c));
            c
        };
        Pos {
            line: self.first_line + i as u32,
            col: col as u32 + 1,
        }
    }

    /// Line index and column of a byte offset in the chunk.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let i = self
            .lines
            .partition_point(|l| l.start <= offset)
            .saturating_sub(1);
        (i, offset - self.lines[i].start)
    }

    /// A block mapping or sequence whose first line is the current one, at column `ind`.
    fn block(&mut self, ind: usize) -> Option<Node> {
        let text = self.rest(self.i, ind);
        if text == "-" || text.starts_with("- ") {
            self.seq(ind, false)
        } else if key_end(text).is_some() {
            self.map(ind)
        } else {
            None
        }
    }

    /// Enters one more level of nesting, or declines past [`MAX_DEPTH`].
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn map(&mut self, ind: usize) -> Option<Node> {
        self.enter()?;
        let mut entries: Vec<Entry> = Vec::new();
        let mut map_pos = None;
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() {
                break;
            }
            let li = self.indent(self.i)?;
            if li < ind {
                break;
            }
            if li > ind {
                return None;
            }
            let text = self.rest(self.i, ind);
            if text == "-" || text.starts_with("- ") {
                // A sequence at this indentation belongs to the parent.
                break;
            }
            let line = self.i;
            let key_pos = self.pos(line, ind);
            map_pos.get_or_insert(key_pos);
            let (key, colon) = key_end(text)?;
            if key == "<<" || entries.iter().any(|e| e.key == key) {
                return None;
            }
            let colon_pos = self.pos(line, ind + colon);
            let after = ind + colon + 1;
            let value = self.value_after(line, after, ind, colon_pos, true)?;
            entries.push(Entry {
                key,
                key_pos,
                value,
            });
            self.virt = None;
        }
        self.depth -= 1;
        Some(Node::new(map_pos?, Value::Map(Map(entries))))
    }

    fn seq(&mut self, ind: usize, indentless: bool) -> Option<Node> {
        self.enter()?;
        let mut items = Vec::new();
        let mut seq_pos = None;
        loop {
            self.skip_blank();
            if self.i >= self.lines.len() {
                break;
            }
            let li = self.indent(self.i)?;
            if li < ind {
                break;
            }
            if li > ind {
                return None;
            }
            let text = self.rest(self.i, ind);
            if !(text == "-" || text.starts_with("- ")) {
                if indentless {
                    // The parent mapping continues.
                    break;
                }
                return None;
            }
            let line = self.i;
            let after_dash = &text[1..];
            if is_blank_rest(after_dash) {
                // Empty items and items on the next line: rare; leave them to the parser.
                return None;
            }
            let content = ind + 1 + (after_dash.len() - after_dash.trim_start_matches(' ').len());
            let rest = self.rest(line, content);
            let item = if rest == "-" || rest.starts_with("- ") {
                self.virt = Some((line, content));
                self.seq(content, false)?
            } else if !rest.starts_with(['"', '\'', '[', '{']) && key_end(rest).is_some() {
                self.virt = Some((line, content));
                self.map(content)?
            } else {
                self.value_after(line, content, ind, self.pos(line, content), false)?
            };
            // Like the full parser's tree, a block sequence is located at its first item.
            seq_pos.get_or_insert(item.pos);
            items.push(item);
            self.virt = None;
        }
        self.depth -= 1;
        Some(Node::new(seq_pos?, Value::Seq(items)))
    }

    /// The value that starts at byte `col` of line `line` (after `key:` or `- `), owned by
    /// a block whose indentation is `parent`. Leaves the cursor on the next line.
    fn value_after(
        &mut self,
        line: usize,
        col: usize,
        parent: usize,
        null_pos: Pos,
        in_map: bool,
    ) -> Option<Node> {
        let raw = self.rest(line, col);
        let lead = raw.len() - raw.trim_start_matches(' ').len();
        let text = &raw[lead..];
        let at = col + lead;
        if text.is_empty() || (text.starts_with('#') && lead > 0) {
            if !in_map {
                return None;
            }
            // `key:` with the value on the following lines, or nothing.
            self.i = line + 1;
            self.virt = None;
            self.skip_blank();
            if self.i >= self.lines.len() {
                return Some(Node::new(null_pos, Value::Null));
            }
            let li = self.lines[self.i].indent?;
            let next = self.rest(self.i, li);
            if li > parent {
                return self.block(li);
            }
            if li == parent && (next == "-" || next.starts_with("- ")) {
                return self.seq(li, true);
            }
            return Some(Node::new(null_pos, Value::Null));
        }
        if lead == 0 && in_map {
            // `key:value` is a plain scalar, not a pair; let the parser decide.
            return None;
        }
        let node = match text.as_bytes()[0] {
            b'|' => return self.literal(line, at, parent),
            b'[' | b'{' => {
                let (node, end) = self.flow_at(self.lines[line].start + at, self.depth)?;
                self.finish_flow(end)?;
                return self.after_inline(node, parent);
            }
            b'"' => {
                let (s, len) = double_quoted(text)?;
                if !is_blank_rest(&text[len..]) {
                    return None;
                }
                Node::new(self.pos(line, at), Value::Str(s))
            }
            b'\'' => {
                let (s, len) = single_quoted(text)?;
                if !is_blank_rest(&text[len..]) {
                    return None;
                }
                Node::new(self.pos(line, at), Value::Str(s))
            }
            b'>' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' | b',' | b']' | b'}' | b'#' => {
                return None;
            }
            b'-' | b'?' | b':' if text.len() == 1 || text.as_bytes()[1] == b' ' => return None,
            _ => {
                let end = text.find(" #").unwrap_or(text.len());
                let plain = text[..end].trim_end_matches(' ');
                if plain.contains(": ") || plain.ends_with(':') {
                    return None;
                }
                Node::new(self.pos(line, at), resolve_plain(plain))
            }
        };
        self.i = line + 1;
        self.virt = None;
        self.after_inline(node, parent)
    }

    /// After a one-line value: a more indented line would continue it (multi-line scalar).
    fn after_inline(&mut self, node: Node, parent: usize) -> Option<Node> {
        self.skip_blank();
        if self.i < self.lines.len() && self.lines[self.i].indent? > parent {
            return None;
        }
        Some(node)
    }

    /// A literal block scalar (`|`, `|-`, `|+`) whose indicator is at byte `at` of `line`.
    fn literal(&mut self, line: usize, at: usize, parent: usize) -> Option<Node> {
        let header = &self.rest(line, at)[1..];
        let (chomp, rest) = match header.as_bytes().first() {
            Some(b'-') => (Chomp::Strip, &header[1..]),
            Some(b'+') => (Chomp::Keep, &header[1..]),
            _ => (Chomp::Clip, header),
        };
        if !is_blank_rest(rest) {
            return None;
        }
        let mut i = line + 1;
        // Content indentation: that of the first non-blank line.
        let mut content_indent = None;
        let mut j = i;
        while j < self.lines.len() {
            let t = self.lines[j].text;
            if !t.trim_start_matches(' ').is_empty() {
                content_indent = Some(t.len() - t.trim_start_matches(' ').len());
                break;
            }
            j += 1;
        }
        let ci = content_indent?;
        if ci <= parent {
            return None;
        }
        let mut parts: Vec<&str> = Vec::new();
        let mut first = None;
        while i < self.lines.len() {
            let t = self.lines[i].text;
            let spaces = t.len() - t.trim_start_matches(' ').len();
            if spaces == t.len() {
                if t.len() > ci {
                    return None;
                }
                parts.push("");
            } else if spaces >= ci {
                first.get_or_insert(i);
                parts.push(&t[ci..]);
            } else if spaces > parent {
                return None;
            } else {
                break;
            }
            i += 1;
        }
        // Blank lines at the end belong to the scalar only under `keep`.
        while parts.last() == Some(&"") {
            parts.pop();
        }
        if parts.is_empty() {
            return None;
        }
        let mut s = parts.join("\n");
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip => s.push('\n'),
            // Keeping trailing lines depends on what follows the chunk; leave it to the parser.
            Chomp::Keep => return None,
        }
        // The trailing blank lines are not part of what follows either.
        self.i = i;
        self.virt = None;
        let pos = self.pos(first?, ci);
        Some(Node::new(pos, Value::Str(s)))
    }

    /// After a flow collection ending at byte `end`: the rest of its line must be empty.
    fn finish_flow(&mut self, end: usize) -> Option<()> {
        let (li, col) = self.locate(end);
        if !is_blank_rest(&self.lines[li].text[col..]) {
            return None;
        }
        self.i = li + 1;
        self.virt = None;
        Some(())
    }

    fn skip_ws(&self, mut b: usize) -> usize {
        let bytes = self.src.as_bytes();
        loop {
            match bytes.get(b) {
                Some(b' ' | b'\n') => b += 1,
                Some(b'#') if b > 0 && matches!(bytes[b - 1], b' ' | b'\n') => {
                    while b < bytes.len() && bytes[b] != b'\n' {
                        b += 1;
                    }
                }
                _ => return b,
            }
        }
    }

    fn pos_at(&self, b: usize) -> Pos {
        let (li, col) = self.locate(b);
        self.pos(li, col)
    }

    /// A flow node at byte `b`, `depth` levels deep; returns it and the byte after it.
    fn flow_at(&self, b: usize, depth: usize) -> Option<(Node, usize)> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let bytes = self.src.as_bytes();
        let pos = self.pos_at(b);
        match *bytes.get(b)? {
            b'[' => {
                let mut items = Vec::new();
                let mut c = self.skip_ws(b + 1);
                loop {
                    if *bytes.get(c)? == b']' {
                        return Some((Node::new(pos, Value::Seq(items)), c + 1));
                    }
                    let (item, next) = self.flow_at(c, depth + 1)?;
                    items.push(item);
                    c = self.skip_ws(next);
                    match *bytes.get(c)? {
                        b',' => c = self.skip_ws(c + 1),
                        b']' => {}
                        _ => return None,
                    }
                }
            }
            b'{' => {
                let mut entries: Vec<Entry> = Vec::new();
                let mut c = self.skip_ws(b + 1);
                loop {
                    if *bytes.get(c)? == b'}' {
                        return Some((Node::new(pos, Value::Map(Map(entries))), c + 1));
                    }
                    let key_pos = self.pos_at(c);
                    let (k, next) = self.flow_at(c, depth + 1)?;
                    if next - c > MAX_KEY {
                        return None;
                    }
                    let key = match k.value {
                        Value::Str(s) => s,
                        Value::Null => "null".to_string(),
                        Value::Seq(_) | Value::Map(_) => return None,
                        other => Node::new(k.pos, other).scalar_text()?,
                    };
                    if key == "<<" || entries.iter().any(|e| e.key == key) {
                        return None;
                    }
                    // An implicit key and its `:` share a line.
                    c = next;
                    while bytes.get(c) == Some(&b' ') {
                        c += 1;
                    }
                    if *bytes.get(c)? != b':' {
                        return None;
                    }
                    c = self.skip_ws(c + 1);
                    let (value, next) = self.flow_at(c, depth + 1)?;
                    entries.push(Entry {
                        key,
                        key_pos,
                        value,
                    });
                    c = self.skip_ws(next);
                    match *bytes.get(c)? {
                        b',' => c = self.skip_ws(c + 1),
                        b'}' => {}
                        _ => return None,
                    }
                }
            }
            b'"' => {
                let (s, len) = double_quoted(&self.src[b..])?;
                Some((Node::new(pos, Value::Str(s)), b + len))
            }
            b'\'' => {
                let (s, len) = single_quoted(&self.src[b..])?;
                Some((Node::new(pos, Value::Str(s)), b + len))
            }
            _ => {
                // A plain scalar inside flow: ends at a flow indicator, `: `, ` #` or the line.
                let rest = &self.src[b..];
                let mut end = 0;
                let rb = rest.as_bytes();
                while end < rb.len() {
                    match rb[end] {
                        b',' | b'[' | b']' | b'{' | b'}' | b'\n' => break,
                        b':' if matches!(
                            rb.get(end + 1),
                            Some(b' ' | b'\n' | b',' | b']' | b'}') | None
                        ) =>
                        {
                            break;
                        }
                        b'#' if end > 0 && rb[end - 1] == b' ' => break,
                        _ => end += 1,
                    }
                }
                let text = rest[..end].trim_end_matches(' ');
                let indicator = text
                    .starts_with(['&', '*', '!', '|', '>', '%', '@', '`', '?', '#', ':'])
                    || text == "-"
                    || text.starts_with("- ");
                if text.is_empty() || indicator {
                    return None;
                }
                if rb.get(end) == Some(&b'\n') {
                    // A plain scalar ends at the line only if the next token closes it;
                    // otherwise it continues on the next line.
                    let next = self.skip_ws(b + end);
                    if !matches!(bytes.get(next), Some(b',' | b']' | b'}')) {
                        return None;
                    }
                }
                Some((Node::new(pos, resolve_plain(text)), b + text.len()))
            }
        }
    }
}

enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// The key of a `key: value` line and the byte offset of its colon, for plain and quoted
/// keys; `None` when the line is not a simple pair.
fn key_end(text: &str) -> Option<(String, usize)> {
    let (key, colon) = key_end_any(text)?;
    (colon <= MAX_KEY).then_some((key, colon))
}

fn key_end_any(text: &str) -> Option<(String, usize)> {
    let b = text.as_bytes();
    match *b.first()? {
        b'"' | b'\'' => {
            let (s, len) = if b[0] == b'"' {
                double_quoted(text)?
            } else {
                single_quoted(text)?
            };
            let after = &text[len..];
            let spaces = after.len() - after.trim_start_matches(' ').len();
            let rest = &after[spaces..];
            if rest.starts_with(':') && (rest.len() == 1 || rest.as_bytes()[1] == b' ') {
                Some((s, len + spaces))
            } else {
                None
            }
        }
        b'-' | b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!'
        | b'|' | b'>' | b'%' | b'@' | b'`' => None,
        _ => {
            let mut i = 0;
            while i < b.len() {
                if b[i] == b':' && (i + 1 == b.len() || b[i + 1] == b' ') {
                    let raw = &text[..i];
                    let key = raw.trim_end_matches(' ');
                    if key.contains(" #") {
                        return None;
                    }
                    let key = match resolve_plain(key) {
                        Value::Str(s) => s,
                        Value::Null => "null".to_string(),
                        other => Node::new(Pos::default(), other).scalar_text()?,
                    };
                    return Some((key, i));
                }
                if b[i] == b'#' && i > 0 && b[i - 1] == b' ' {
                    return None;
                }
                i += 1;
            }
            None
        }
    }
}

/// A double-quoted scalar at the start of `s` on one line: its value and its length.
fn double_quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\n' => return None,
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    '0' => out.push('\0'),
                    ' ' => out.push(' '),
                    'e' => out.push('\u{1b}'),
                    'a' => out.push('\u{7}'),
                    'v' => out.push('\u{b}'),
                    'N' => out.push('\u{85}'),
                    '_' => out.push('\u{a0}'),
                    'L' => out.push('\u{2028}'),
                    'P' => out.push('\u{2029}'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v = 0u32;
                        for _ in 0..n {
                            let (_, h) = chars.next()?;
                            v = v * 16 + h.to_digit(16)?;
                        }
                        // Surrogate pairs and invalid code points: leave to the parser.
                        out.push(char::from_u32(v)?);
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// A single-quoted scalar at the start of `s` on one line: its value and its length.
fn single_quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 1;
    let mut run = 1;
    while i < b.len() {
        match b[i] {
            b'\'' if b.get(i + 1) == Some(&b'\'') => {
                out.push_str(&s[run..i]);
                out.push('\'');
                i += 2;
                run = i;
            }
            b'\'' => {
                out.push_str(&s[run..i]);
                return Some((out, i + 1));
            }
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}
