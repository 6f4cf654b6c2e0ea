//! Command lines given as one flag value: a JSON array of strings (`["/bin/migrate","--to","v2"]`)
//! or plain words separated by whitespace (`/bin/migrate --to v2`). Nothing is expanded: no
//! variables, no globs, no quotes, no shell. Arguments with spaces need the JSON form.

/// Why a command value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgvError {
    /// No words at all.
    #[error("empty command")]
    Empty,
    /// The JSON array form was started but is broken.
    #[error("bad JSON array at byte {at}: {what} (write e.g. [\"/bin/prog\",\"--flag\",\"a b\"])")]
    Json {
        /// Byte offset of the problem.
        at: usize,
        /// What was expected there.
        what: &'static str,
    },
}

/// Splits one command value into its program and arguments.
pub fn parse_argv(text: &str) -> Result<Vec<String>, ArgvError> {
    let trimmed = text.trim_start();
    let words = if trimmed.starts_with('[') {
        let offset = text.len() - trimmed.len();
        parse_json_array(trimmed).map_err(|e| match e {
            ArgvError::Json { at, what } => ArgvError::Json {
                at: at + offset,
                what,
            },
            other => other,
        })?
    } else {
        text.split_whitespace().map(str::to_string).collect()
    };
    if words.first().is_none_or(|w| w.is_empty()) {
        return Err(ArgvError::Empty);
    }
    Ok(words)
}

/// Parses exactly a JSON array of strings (RFC 8259 string syntax), nothing else.
fn parse_json_array(text: &str) -> Result<Vec<String>, ArgvError> {
    let bytes = text.as_bytes();
    let err = |at: usize, what: &'static str| ArgvError::Json { at, what };
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    };
    let mut words = Vec::new();
    // The caller checked that text starts with '['.
    let mut i = skip_ws(1);
    if bytes.get(i) == Some(&b']') {
        i = skip_ws(i + 1);
        return if i == bytes.len() {
            Ok(words)
        } else {
            Err(err(i, "text after the closing ]"))
        };
    }
    loop {
        if bytes.get(i) != Some(&b'"') {
            return Err(err(i, "a string in double quotes"));
        }
        let (word, next) = parse_json_string(text, i + 1)?;
        words.push(word);
        i = skip_ws(next);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(i + 1),
            Some(b']') => {
                i = skip_ws(i + 1);
                return if i == bytes.len() {
                    Ok(words)
                } else {
                    Err(err(i, "text after the closing ]"))
                };
            }
            _ => return Err(err(i, "a comma or the closing ]")),
        }
    }
}

/// Reads a JSON string body starting just after its opening quote; returns it and the index
/// after the closing quote.
fn parse_json_string(text: &str, start: usize) -> Result<(String, usize), ArgvError> {
    let err = |at: usize, what: &'static str| ArgvError::Json { at, what };
    let mut out = String::new();
    let mut chars = text[start..].char_indices().map(|(i, c)| (i + start, c));
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let Some((j, e)) = chars.next() else { break };
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let first = read_hex4(&mut chars, j)?;
                        let code = if (0xD800..0xDC00).contains(&first) {
                            // A UTF-16 surrogate pair: the low half must follow as \uXXXX.
                            let (Some((_, '\\')), Some((_, 'u'))) = (chars.next(), chars.next())
                            else {
                                return Err(err(
                                    j,
                                    "a low surrogate \\uDC00-\\uDFFF after a high one",
                                ));
                            };
                            let second = read_hex4(&mut chars, j)?;
                            if !(0xDC00..0xE000).contains(&second) {
                                return Err(err(
                                    j,
                                    "a low surrogate \\uDC00-\\uDFFF after a high one",
                                ));
                            }
                            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                        } else {
                            first
                        };
                        out.push(
                            char::from_u32(code).ok_or(err(j, "a valid Unicode scalar value"))?,
                        );
                    }
                    _ => return Err(err(j, "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")),
                }
            }
            c if (c as u32) < 0x20 => {
                return Err(err(
                    i,
                    "no raw control characters in a string (use \\n, \\t)",
                ));
            }
            c => out.push(c),
        }
    }
    Err(err(text.len(), "a closing double quote"))
}

/// Reads the four hex digits of a `\uXXXX` escape.
fn read_hex4(chars: &mut impl Iterator<Item = (usize, char)>, at: usize) -> Result<u32, ArgvError> {
    let bad = ArgvError::Json {
        at,
        what: "four hex digits after \\u",
    };
    let mut v = 0u32;
    for _ in 0..4 {
        let (_, h) = chars.next().ok_or(bad.clone())?;
        v = v * 16 + h.to_digit(16).ok_or(bad.clone())?;
    }
    Ok(v)
}

/// Shows a command as one line for messages, quoting words that need it.
pub fn display_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if !w.is_empty() && !w.contains(|c: char| c.is_whitespace() || c == '"' || c == '\'') {
                w.clone()
            } else {
                format!("{w:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> Vec<String> {
        ws.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn plain_words_split_on_whitespace_without_any_expansion() {
        let cases: &[(&str, &[&str])] = &[
            ("/bin/true", &["/bin/true"]),
            ("  migrate   --to v2 ", &["migrate", "--to", "v2"]),
            // No shell: quotes, variables and globs stay literal.
            ("echo '$HOME' * \"a", &["echo", "'$HOME'", "*", "\"a"]),
            ("a\tb\nc", &["a", "b", "c"]),
        ];
        for (text, want) in cases {
            assert_eq!(parse_argv(text), Ok(words(want)), "case {text:?}");
        }
    }

    #[test]
    fn json_arrays_keep_spaces_and_escapes_inside_arguments() {
        let cases: &[(&str, &[&str])] = &[
            (r#"["sh","-c","echo a b"]"#, &["sh", "-c", "echo a b"]),
            (r#" [ "x" , "y" ] "#, &["x", "y"]),
            (
                r#"["tab\there","q\"uote","back\\slash","\u00e9","\ud83d\ude00"]"#,
                &["tab\there", "q\"uote", "back\\slash", "é", "😀"],
            ),
            (r#"["ünïcode"]"#, &["ünïcode"]),
        ];
        for (text, want) in cases {
            assert_eq!(parse_argv(text), Ok(words(want)), "case {text:?}");
        }
    }

    #[test]
    fn broken_or_empty_commands_are_refused_with_the_position() {
        let cases: &[(&str, ArgvError)] = &[
            ("", ArgvError::Empty),
            ("   ", ArgvError::Empty),
            ("[]", ArgvError::Empty),
            (r#"[""]"#, ArgvError::Empty),
            (
                r#"["a""#,
                ArgvError::Json {
                    at: 4,
                    what: "a comma or the closing ]",
                },
            ),
            (
                r#"["a"#,
                ArgvError::Json {
                    at: 3,
                    what: "a closing double quote",
                },
            ),
            (
                r#"["a",]"#,
                ArgvError::Json {
                    at: 5,
                    what: "a string in double quotes",
                },
            ),
            (
                r#"["a"] x"#,
                ArgvError::Json {
                    at: 6,
                    what: "text after the closing ]",
                },
            ),
            (
                r#"[1]"#,
                ArgvError::Json {
                    at: 1,
                    what: "a string in double quotes",
                },
            ),
            (
                r#"["\q"]"#,
                ArgvError::Json {
                    at: 3,
                    what: "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                },
            ),
            (
                r#"["\ud83d"]"#,
                ArgvError::Json {
                    at: 3,
                    what: "a low surrogate \\uDC00-\\uDFFF after a high one",
                },
            ),
            // Offsets count from the start of the whole value, leading spaces included.
            (
                r#"  ["a" "b"]"#,
                ArgvError::Json {
                    at: 7,
                    what: "a comma or the closing ]",
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_argv(text).as_ref(), Err(want), "case {text:?}");
        }
    }

    #[test]
    fn displayed_commands_quote_only_words_that_need_it() {
        assert_eq!(
            display_argv(&words(&["sh", "-c", "echo a b", ""])),
            r#"sh -c "echo a b" """#
        );
    }
}
