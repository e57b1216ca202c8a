//! The edit operations: each takes a document's text and returns the new
//! text, splicing only the spans it changes.

use super::*;

/// Replace the scalar at `path` with `value`, keeping its quoting style.
///
/// Double-quoted stays double-quoted (escaped as needed), single-quoted stays
/// single-quoted (`''` escaping, or double quotes if `value` holds control
/// characters), and plain stays plain if `value` reads back as a plain scalar
/// of the same kind; otherwise the new value is double-quoted. An empty value
/// (`key:`) or a null (`~`, `null`) takes `value` plain when it is safe.
/// If the scalar already equals `value`, the document comes back
/// byte-identical.
///
/// # Errors
/// [`EditError::InvalidYaml`] if `doc` does not parse,
/// [`EditError::PathNotFound`], [`EditError::NotScalar`],
/// [`EditError::Alias`] if the path runs through or ends on an alias, and
/// [`EditError::Unsupported`] for block scalars (`|`, `>`).
pub fn set_scalar(doc: &str, path: &YamlPath, value: &str) -> Result<String, EditError> {
    let tree = parse(doc)?;
    let target = resolve(doc, &tree, path)?;
    let edit = match target {
        Target::Absent { colon_end } => Some(Edit {
            start: colon_end,
            end: colon_end,
            text: format!(" {}", render_for_null(value, false)),
        }),
        Target::Node(node) => scalar_edit(doc, node, value, path)?,
        Target::Empty => {
            return Err(EditError::PathNotFound {
                path: shown(path),
                reason: "the document is empty".into(),
            });
        }
    };
    let Some(edit) = edit else {
        return Ok(doc.to_owned());
    };
    let (out, new_tree) = apply_checked(doc, &tree, vec![edit])?;
    // The value must now read back exactly as asked for.
    match resolve(&out, &new_tree, path)? {
        Target::Node(node) => match content(node).map(|c| decode_scalar(&out, c)) {
            Some(Some(got)) if got == value => Ok(out),
            other => Err(EditError::Internal(format!(
                "`{path}` reads back as {other:?} instead of {value:?}"
            ))),
        },
        _ => Err(EditError::Internal(format!(
            "`{path}` is empty after setting it"
        ))),
    }
}

/// Set every mapping pair whose key is `key` and whose value is a scalar to
/// `value`, anywhere in the document (any depth, in sequences and flow
/// collections too). Each changed scalar keeps its style as in
/// [`set_scalar`]. Returns the new document and the number of values
/// changed; with no change the document is byte-identical.
///
/// Values that are aliases (`*x`) are left alone: the anchored definition is
/// edited where it appears as its own pair. Empty values (`key:`), block
/// scalars and collections are left alone too.
///
/// # Errors
/// [`EditError::InvalidYaml`] if `doc` does not parse.
pub fn reset_keys(doc: &str, key: &str, value: &str) -> Result<(String, usize), EditError> {
    // libyaml reads the output, or the input when nothing changes or
    // something fails (its errors name the line): once per call, not twice.
    // This runs on every application file of each site.
    let tree = syntax_tree(doc, None).map_err(|e| check_values(doc).err().unwrap_or(e))?;
    let mut edits = Vec::new();
    // One cursor over the whole tree, depth first.
    let mut cursor = tree.walk();
    'walk: loop {
        let node = cursor.node();
        if matches!(node.kind(), "block_mapping_pair" | "flow_pair")
            && node
                .child_by_field_name("key")
                .and_then(content)
                .is_some_and(|k| scalar_is(doc, k, key))
            && let Some(scalar) = node.child_by_field_name("value").and_then(content)
            && is_flow_scalar(scalar)
            && let Some(edit) = flow_scalar_edit(doc, scalar, value)
        {
            edits.push(edit);
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    let count = edits.len();
    if count == 0 {
        check_values(doc)?;
        return Ok((doc.to_owned(), 0));
    }
    // Values replaced in place: libyaml checks the output; no syntax tree
    // of it is needed.
    let out = splice(doc, edits);
    match check_values(&out) {
        Ok(()) => Ok((out, count)),
        // The input's own error (a duplicate key, say) comes first.
        Err(e) => Err(check_values(doc).err().unwrap_or_else(|| broken_output(e))),
    }
}

/// Add `key` with the value `value_yaml` to the block mapping at `path`
/// (the root path means the document's top-level mapping).
///
/// The new entry goes after the mapping's last entry, at that mapping's
/// indentation. `value_yaml` is a YAML fragment: a scalar or flow value
/// (written on the key's line) or a block mapping or sequence (re-indented
/// one level below the key, using the document's indentation step).
/// Comments in the fragment are kept. If `key` already exists with an equal
/// value, the document comes back byte-identical. An empty document gets
/// the entry as its first line; an empty value (`path:`) becomes a mapping.
///
/// # Errors
/// [`EditError::InvalidYaml`] if `doc` or `value_yaml` does not parse,
/// [`EditError::KeyExists`] if `key` exists with a different value,
/// [`EditError::PathNotFound`], [`EditError::NotMapping`] (including flow
/// mappings, which are not supported), [`EditError::Alias`].
pub fn add_entry(
    doc: &str,
    path: &YamlPath,
    key: &str,
    value_yaml: &str,
) -> Result<String, EditError> {
    let tree = parse(doc)?;
    let fragment = value_yaml.trim_end();
    let fragment_value =
        yaml_serde::from_str::<Value>(fragment).map_err(|e| serde_error(&e, "value to add: "))?;
    if key.is_empty() {
        return Err(EditError::InvalidPath {
            path: shown(path),
            reason: "the key to add is empty".into(),
        });
    }
    let unit = indent_unit(tree.root_node());
    let key_text = render_key(key);

    // Where to insert, at which indentation, with which line prefix.
    let (insert_at, indent) = match resolve(doc, &tree, path)? {
        Target::Empty => (doc.len(), 0),
        Target::Absent { colon_end } => {
            let base = indentation_of_line(doc, colon_end);
            (line_end(doc, colon_end), base + unit)
        }
        Target::Node(node) => {
            let Some(inner) = content(node) else {
                return Err(not_mapping(path, "node without content", node));
            };
            match inner.kind() {
                "block_mapping" => {}
                "alias" => return Err(alias_error(doc, path, inner)),
                "flow_mapping" => {
                    return Err(EditError::NotMapping {
                        path: shown(path),
                        found: "flow mapping (`{...}`), which add_entry does not support",
                        line: inner.start_position().row + 1,
                    });
                }
                _ => return Err(not_mapping(path, describe(inner), inner)),
            }
            let pairs = children_of_kind(inner, "block_mapping_pair");
            // Existing key?
            for pair in &pairs {
                let is_key = pair
                    .child_by_field_name("key")
                    .and_then(content)
                    .and_then(|k| decode_scalar(doc, k))
                    .is_some_and(|k| k == key);
                if is_key {
                    return existing_entry(doc, path, key, *pair, &fragment_value);
                }
            }
            let (Some(first), Some(last)) = (pairs.first(), pairs.last()) else {
                return Err(not_mapping(path, "empty mapping", inner));
            };
            let end = last_token_end(*last);
            (line_end(doc, end), first.start_position().column)
        }
    };

    let entry = render_entry(&key_text, fragment, &fragment_value, indent, unit);
    let mut insertion = String::new();
    let at_eof_without_newline = insert_at == doc.len() && !doc.is_empty() && !doc.ends_with('\n');
    if at_eof_without_newline {
        insertion.push('\n');
        insertion.push_str(&entry);
    } else {
        insertion.push_str(&entry);
        insertion.push('\n');
    }
    let (out, _) = apply_checked(
        doc,
        &tree,
        vec![Edit {
            start: insert_at,
            end: insert_at,
            text: insertion,
        }],
    )?;
    Ok(out)
}

/// The keys of the document's top-level mapping, in document order (none
/// for an empty document or one whose top level is not a mapping).
///
/// # Errors
/// [`EditError::InvalidYaml`] if `doc` does not parse.
pub fn top_level_keys(doc: &str) -> Result<Vec<String>, EditError> {
    let tree = parse(doc)?;
    let Some(top) = top_node(&tree).and_then(content) else {
        return Ok(Vec::new());
    };
    Ok(mapping_pairs(top)
        .into_iter()
        .filter_map(|pair| {
            pair.child_by_field_name("key")
                .and_then(content)
                .and_then(|k| decode_scalar(doc, k))
        })
        .collect())
}

/// Set every pair whose key is `key` and whose value is a scalar to
/// `value`, at any depth under the given top-level keys (`components`):
/// how a revision build sets `revision: R` on the components it restarts.
/// Each changed scalar keeps its style as in [`set_scalar`]. Returns the new
/// document and the number of values changed; with no change the document
/// is byte-identical.
///
/// Shared definitions are followed: a merge key (`<<: *base`) or an alias
/// under a component leads to the anchored definition (`&base`), whose
/// values are changed too, as people do by hand (love-manager's producers
/// take their image from `x-manager-producer: &base-manager-producer`). Such
/// a definition is only changed when it is the whole value of a template
/// entry (a top-level key starting with `x-`, which no chart reads) and
/// nothing outside the components uses it; otherwise the edit is refused,
/// since it would restart that other component as well. A `key` whose value is an alias (`revision: *rev`) is
/// changed at its anchor, under the same rule.
///
/// # Errors
/// [`EditError::InvalidYaml`] if `doc` does not parse,
/// [`EditError::PathNotFound`] if a component is not a top-level key,
/// [`EditError::NotMapping`] if the top level is not a mapping,
/// [`EditError::SharedAnchor`] as described above.
pub fn set_keys_under(
    doc: &str,
    components: &[String],
    key: &str,
    value: &str,
) -> Result<(String, usize), EditError> {
    let tree = parse(doc)?;
    let Some(top) = top_node(&tree).and_then(content) else {
        return Err(EditError::PathNotFound {
            path: components.join(", "),
            reason: "the document is empty".into(),
        });
    };
    if !matches!(top.kind(), "block_mapping" | "flow_mapping") {
        return Err(not_mapping(&YamlPath::root(), describe(top), top));
    }
    let pairs = mapping_pairs(top);
    let pair_key = |pair: Node<'_>| {
        pair.child_by_field_name("key")
            .and_then(content)
            .and_then(|k| decode_scalar(doc, k))
    };
    // The subtrees whose `key` values are set, with the anchor name of
    // those reached through an alias.
    let mut regions: Vec<(Node<'_>, Option<String>)> = Vec::new();
    for component in components {
        let Some(pair) = pairs
            .iter()
            .find(|p| pair_key(**p).is_some_and(|k| k == *component))
        else {
            return Err(EditError::PathNotFound {
                path: component.clone(),
                reason: format!("no top-level key `{component}`"),
            });
        };
        if let Some(value) = pair.child_by_field_name("value") {
            regions.push((value, None));
        }
    }
    let anchors = anchor_definitions(doc, tree.root_node());
    let definition_of = |alias: Node<'_>| {
        let name = doc.get(alias.byte_range())?.strip_prefix('*')?;
        anchors
            .iter()
            .rev()
            .find(|(n, def)| n == name && def.start_byte() < alias.start_byte())
            .cloned()
    };
    let within = |outer: Node<'_>, node: Node<'_>| {
        outer.start_byte() <= node.start_byte() && node.end_byte() <= outer.end_byte()
    };
    let inside = |regions: &[(Node<'_>, Option<String>)], node: Node<'_>| {
        regions.iter().any(|(r, _)| within(*r, node))
    };

    // Walk the regions; the aliases met add the definitions they reach.
    let mut edits: std::collections::BTreeMap<usize, Edit> = Default::default();
    let mut next = 0;
    while let Some((region, _)) = regions.get(next).cloned() {
        next += 1;
        let mut stack = vec![region];
        while let Some(node) = stack.pop() {
            if node.kind() == "alias"
                && let Some((name, def)) = definition_of(node)
                && !inside(&regions, def)
            {
                regions.push((def, Some(name)));
            }
            if matches!(node.kind(), "block_mapping_pair" | "flow_pair")
                && pair_key(node).is_some_and(|k| k == key)
                && let Some(mut scalar) = node.child_by_field_name("value").and_then(content)
            {
                if scalar.kind() == "alias"
                    && let Some((name, def)) = definition_of(scalar)
                {
                    if !inside(&regions, def) {
                        regions.push((def, Some(name)));
                    }
                    scalar = content(def).unwrap_or(def);
                }
                if is_flow_scalar(scalar)
                    && let Some(edit) = flow_scalar_edit(doc, scalar, value)
                {
                    edits.insert(edit.start, edit);
                }
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
    }

    // A definition reached through an alias changes only when it is the
    // whole value of a template entry and every alias to it is in a region.
    let holder_of = |node: Node<'_>| pairs.iter().copied().find(|p| within(*p, node));
    let named = |node: Node<'_>| {
        holder_of(node)
            .and_then(pair_key)
            .unwrap_or_else(|| "(top level)".into())
    };
    for (def, anchor) in &regions {
        let Some(anchor) = anchor else { continue };
        let Some(edit) = edits
            .values()
            .find(|e| def.start_byte() <= e.start && e.end <= def.end_byte())
        else {
            continue;
        };
        let shared = |user: Node<'_>| EditError::SharedAnchor {
            key: key.to_owned(),
            line: doc.get(..edit.start).map_or(0, |s| s.matches('\n').count()) + 1,
            anchor: anchor.clone(),
            other: named(user),
            other_line: user.start_position().row + 1,
        };
        // Only a template entry (`x-…`, the convention of values files for
        // entries no chart reads) may hold it: any other entry holding it
        // is a component of its own.
        let template = holder_of(*def).is_some_and(|p| {
            p.child_by_field_name("value")
                .is_some_and(|v| v.id() == def.id())
                && pair_key(p).is_some_and(|k| k.starts_with("x-"))
        });
        if !template {
            return Err(shared(*def));
        }
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            if node.kind() == "alias"
                && definition_of(node).is_some_and(|(_, d)| d.id() == def.id())
                && !inside(&regions, node)
            {
                return Err(shared(node));
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
    }

    let count = edits.len();
    if count == 0 {
        return Ok((doc.to_owned(), 0));
    }
    let (out, _) = apply_checked(doc, &tree, edits.into_values().collect())?;
    Ok((out, count))
}

/// Every anchor of the document with the node it names, in document order.
pub(super) fn anchor_definitions<'t>(doc: &str, root: Node<'t>) -> Vec<(String, Node<'t>)> {
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.kind() == "anchor"
            && let Some(name) = doc.get(node.byte_range()).and_then(|t| t.strip_prefix('&'))
            && let Some(parent) = node.parent()
        {
            found.push((name.to_owned(), parent));
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    found.sort_by_key(|(_, node)| node.start_byte());
    found
}

pub(super) fn existing_entry(
    doc: &str,
    path: &YamlPath,
    key: &str,
    pair: Node<'_>,
    wanted: &Value,
) -> Result<String, EditError> {
    let (existing_text, existing) = match pair.child_by_field_name("value") {
        None => (String::new(), Some(Value::Null)),
        Some(value) => {
            let text = doc.get(value.byte_range()).unwrap_or_default();
            let standalone = format!("{}{}", " ".repeat(value.start_position().column), text);
            (
                text.to_owned(),
                yaml_serde::from_str::<Value>(&standalone).ok(),
            )
        }
    };
    if existing.as_ref() == Some(wanted) {
        return Ok(doc.to_owned());
    }
    Err(EditError::KeyExists {
        path: shown(path),
        key: key.to_owned(),
        line: pair.start_position().row + 1,
        existing: existing_text,
    })
}

/// Smallest indentation step between a mapping key and a nested block
/// collection, defaulting to 2.
pub(super) fn indent_unit(root: Node<'_>) -> usize {
    let mut best: Option<usize> = None;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.kind() == "block_mapping_pair"
            && let Some(value) = node.child_by_field_name("value").and_then(content)
            && matches!(value.kind(), "block_mapping" | "block_sequence")
        {
            let outer = node.start_position().column;
            let inner = value.start_position().column;
            if inner > outer {
                let step = inner - outer;
                best = Some(best.map_or(step, |b| b.min(step)));
            }
        }
        let mut cursor = node.walk();
        stack.extend(node.named_children(&mut cursor));
    }
    best.unwrap_or(2)
}

pub(super) fn line_end(doc: &str, offset: usize) -> usize {
    doc.get(offset..)
        .and_then(|rest| rest.find('\n'))
        .map_or(doc.len(), |i| offset + i + 1)
}

pub(super) fn indentation_of_line(doc: &str, offset: usize) -> usize {
    let start = doc
        .get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    doc.get(start..)
        .map_or(0, |line| line.len() - line.trim_start_matches(' ').len())
}

pub(super) fn render_entry(
    key: &str,
    fragment: &str,
    value: &Value,
    indent: usize,
    unit: usize,
) -> String {
    let pad = " ".repeat(indent);
    let lines: Vec<&str> = fragment.lines().collect();
    let block_collection = matches!(value, Value::Mapping(_) | Value::Sequence(_))
        && !fragment.trim_start().starts_with(['{', '[']);
    let first = lines.first().map_or("", |l| l.trim());
    let block_scalar = first.starts_with(['|', '>']);
    if lines.len() <= 1 && !block_collection {
        return if first.is_empty() {
            format!("{pad}{key}:")
        } else {
            format!("{pad}{key}: {first}")
        };
    }
    let body: &[&str] = if block_scalar {
        lines.get(1..).unwrap_or_default()
    } else {
        &lines
    };
    let min_indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let child_pad = " ".repeat(indent + unit);
    let mut out = if block_scalar {
        format!("{pad}{key}: {first}")
    } else {
        format!("{pad}{key}:")
    };
    for line in body {
        out.push('\n');
        if !line.trim().is_empty() {
            out.push_str(&child_pad);
            out.push_str(line.get(min_indent..).unwrap_or(line.trim_start()));
        }
    }
    out
}
