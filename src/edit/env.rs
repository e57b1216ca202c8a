//! Format-preserving edits of shell-style environment files.
//!
//! These are files of `KEY=value` or `export KEY=value` lines, such as
//! `docker-compose-ops` `summit/setup.env` (`export CYCLE=c0041`,
//! `export rev=.000`) or a LOVE `.env` (`cycle=c0038`). Only the value's
//! bytes change. The `export` prefix, the quotes around the value (`'..'` or
//! `".."`), a trailing ` # comment`, other lines and line endings (`\n` or
//! `\r\n`) are kept.
//!
//! The first assignment of a key is the one that is read and edited.
//! Comment lines (`# ...`) are ignored. A value ends at the closing quote, or
//! if it is unquoted, at whitespace followed by `#` or at the end of the
//! line. Multi-line quoted values are not supported and are reported as an
//! unterminated quote.

/// Why an env-file edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// No line assigns the key.
    #[error("no assignment to `{key}` found (expected a line `{key}=...` or `export {key}=...`)")]
    KeyNotFound {
        /// The key looked for.
        key: String,
    },
    /// The key is not a valid shell variable name.
    #[error(
        "`{key}` is not a valid variable name (use letters, digits and `_`, not starting with a digit)"
    )]
    InvalidKey {
        /// The key as given.
        key: String,
    },
    /// The value of the assignment opens a quote that is not closed on its line.
    #[error(
        "line {line}, column {column}: the {quote} quote opened in the value of `{key}` is not closed on that line"
    )]
    UnterminatedQuote {
        /// The key being read.
        key: String,
        /// 1-based line of the assignment.
        line: usize,
        /// 1-based column (in bytes) of the opening quote.
        column: usize,
        /// The quote character.
        quote: char,
    },
    /// The new value cannot be written into an env file.
    #[error("cannot set `{key}`: {reason}")]
    InvalidValue {
        /// The key being set.
        key: String,
        /// Why the value is not acceptable.
        reason: String,
    },
}

/// Where a value sits in the document.
struct Assignment {
    /// Byte range of the value as written, quotes included.
    start: usize,
    end: usize,
    /// The quote character around the value, if any.
    quote: Option<char>,
    /// The decoded value.
    value: String,
}

/// Replace the value of the first assignment of `key`, keeping `export`,
/// quotes, a trailing comment and line endings. If the value is already
/// `value`, the document comes back byte-identical.
///
/// An unquoted value that needs quoting (spaces, `#`, `$`, quotes, ...) gets
/// double quotes; a single-quoted value that would contain `'` switches to
/// double quotes.
///
/// # Errors
/// [`EnvError::InvalidKey`], [`EnvError::KeyNotFound`],
/// [`EnvError::UnterminatedQuote`] on the key's line, and
/// [`EnvError::InvalidValue`] if `value` has a line break or NUL.
pub fn set_env(doc: &str, key: &str, value: &str) -> Result<String, EnvError> {
    if !valid_key(key) {
        return Err(EnvError::InvalidKey {
            key: key.to_owned(),
        });
    }
    if value.contains(['\n', '\r', '\0']) {
        return Err(EnvError::InvalidValue {
            key: key.to_owned(),
            reason: "the value contains a line break or NUL character".into(),
        });
    }
    let Some(found) = find(doc, key)? else {
        return Err(EnvError::KeyNotFound {
            key: key.to_owned(),
        });
    };
    if found.value == value {
        return Ok(doc.to_owned());
    }
    let text = match found.quote {
        Some('\'') if !value.contains('\'') => format!("'{value}'"),
        Some(_) => double_quoted(value),
        None if value.chars().all(safe_unquoted) => value.to_owned(),
        None => double_quoted(value),
    };
    let mut out = doc.to_owned();
    out.replace_range(found.start..found.end, &text);
    Ok(out)
}

/// The value of the first assignment of `key`, with quotes removed and
/// double-quote escapes (`\"`, `\\`, `\$`, `` \` ``) resolved; `None` if
/// the key is not assigned, is not a valid name, or its quote is not closed.
pub fn get_env(doc: &str, key: &str) -> Option<String> {
    if !valid_key(key) {
        return None;
    }
    find(doc, key).ok().flatten().map(|a| a.value)
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn safe_unquoted(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@' | '%' | '+' | ',' | '=')
}

fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Find the first assignment of `key` (a valid name).
fn find(doc: &str, key: &str) -> Result<Option<Assignment>, EnvError> {
    let mut line_start = 0usize;
    for (index, raw_line) in doc.split_inclusive('\n').enumerate() {
        let offset = line_start;
        line_start += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let mut pos = line.len() - line.trim_start_matches([' ', '\t']).len();
        let rest = &line[pos..];
        if let Some(after) = rest.strip_prefix("export")
            && after.starts_with([' ', '\t'])
        {
            pos += "export".len();
            pos += after.len() - after.trim_start_matches([' ', '\t']).len();
        }
        let Some(after_key) = line[pos..].strip_prefix(key) else {
            continue;
        };
        let Some(value_text) = after_key.strip_prefix('=') else {
            continue;
        };
        let value_pos = pos + key.len() + 1;
        let quote = value_text
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\''));
        let assignment = match quote {
            Some(q) => {
                let Some((len, value)) = quoted_value(value_text, q) else {
                    return Err(EnvError::UnterminatedQuote {
                        key: key.to_owned(),
                        line: index + 1,
                        column: value_pos + 1,
                        quote: q,
                    });
                };
                Assignment {
                    start: offset + value_pos,
                    end: offset + value_pos + len,
                    quote,
                    value,
                }
            }
            None => {
                let end = unquoted_end(value_text);
                Assignment {
                    start: offset + value_pos,
                    end: offset + value_pos + end,
                    quote: None,
                    value: value_text[..end].to_owned(),
                }
            }
        };
        return Ok(Some(assignment));
    }
    Ok(None)
}

/// Length (quotes included) and decoded value of a quoted value at the start
/// of `text`; `None` if the quote is not closed.
fn quoted_value(text: &str, quote: char) -> Option<(usize, String)> {
    let mut value = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        if c == quote {
            return Some((i + c.len_utf8(), value));
        }
        if quote == '"' && c == '\\' {
            match chars.next() {
                Some((_, e)) if matches!(e, '"' | '\\' | '$' | '`') => value.push(e),
                Some((_, e)) => {
                    value.push('\\');
                    value.push(e);
                }
                None => return None,
            }
        } else {
            value.push(c);
        }
    }
    None
}

/// End of an unquoted value: before whitespace that leads to a `#` comment
/// or to the end of the line.
fn unquoted_end(text: &str) -> usize {
    let comment = text
        .char_indices()
        .find(|&(i, c)| c == '#' && i > 0 && text[..i].ends_with([' ', '\t']))
        .map_or(text.len(), |(i, _)| i);
    text[..comment].trim_end_matches([' ', '\t']).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETUP: &str = "export CYCLE=c0041\nexport rev=.000\n\n# site\nexport LSST_SITE=summit\n";

    #[test]
    fn export_lines() {
        assert_eq!(get_env(SETUP, "CYCLE").as_deref(), Some("c0041"));
        assert_eq!(get_env(SETUP, "rev").as_deref(), Some(".000"));
        assert_eq!(get_env(SETUP, "site"), None);
        let out = set_env(SETUP, "CYCLE", "c0044").expect("set");
        assert_eq!(out, SETUP.replace("c0041", "c0044"));
        assert_eq!(set_env(SETUP, "rev", ".000").expect("same"), SETUP);
    }

    #[test]
    fn keeps_quotes_comments_and_crlf() {
        let doc = "cycle=c0038 # LOVE\r\nA=\"x y\"  # c\r\nB='q'\r\nC=\r\n";
        assert_eq!(
            set_env(doc, "cycle", "c0039").expect("set"),
            "cycle=c0039 # LOVE\r\nA=\"x y\"  # c\r\nB='q'\r\nC=\r\n"
        );
        assert_eq!(
            set_env(doc, "A", "say \"$HOME\"").expect("set"),
            "cycle=c0038 # LOVE\r\nA=\"say \\\"\\$HOME\\\"\"  # c\r\nB='q'\r\nC=\r\n"
        );
        assert_eq!(
            get_env(&set_env(doc, "A", "a\"b").expect("set"), "A").as_deref(),
            Some("a\"b")
        );
        assert_eq!(
            set_env(doc, "B", "r").expect("set"),
            doc.replace("'q'", "'r'")
        );
        assert_eq!(
            set_env(doc, "B", "it's").expect("set"),
            doc.replace("'q'", "\"it's\"")
        );
        assert_eq!(
            set_env(doc, "C", "v").expect("set"),
            doc.replace("C=\r", "C=v\r")
        );
        assert_eq!(
            set_env(doc, "C", "a b").expect("set"),
            doc.replace("C=\r", "C=\"a b\"\r")
        );
        assert_eq!(get_env(doc, "C").as_deref(), Some(""));
    }

    #[test]
    fn first_assignment_only_and_no_prefix_match() {
        let doc = "#CYCLE=c0001\nCYCLE_OLD=c0002\nCYCLE=c0003\nCYCLE=c0004";
        assert_eq!(get_env(doc, "CYCLE").as_deref(), Some("c0003"));
        assert_eq!(
            set_env(doc, "CYCLE", "c0005").expect("set"),
            "#CYCLE=c0001\nCYCLE_OLD=c0002\nCYCLE=c0005\nCYCLE=c0004"
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            set_env(SETUP, "MISSING", "1"),
            Err(EnvError::KeyNotFound {
                key: "MISSING".into()
            })
        );
        assert!(matches!(
            set_env(SETUP, "1X", "1"),
            Err(EnvError::InvalidKey { .. })
        ));
        assert!(matches!(
            set_env(SETUP, "", "1"),
            Err(EnvError::InvalidKey { .. })
        ));
        assert!(matches!(
            set_env(SETUP, "CYCLE", "a\nb"),
            Err(EnvError::InvalidValue { .. })
        ));
        assert_eq!(
            set_env("A=1\nB=\"open\n", "B", "x"),
            Err(EnvError::UnterminatedQuote {
                key: "B".into(),
                line: 2,
                column: 3,
                quote: '"'
            })
        );
        for doc in [
            "", "\n", "=", "export", "export =", "A", "A=\"\\", "é=1", "A=é",
        ] {
            let _ = set_env(doc, "A", "1");
            let _ = get_env(doc, "A");
        }
        assert_eq!(set_env("A=é # x", "A", "ü").expect("utf8"), "A=ü # x");
    }
}
