//! Reading the syntax tree: finding the node a [`YamlPath`] names, and the
//! parts of mappings, sequences and scalars.

use super::*;

pub(super) enum Target<'t> {
    /// The document has no content at all (empty, or only comments).
    Empty,
    /// A `block_node`/`flow_node` holding the value.
    Node(Node<'t>),
    /// A pair with no value (`key:`); `colon_end` is the byte after its `:`.
    Absent { colon_end: usize },
}

/// The document's top `block_node`/`flow_node`, if any.
pub(super) fn top_node(tree: &Tree) -> Option<Node<'_>> {
    let root = tree.root_node();
    let mut cursor = root.walk();
    let document = root
        .named_children(&mut cursor)
        .find(|n| n.kind() == "document")?;
    let mut cursor = document.walk();
    document
        .named_children(&mut cursor)
        .find(|n| matches!(n.kind(), "block_node" | "flow_node"))
}

/// The meaningful child of a `block_node`/`flow_node`: skips anchors, tags
/// and comments. Other nodes are returned as they are.
pub(super) fn content(node: Node<'_>) -> Option<Node<'_>> {
    if !matches!(node.kind(), "block_node" | "flow_node") {
        return Some(node);
    }
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .find(|n| !matches!(n.kind(), "anchor" | "tag" | "comment"))
}

pub(super) fn children_of_kind<'t>(node: Node<'t>, kind: &str) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() == kind)
        .collect()
}

pub(super) fn describe(node: Node<'_>) -> &'static str {
    match node.kind() {
        "block_mapping" => "mapping",
        "flow_mapping" => "flow mapping",
        "block_sequence" | "flow_sequence" => "sequence",
        "alias" => "alias",
        "block_scalar" => "block scalar",
        "plain_scalar" | "double_quote_scalar" | "single_quote_scalar" => "scalar",
        _ => "node",
    }
}

pub(super) fn resolve<'t>(
    doc: &str,
    tree: &'t Tree,
    path: &YamlPath,
) -> Result<Target<'t>, EditError> {
    let Some(mut current) = top_node(tree) else {
        if path.is_root() {
            return Ok(Target::Empty);
        }
        return Err(EditError::PathNotFound {
            path: shown(path),
            reason: "the document is empty".into(),
        });
    };
    for (i, segment) in path.segments().iter().enumerate() {
        let here = YamlPath {
            segments: path.segments()[..i].to_vec(),
        };
        let where_ = if here.is_root() {
            "the top level".to_owned()
        } else {
            format!("`{here}`")
        };
        let not_found = |reason: String| EditError::PathNotFound {
            path: shown(path),
            reason,
        };
        let Some(inner) = content(current) else {
            return Err(not_found(format!("{where_} has no value")));
        };
        let line = inner.start_position().row + 1;
        match inner.kind() {
            "alias" => return Err(alias_error(doc, path, inner)),
            "block_mapping" | "flow_mapping" => {
                let pair = mapping_pairs(inner).into_iter().find(|pair| {
                    pair.child_by_field_name("key")
                        .and_then(content)
                        .and_then(|k| decode_scalar(doc, k))
                        .is_some_and(|k| k == *segment)
                });
                let Some(pair) = pair else {
                    return Err(not_found(format!(
                        "no key `{segment}` in the mapping at {where_} (line {line})"
                    )));
                };
                match pair.child_by_field_name("value") {
                    Some(value) => current = value,
                    None if i + 1 == path.segments().len() => {
                        let colon_end = colon_end(pair).ok_or_else(|| {
                            not_found(format!("key `{segment}` has no `:` (line {line})"))
                        })?;
                        return Ok(Target::Absent { colon_end });
                    }
                    None => {
                        return Err(not_found(format!(
                            "`{segment}` at line {} has no value",
                            pair.start_position().row + 1
                        )));
                    }
                }
            }
            "block_sequence" | "flow_sequence" => {
                let items = sequence_items(inner);
                let index = segment
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| segment.parse::<usize>().ok())
                    .flatten();
                let Some(index) = index else {
                    return Err(not_found(format!(
                        "{where_} is a sequence (line {line}); `{segment}` is not an index"
                    )));
                };
                let Some(item) = items.get(index).copied() else {
                    return Err(not_found(format!(
                        "{where_} (line {line}) has {} items, no index {index}",
                        items.len()
                    )));
                };
                current = item;
            }
            _ => {
                return Err(not_found(format!(
                    "{where_} is a {} (line {line}), cannot look up `{segment}` in it",
                    describe(inner)
                )));
            }
        }
    }
    Ok(Target::Node(current))
}

/// Pairs of a block or flow mapping. A flow `{ key }` entry without `:` is
/// a `flow_node`, not a pair, and is skipped.
pub(super) fn mapping_pairs(mapping: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = mapping.walk();
    mapping
        .named_children(&mut cursor)
        .filter(|n| matches!(n.kind(), "block_mapping_pair" | "flow_pair"))
        .collect()
}

/// The value nodes of a block or flow sequence.
pub(super) fn sequence_items(sequence: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = sequence.walk();
    let mut items = Vec::new();
    for child in sequence.named_children(&mut cursor) {
        match child.kind() {
            "block_sequence_item" => {
                let mut c = child.walk();
                if let Some(node) = child
                    .named_children(&mut c)
                    .find(|n| matches!(n.kind(), "block_node" | "flow_node"))
                {
                    items.push(node);
                }
            }
            "flow_node" | "flow_pair" => items.push(child),
            _ => {}
        }
    }
    items
}

pub(super) fn colon_end(pair: Node<'_>) -> Option<usize> {
    let mut cursor = pair.walk();
    pair.children(&mut cursor)
        .find(|n| n.kind() == ":")
        .map(|n| n.end_byte())
}

/// End byte of the last non-comment token inside `node` (trailing comments,
/// which tree-sitter often attaches to the deepest mapping, are skipped).
pub(super) fn last_token_end(node: Node<'_>) -> usize {
    let mut current = node;
    loop {
        let mut cursor = current.walk();
        let last = current
            .children(&mut cursor)
            .filter(|n| n.kind() != "comment")
            .last();
        match last {
            Some(child) if child.kind() != "block_scalar" => current = child,
            Some(child) => return child.end_byte(),
            None => return current.end_byte(),
        }
    }
}

/// The path as shown in error messages.
pub(super) fn shown(path: &YamlPath) -> String {
    if path.is_root() {
        "(document root)".to_owned()
    } else {
        path.to_string()
    }
}

pub(super) fn alias_error(doc: &str, path: &YamlPath, alias: Node<'_>) -> EditError {
    let pos = alias.start_position();
    EditError::Alias {
        path: shown(path),
        alias: doc.get(alias.byte_range()).unwrap_or("*?").to_owned(),
        line: pos.row + 1,
        column: pos.column + 1,
    }
}

pub(super) fn not_mapping(path: &YamlPath, found: &'static str, node: Node<'_>) -> EditError {
    EditError::NotMapping {
        path: shown(path),
        found,
        line: node.start_position().row + 1,
    }
}
