//! Scalars: decoding them, and rendering a new value in the style of the
//! one it replaces.

use super::*;

pub(super) fn is_flow_scalar(node: Node<'_>) -> bool {
    matches!(
        node.kind(),
        "plain_scalar" | "double_quote_scalar" | "single_quote_scalar"
    )
}

/// Whether the scalar `node` reads as `text`: a one-line plain scalar is
/// compared as written, without decoding (most keys of a values file).
pub(super) fn scalar_is(doc: &str, node: Node<'_>, text: &str) -> bool {
    if node.kind() == "plain_scalar"
        && let Some(raw) = doc.get(node.byte_range())
        && !raw.contains('\n')
    {
        return raw == text;
    }
    decode_scalar(doc, node).is_some_and(|s| s == text)
}

/// The string value of a scalar node (`None` for non-scalars).
pub(super) fn decode_scalar(doc: &str, node: Node<'_>) -> Option<String> {
    let text = doc.get(node.byte_range())?;
    match node.kind() {
        "plain_scalar" => Some(fold_lines(text)),
        "double_quote_scalar" | "single_quote_scalar" | "block_scalar" => {
            // Indent continuation lines consistently so the scalar parses on
            // its own, then let yaml_serde do the unescaping and folding.
            let standalone = format!("{}{}", " ".repeat(node.start_position().column), text);
            match yaml_serde::from_str::<Value>(&standalone) {
                Ok(Value::String(s)) => Some(s),
                _ if node.kind() == "single_quote_scalar" => text
                    .get(1..text.len().saturating_sub(1))
                    .map(|inner| fold_lines(&inner.replace("''", "'"))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Fold a multi-line plain scalar: line breaks become spaces, empty lines
/// become newlines.
pub(super) fn fold_lines(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut pending_newlines = 0usize;
    for (i, line) in text.split('\n').enumerate() {
        let line = line.trim();
        if i == 0 {
            out.push_str(line);
        } else if line.is_empty() {
            pending_newlines += 1;
        } else {
            if pending_newlines > 0 {
                out.extend(std::iter::repeat_n('\n', pending_newlines));
            } else {
                out.push(' ');
            }
            pending_newlines = 0;
            out.push_str(line);
        }
    }
    out
}

/// The plain-scalar kind of `value` as tree-sitter reads it standalone, or
/// `None` if `value` would not be read back as exactly one plain scalar.
///
/// Remembers its last answer per thread: an edit such as [`reset_keys`]
/// asks about the same value for every scalar it replaces.
pub(super) fn plain_kind(value: &str) -> Option<&'static str> {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, Option<&'static str>)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((seen, kind)) if seen == value => *kind,
        _ => {
            let kind = read_plain_kind(value);
            *last = Some((value.to_owned(), kind));
            kind
        }
    })
}

/// [`plain_kind`], worked out.
pub(super) fn read_plain_kind(value: &str) -> Option<&'static str> {
    if value.is_empty() || value.contains(['\n', '\r', '\t']) {
        return None;
    }
    let tree = parse_tree(value).ok()?;
    if tree.root_node().has_error() {
        return None;
    }
    let top = top_node(&tree)?;
    if top.kind() != "flow_node" || top.named_child_count() != 1 {
        return None;
    }
    let scalar = content(top)?;
    if scalar.kind() != "plain_scalar" || scalar.byte_range() != (0..value.len()) {
        return None;
    }
    let kind = scalar_kind(scalar)?;
    if kind == "string_scalar" {
        // yaml_serde must read the same string back, and the string must not
        // be read as something else by YAML 1.1 consumers (Helm / go-yaml).
        match yaml_serde::from_str::<Value>(value) {
            Ok(Value::String(s)) if s == value => {}
            _ => return None,
        }
        if yaml11_ambiguous(value) {
            return None;
        }
    }
    Some(kind)
}

/// The kind child of a plain scalar (`integer_scalar`, `string_scalar`, ...).
pub(super) fn scalar_kind(plain: Node<'_>) -> Option<&'static str> {
    let mut cursor = plain.walk();
    let kind = plain.named_children(&mut cursor).next()?.kind();
    Some(match kind {
        "integer_scalar" => "integer_scalar",
        "float_scalar" => "float_scalar",
        "boolean_scalar" => "boolean_scalar",
        "null_scalar" => "null_scalar",
        _ => "string_scalar",
    })
}

/// Strings that YAML 1.1 would read as booleans, nulls or numbers.
pub(super) fn yaml11_ambiguous(value: &str) -> bool {
    const WORDS: [&str; 12] = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", ".nan",
    ];
    if WORDS.contains(&value.to_ascii_lowercase().as_str()) {
        return true;
    }
    let starts_numeric = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.'));
    starts_numeric
        && value.chars().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(c, '_' | '.' | ':' | '+' | '-' | 'x' | 'X' | 'o' | 'O')
        })
}

pub(super) fn in_flow_context(node: Node<'_>) -> bool {
    let mut current = node.parent();
    while let Some(n) = current {
        if matches!(n.kind(), "flow_mapping" | "flow_sequence") {
            return true;
        }
        current = n.parent();
    }
    false
}

pub(super) fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub(super) fn single_quoted(value: &str) -> String {
    if value.chars().any(char::is_control) {
        return double_quoted(value);
    }
    format!("'{}'", value.replace('\'', "''"))
}

pub(super) fn plain_or_quoted(value: &str, old_kind: Option<&str>, in_flow: bool) -> String {
    let flow_safe = !in_flow || !value.contains([',', '[', ']', '{', '}']);
    match plain_kind(value) {
        Some(kind) if flow_safe && old_kind.is_none_or(|old| old == kind) => value.to_owned(),
        _ => double_quoted(value),
    }
}

/// Rendering for a value replacing a null / empty value: any plain kind.
pub(super) fn render_for_null(value: &str, in_flow: bool) -> String {
    plain_or_quoted(value, None, in_flow)
}

/// Render `key` for a new mapping entry.
pub(super) fn render_key(key: &str) -> String {
    match plain_kind(key) {
        Some("string_scalar") if !key.contains([':', '#', ',', '[', ']', '{', '}']) => {
            key.to_owned()
        }
        _ => double_quoted(key),
    }
}

pub(super) struct Edit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: String,
}

/// The edit that sets the flow scalar `scalar` to `value`, or `None` if it
/// already has that value.
pub(super) fn flow_scalar_edit(doc: &str, scalar: Node<'_>, value: &str) -> Option<Edit> {
    if decode_scalar(doc, scalar).is_some_and(|old| old == value) {
        return None;
    }
    let text = match scalar.kind() {
        "double_quote_scalar" => double_quoted(value),
        "single_quote_scalar" => single_quoted(value),
        _ => {
            let old_kind = scalar_kind(scalar).unwrap_or("string_scalar");
            let old_kind = (old_kind != "null_scalar").then_some(old_kind);
            plain_or_quoted(value, old_kind, in_flow_context(scalar))
        }
    };
    Some(Edit {
        start: scalar.start_byte(),
        end: scalar.end_byte(),
        text,
    })
}

pub(super) fn scalar_edit(
    doc: &str,
    node: Node<'_>,
    value: &str,
    path: &YamlPath,
) -> Result<Option<Edit>, EditError> {
    let Some(inner) = content(node) else {
        // `key: &anchor` with nothing after the anchor: treat as empty.
        return Ok(Some(Edit {
            start: node.end_byte(),
            end: node.end_byte(),
            text: format!(" {}", render_for_null(value, in_flow_context(node))),
        }));
    };
    let line = inner.start_position().row + 1;
    match inner.kind() {
        "alias" => Err(alias_error(doc, path, inner)),
        "block_mapping" | "flow_mapping" | "block_sequence" | "flow_sequence" => {
            Err(EditError::NotScalar {
                path: shown(path),
                found: describe(inner),
                line,
            })
        }
        "block_scalar" => {
            if decode_scalar(doc, inner).is_some_and(|old| old == value) {
                Ok(None)
            } else {
                Err(EditError::Unsupported {
                    path: shown(path),
                    line,
                    reason: "it is a block scalar (`|` or `>`); edit it by hand".into(),
                })
            }
        }
        _ if is_flow_scalar(inner) => Ok(flow_scalar_edit(doc, inner, value)),
        other => Err(EditError::Unsupported {
            path: shown(path),
            line,
            reason: format!("unexpected syntax node `{other}`"),
        }),
    }
}
