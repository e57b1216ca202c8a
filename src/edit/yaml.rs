//! Format-preserving edits of YAML documents (Helm values files and the like).
//!
//! Every function here is pure: it takes the document text and returns new
//! text. Nothing is re-serialised. The document is parsed into a concrete
//! syntax tree (tree-sitter, the parser `yamlpath` is built on), the nodes
//! to change are found there, and only their byte spans are spliced. So
//! comments, blank lines, anchors (`&x`), aliases (`*x`), merge keys
//! (`<<: *x`), key order, indentation, the quoting of untouched values and
//! the final newline all stay as they were.
//!
//! A changed scalar keeps its style. A double-quoted scalar stays
//! double-quoted and a single-quoted one stays single-quoted. A plain
//! scalar stays plain when the new value reads back as a plain scalar of the
//! same kind (integer, float, boolean or string). Otherwise it falls back to
//! double quotes, so `cycle: 42` set to `44` stays an integer, and
//! `cycle: 42` set to `c0044` becomes `cycle: "c0044"`.
//!
//! Before anything is edited, the input must parse both with the syntax-tree
//! parser and with `yaml_serde`. The output is checked the same way, so an
//! edit can never produce YAML that does not parse.
//!
//! These files belong to other teams and are read by Helm, so they are
//! checked with Helm's tolerance rather than the strictest reading: a
//! mapping may repeat the merge key `<<` (`<<: *butler-secret` then
//! `<<: *pod-antiaffinity`), which Helm, PyYAML and the Go YAML library all
//! accept. Any other repeated key is still refused: Helm would silently keep
//! the last one, and an edit of the first would change nothing. (Every
//! `values-*.yaml` of phalanx `main` in August 2026 parses under this rule;
//! repeated merge keys were the only construct a strict parser refused.)
//! Our own files (`sites/`, `releases/`) are read elsewhere, strictly.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserialize, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess};
use tree_sitter::{InputEdit, Node, Parser, Point, Tree};
use yaml_serde::Value;

/// A path into a YAML document: dotted keys, and all-digit segments index
/// into sequences (`"a.b.0.c"`).
///
/// An all-digit segment that meets a mapping is matched as a key, so
/// `ports.8080` also works. The empty string is the document root. Keys
/// that contain a `.` cannot be written as a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct YamlPath {
    segments: Vec<String>,
}

impl YamlPath {
    /// The path of the document root (no segments).
    pub fn root() -> Self {
        Self::default()
    }

    /// The path's segments, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Whether this is the document root.
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }
}

impl FromStr for YamlPath {
    type Err = EditError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(Self::root());
        }
        let segments: Vec<String> = s.split('.').map(str::to_owned).collect();
        if let Some(pos) = segments.iter().position(String::is_empty) {
            return Err(EditError::InvalidPath {
                path: s.to_owned(),
                reason: format!(
                    "segment {} is empty (look for a leading, trailing or doubled `.`)",
                    pos + 1
                ),
            });
        }
        Ok(Self { segments })
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

/// Why a YAML edit could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The input (or a value fragment) is not valid YAML.
    #[error("invalid YAML at line {line}, column {column}: {message}")]
    InvalidYaml {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column (in bytes) of the problem.
        column: usize,
        /// What the parser reported.
        message: String,
    },
    /// A path string could not be parsed.
    #[error("invalid path `{path}`: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The path does not lead to a node in the document.
    #[error("path `{path}` not found: {reason}")]
    PathNotFound {
        /// The path that was looked up.
        path: String,
        /// Which step failed, with its location.
        reason: String,
    },
    /// The path leads to a mapping or sequence where a scalar was expected.
    #[error("`{path}` at line {line} is a {found}, not a scalar value")]
    NotScalar {
        /// The path that was looked up.
        path: String,
        /// What was found instead (`mapping`, `sequence`).
        found: &'static str,
        /// 1-based line of the node.
        line: usize,
    },
    /// The path leads to something that is not a block mapping.
    #[error("`{path}` at line {line} is a {found}, not a block mapping")]
    NotMapping {
        /// The path that was looked up.
        path: String,
        /// What was found instead.
        found: &'static str,
        /// 1-based line of the node.
        line: usize,
    },
    /// The key to add already exists with a different value.
    #[error(
        "key `{key}` already exists under `{path}` at line {line} with a different value: {existing}"
    )]
    KeyExists {
        /// The mapping's path.
        path: String,
        /// The key that exists.
        key: String,
        /// 1-based line of the existing key.
        line: usize,
        /// The existing value's text, as written in the document.
        existing: String,
    },
    /// The path runs into an alias; editing through it would change the
    /// anchored definition that other places share.
    #[error(
        "`{path}` reaches alias `{alias}` at line {line}, column {column}; edit the anchored definition instead"
    )]
    Alias {
        /// The path that was looked up.
        path: String,
        /// The alias text, e.g. `*interval`.
        alias: String,
        /// 1-based line of the alias.
        line: usize,
        /// 1-based column of the alias.
        column: usize,
    },
    /// A value to change sits in an anchored definition (`&x`) that a
    /// mapping outside the chosen components also uses (or lies inside);
    /// changing it would change that mapping too.
    #[error(
        "`{key}` at line {line} is in `&{anchor}`, which `{other}` (line {other_line}) also uses; restart `{other}` too, or give it its own `{key}`"
    )]
    SharedAnchor {
        /// The key being set, e.g. `revision`.
        key: String,
        /// 1-based line of the value that would change.
        line: usize,
        /// The anchor's name, without `&`.
        anchor: String,
        /// The top-level key that also uses the definition.
        other: String,
        /// 1-based line where it uses it.
        other_line: usize,
    },
    /// The node exists but cannot be edited without changing its style.
    #[error("cannot edit `{path}` at line {line}: {reason}")]
    Unsupported {
        /// The path that was looked up.
        path: String,
        /// 1-based line of the node.
        line: usize,
        /// Why not.
        reason: String,
    },
    /// The edit produced a document that no longer parses. This is a bug.
    #[error("internal error, the edit was not applied: {0}")]
    Internal(String),
}

// ---------------------------------------------------------------------------
// Public operations
// ---------------------------------------------------------------------------

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

/// The value of the scalar at `path`, as the document says it (`None` when
/// the path is not in the document or its value is empty): how a value is
/// read back from an older commit to be written again.
///
/// # Errors
/// [`EditError::InvalidYaml`] if `doc` does not parse,
/// [`EditError::NotScalar`] if the path leads to a collection,
/// [`EditError::Alias`] if it runs through or ends on an alias, and
/// [`EditError::Unsupported`] for block scalars (`|`, `>`), which
/// [`set_scalar`] could not write back.
pub fn get_scalar(doc: &str, path: &YamlPath) -> Result<Option<String>, EditError> {
    let tree = parse(doc)?;
    let node = match resolve(doc, &tree, path) {
        Ok(Target::Node(node)) => node,
        Ok(Target::Absent { .. } | Target::Empty) | Err(EditError::PathNotFound { .. }) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let Some(inner) = content(node) else {
        return Ok(None);
    };
    let line = inner.start_position().row + 1;
    match inner.kind() {
        "alias" => Err(alias_error(doc, path, inner)),
        "block_scalar" => Err(EditError::Unsupported {
            path: shown(path),
            line,
            reason: "block scalars (`|`, `>`) are not read as values".into(),
        }),
        _ if is_flow_scalar(inner) => Ok(decode_scalar(doc, inner)),
        _ => Err(EditError::NotScalar {
            path: shown(path),
            found: describe(inner),
            line,
        }),
    }
}

/// Every pair whose key is `key` and whose value is a one-line scalar,
/// anywhere in the document, with its path and value, in document order:
/// the values [`reset_keys`] would change. Pairs whose value is an alias
/// (`revision: *rev`) are left out (their anchored definition is a pair
/// of its own), and so are the pairs under a key containing a `.` or a
/// key that is not a scalar, which a [`YamlPath`] cannot name.
///
/// # Errors
/// [`EditError::InvalidYaml`] if `doc` does not parse.
pub fn scalars_of_key(doc: &str, key: &str) -> Result<Vec<(YamlPath, String)>, EditError> {
    let tree = parse(doc)?;
    let mut found: Vec<(usize, YamlPath, String)> = Vec::new();
    let Some(top) = top_node(&tree) else {
        return Ok(Vec::new());
    };
    let mut stack = vec![(top, Vec::<String>::new())];
    while let Some((node, segments)) = stack.pop() {
        let Some(inner) = content(node) else { continue };
        let mut children = Vec::new();
        match inner.kind() {
            "block_mapping" | "flow_mapping" => {
                for pair in mapping_pairs(inner) {
                    let Some(name) = pair
                        .child_by_field_name("key")
                        .and_then(content)
                        .and_then(|k| decode_scalar(doc, k))
                        .filter(|k| !k.contains('.') && !k.is_empty())
                    else {
                        continue;
                    };
                    let Some(value) = pair.child_by_field_name("value") else {
                        continue;
                    };
                    let mut here = segments.clone();
                    here.push(name.clone());
                    if name == key
                        && let Some(scalar) = content(value).filter(|v| is_flow_scalar(*v))
                    {
                        if let Some(text) = decode_scalar(doc, scalar) {
                            found.push((scalar.start_byte(), YamlPath { segments: here }, text));
                        }
                        continue;
                    }
                    children.push((value, here));
                }
            }
            "block_sequence" | "flow_sequence" => {
                for (index, item) in sequence_items(inner).into_iter().enumerate() {
                    let mut here = segments.clone();
                    here.push(index.to_string());
                    children.push((item, here));
                }
            }
            _ => {}
        }
        stack.extend(children.into_iter().rev());
    }
    found.sort_by_key(|(at, _, _)| *at);
    Ok(found
        .into_iter()
        .map(|(_, path, value)| (path, value))
        .collect())
}

/// Every anchor of the document with the node it names, in document order.
fn anchor_definitions<'t>(doc: &str, root: Node<'t>) -> Vec<(String, Node<'t>)> {
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

// ---------------------------------------------------------------------------
// Parsing and validation
// ---------------------------------------------------------------------------

/// Parse `doc` with tree-sitter and check it with `yaml_serde` too, with
/// Helm's tolerance of repeated merge keys (see [`HelmValues`]).
fn parse(doc: &str) -> Result<Tree, EditError> {
    parse_from(doc, None)
}

/// [`parse`], re-using `old` (a tree already told of the edits that made
/// `doc`) so that tree-sitter parses only the edited regions again.
fn parse_from(doc: &str, old: Option<&Tree>) -> Result<Tree, EditError> {
    check_values(doc)?;
    syntax_tree(doc, old)
}

/// Whether `doc` reads as a Helm values file ([`HelmValues`]); the error
/// names line and column.
fn check_values(doc: &str) -> Result<(), EditError> {
    yaml_serde::from_str::<HelmValues>(doc)
        .map(|_| ())
        .map_err(|e| serde_error(&e, ""))
}

/// The syntax tree of `doc` (incremental from `old` when given), refused
/// when tree-sitter cannot read part of it.
fn syntax_tree(doc: &str, old: Option<&Tree>) -> Result<Tree, EditError> {
    let tree = parse_tree_from(doc, old)?;
    let root = tree.root_node();
    if root.has_error() {
        let bad = first_error(root).unwrap_or(root);
        let pos = bad.start_position();
        return Err(EditError::InvalidYaml {
            line: pos.row + 1,
            column: pos.column + 1,
            message: "the syntax tree parser cannot read this construct".into(),
        });
    }
    Ok(tree)
}

/// A document read as Helm reads values files: any YAML value, where a
/// mapping may repeat the merge key `<<` but no other key. Only whether it
/// deserializes matters; `yaml_serde` reports syntax errors, and the
/// duplicate keys refused here, with their line and column.
struct HelmValues;

impl<'de> Deserialize<'de> for HelmValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HelmVisitor)
    }
}

struct HelmVisitor;

impl<'de> de::Visitor<'de> for HelmVisitor {
    type Value = HelmValues;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<HelmValues, E> {
        Ok(HelmValues)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<HelmValues, E> {
        Ok(HelmValues)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<HelmValues, E> {
        Ok(HelmValues)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<HelmValues, E> {
        Ok(HelmValues)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<HelmValues, E> {
        Ok(HelmValues)
    }

    fn visit_unit<E: de::Error>(self) -> Result<HelmValues, E> {
        Ok(HelmValues)
    }

    fn visit_none<E: de::Error>(self) -> Result<HelmValues, E> {
        Ok(HelmValues)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<HelmValues, D::Error> {
        HelmValues::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HelmValues, A::Error> {
        while seq.next_element::<HelmValues>()?.is_some() {}
        Ok(HelmValues)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HelmValues, A::Error> {
        let merge = Value::String("<<".into());
        let mut seen: Vec<Value> = Vec::new();
        while let Some(key) = map.next_key::<Value>()? {
            if key != merge && seen.contains(&key) {
                let shown = match &key {
                    Value::String(s) => format!("{s:?}"),
                    other => yaml_serde::to_string(other)
                        .map_or_else(|_| "?".into(), |t| t.trim().to_owned()),
                };
                return Err(de::Error::custom(format!(
                    "duplicate entry with key {shown}"
                )));
            }
            map.next_value::<HelmValues>()?;
            seen.push(key);
        }
        Ok(HelmValues)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<HelmValues, A::Error> {
        // A tagged value (`!!str 5`, `!custom x`): the tag, then the value.
        let (_tag, contents) = data.variant::<String>()?;
        contents.newtype_variant::<HelmValues>()
    }
}

fn parse_tree(text: &str) -> Result<Tree, EditError> {
    parse_tree_from(text, None)
}

/// Tree-sitter's parse of `text`, incremental from `old` when given.
fn parse_tree_from(text: &str, old: Option<&Tree>) -> Result<Tree, EditError> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_yaml::LANGUAGE.into())
        .map_err(|e| EditError::Internal(format!("YAML grammar unavailable: {e}")))?;
    parser
        .parse(text, old)
        .ok_or_else(|| EditError::Internal("the YAML parser gave up".into()))
}

/// Applies `edits` to `doc` (whose syntax tree is `tree`) and re-parses
/// the result with [`parse_from`], incrementally: the tree is told where the
/// text changed, so only the edited regions are parsed again. Any failure is
/// a bug in this module.
fn apply_checked(
    doc: &str,
    tree: &Tree,
    mut edits: Vec<Edit>,
) -> Result<(String, Tree), EditError> {
    // Last edit first: the text before each edit is still `doc`'s, so its
    // start and old end are positions in `doc`.
    edits.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut edited = tree.clone();
    for edit in &edits {
        let start_position = point_at(doc, edit.start);
        edited.edit(&InputEdit {
            start_byte: edit.start,
            old_end_byte: edit.end,
            new_end_byte: edit.start + edit.text.len(),
            start_position,
            old_end_position: point_at(doc, edit.end),
            new_end_position: advance(start_position, &edit.text),
        });
    }
    let out = splice(doc, edits);
    let new_tree = parse_from(&out, Some(&edited)).map_err(broken_output)?;
    Ok((out, new_tree))
}

/// `doc` with `edits` (non-overlapping) written in.
fn splice(doc: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = doc.to_owned();
    for edit in edits {
        out.replace_range(edit.start..edit.end, &edit.text);
    }
    out
}

fn broken_output(e: EditError) -> EditError {
    EditError::Internal(format!("edited document does not parse: {e}"))
}

/// The row and byte column of byte offset `at` in `text`.
fn point_at(text: &str, at: usize) -> Point {
    let before = &text.as_bytes()[..at];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Point {
        row: before.iter().filter(|&&b| b == b'\n').count(),
        column: at - line_start,
    }
}

/// Where `inserted` ends when written at `start`.
fn advance(start: Point, inserted: &str) -> Point {
    match inserted.rfind('\n') {
        Some(last) => Point {
            row: start.row + inserted.matches('\n').count(),
            column: inserted.len() - last - 1,
        },
        None => Point {
            row: start.row,
            column: start.column + inserted.len(),
        },
    }
}

fn serde_error(e: &yaml_serde::Error, prefix: &str) -> EditError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    EditError::InvalidYaml {
        line,
        column,
        message: format!("{prefix}{e}"),
    }
}

fn first_error(node: Node<'_>) -> Option<Node<'_>> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
    children.into_iter().find_map(first_error)
}

// ---------------------------------------------------------------------------
// Tree navigation
// ---------------------------------------------------------------------------

enum Target<'t> {
    /// The document has no content at all (empty, or only comments).
    Empty,
    /// A `block_node`/`flow_node` holding the value.
    Node(Node<'t>),
    /// A pair with no value (`key:`); `colon_end` is the byte after its `:`.
    Absent { colon_end: usize },
}

/// The document's top `block_node`/`flow_node`, if any.
fn top_node(tree: &Tree) -> Option<Node<'_>> {
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
fn content(node: Node<'_>) -> Option<Node<'_>> {
    if !matches!(node.kind(), "block_node" | "flow_node") {
        return Some(node);
    }
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .find(|n| !matches!(n.kind(), "anchor" | "tag" | "comment"))
}

fn children_of_kind<'t>(node: Node<'t>, kind: &str) -> Vec<Node<'t>> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor)
        .filter(|n| n.kind() == kind)
        .collect()
}

fn describe(node: Node<'_>) -> &'static str {
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

fn resolve<'t>(doc: &str, tree: &'t Tree, path: &YamlPath) -> Result<Target<'t>, EditError> {
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
fn mapping_pairs(mapping: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = mapping.walk();
    mapping
        .named_children(&mut cursor)
        .filter(|n| matches!(n.kind(), "block_mapping_pair" | "flow_pair"))
        .collect()
}

/// The value nodes of a block or flow sequence.
fn sequence_items(sequence: Node<'_>) -> Vec<Node<'_>> {
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

fn colon_end(pair: Node<'_>) -> Option<usize> {
    let mut cursor = pair.walk();
    pair.children(&mut cursor)
        .find(|n| n.kind() == ":")
        .map(|n| n.end_byte())
}

/// End byte of the last non-comment token inside `node` (trailing comments,
/// which tree-sitter often attaches to the deepest mapping, are skipped).
fn last_token_end(node: Node<'_>) -> usize {
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
fn shown(path: &YamlPath) -> String {
    if path.is_root() {
        "(document root)".to_owned()
    } else {
        path.to_string()
    }
}

fn alias_error(doc: &str, path: &YamlPath, alias: Node<'_>) -> EditError {
    let pos = alias.start_position();
    EditError::Alias {
        path: shown(path),
        alias: doc.get(alias.byte_range()).unwrap_or("*?").to_owned(),
        line: pos.row + 1,
        column: pos.column + 1,
    }
}

fn not_mapping(path: &YamlPath, found: &'static str, node: Node<'_>) -> EditError {
    EditError::NotMapping {
        path: shown(path),
        found,
        line: node.start_position().row + 1,
    }
}

// ---------------------------------------------------------------------------
// Scalars: decoding and rendering
// ---------------------------------------------------------------------------

fn is_flow_scalar(node: Node<'_>) -> bool {
    matches!(
        node.kind(),
        "plain_scalar" | "double_quote_scalar" | "single_quote_scalar"
    )
}

/// Whether the scalar `node` reads as `text`: a one-line plain scalar is
/// compared as written, without decoding (most keys of a values file).
fn scalar_is(doc: &str, node: Node<'_>, text: &str) -> bool {
    if node.kind() == "plain_scalar"
        && let Some(raw) = doc.get(node.byte_range())
        && !raw.contains('\n')
    {
        return raw == text;
    }
    decode_scalar(doc, node).is_some_and(|s| s == text)
}

/// The string value of a scalar node (`None` for non-scalars).
fn decode_scalar(doc: &str, node: Node<'_>) -> Option<String> {
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
fn fold_lines(text: &str) -> String {
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
fn plain_kind(value: &str) -> Option<&'static str> {
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
fn read_plain_kind(value: &str) -> Option<&'static str> {
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
fn scalar_kind(plain: Node<'_>) -> Option<&'static str> {
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
fn yaml11_ambiguous(value: &str) -> bool {
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

fn in_flow_context(node: Node<'_>) -> bool {
    let mut current = node.parent();
    while let Some(n) = current {
        if matches!(n.kind(), "flow_mapping" | "flow_sequence") {
            return true;
        }
        current = n.parent();
    }
    false
}

fn double_quoted(value: &str) -> String {
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

fn single_quoted(value: &str) -> String {
    if value.chars().any(char::is_control) {
        return double_quoted(value);
    }
    format!("'{}'", value.replace('\'', "''"))
}

fn plain_or_quoted(value: &str, old_kind: Option<&str>, in_flow: bool) -> String {
    let flow_safe = !in_flow || !value.contains([',', '[', ']', '{', '}']);
    match plain_kind(value) {
        Some(kind) if flow_safe && old_kind.is_none_or(|old| old == kind) => value.to_owned(),
        _ => double_quoted(value),
    }
}

/// Rendering for a value replacing a null / empty value: any plain kind.
fn render_for_null(value: &str, in_flow: bool) -> String {
    plain_or_quoted(value, None, in_flow)
}

/// Render `key` for a new mapping entry.
fn render_key(key: &str) -> String {
    match plain_kind(key) {
        Some("string_scalar") if !key.contains([':', '#', ',', '[', ']', '{', '}']) => {
            key.to_owned()
        }
        _ => double_quoted(key),
    }
}

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

/// The edit that sets the flow scalar `scalar` to `value`, or `None` if it
/// already has that value.
fn flow_scalar_edit(doc: &str, scalar: Node<'_>, value: &str) -> Option<Edit> {
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

fn scalar_edit(
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

// ---------------------------------------------------------------------------
// add_entry helpers
// ---------------------------------------------------------------------------

fn existing_entry(
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
fn indent_unit(root: Node<'_>) -> usize {
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

fn line_end(doc: &str, offset: usize) -> usize {
    doc.get(offset..)
        .and_then(|rest| rest.find('\n'))
        .map_or(doc.len(), |i| offset + i + 1)
}

fn indentation_of_line(doc: &str, offset: usize) -> usize {
    let start = doc
        .get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    doc.get(start..)
        .map_or(0, |line| line.len() - line.trim_start_matches(' ').len())
}

fn render_entry(key: &str, fragment: &str, value: &Value, indent: usize, unit: usize) -> String {
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

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> YamlPath {
        s.parse().expect("valid path")
    }

    fn set(doc: &str, path: &str, value: &str) -> String {
        set_scalar(doc, &p(path), value).expect("set_scalar")
    }

    /// Every node as (kind, byte range, start and end points), in order.
    fn nodes(tree: &Tree) -> Vec<(String, usize, usize, Point, Point)> {
        let mut out = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            out.push((
                node.kind().to_string(),
                node.start_byte(),
                node.end_byte(),
                node.start_position(),
                node.end_position(),
            ));
            let mut cursor = node.walk();
            let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
        out
    }

    #[test]
    fn incremental_reparse_equals_a_full_parse() {
        // The real phalanx values files: every integer scalar rewritten to
        // one of another length, a multi-line entry inserted at the top and
        // one appended, as the edits of this module do.
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/phalanx");
        let mut checked = 0;
        for dir in std::fs::read_dir(format!("{root}/applications")).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let doc = std::fs::read_to_string(file.unwrap().path()).unwrap();
                let tree = parse(&doc).unwrap();
                let mut edits: Vec<Edit> = nodes(&tree)
                    .into_iter()
                    .filter(|(kind, ..)| kind == "integer_scalar")
                    .map(|(_, start, end, ..)| Edit {
                        start,
                        end,
                        text: "12345".into(),
                    })
                    .collect();
                edits.push(Edit {
                    start: 0,
                    end: 0,
                    text: "x-new:\n  a: 1\n".into(),
                });
                edits.push(Edit {
                    start: doc.len(),
                    end: doc.len(),
                    text: "\nx-last: 2\n".into(),
                });
                let (out, incremental) = apply_checked(&doc, &tree, edits).unwrap();
                assert_eq!(nodes(&incremental), nodes(&parse_tree(&out).unwrap()));
                checked += 1;
            }
        }
        assert!(checked >= 20, "{checked} files");
    }

    #[test]
    fn path_parsing() {
        assert_eq!(p("a.b.0.c").segments(), ["a", "b", "0", "c"]);
        assert_eq!(p("a.b.0.c").to_string(), "a.b.0.c");
        assert!(p("").is_root());
        for bad in [".a", "a.", "a..b", "."] {
            let err = bad.parse::<YamlPath>().expect_err(bad);
            assert!(matches!(err, EditError::InvalidPath { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn keeps_double_quotes() {
        let doc = "controlSystem:\n  imageTag: \"c0042\" # cycle\n  other: 1\n";
        assert_eq!(
            set(doc, "controlSystem.imageTag", "c0044"),
            "controlSystem:\n  imageTag: \"c0044\" # cycle\n  other: 1\n"
        );
        assert_eq!(
            set(doc, "controlSystem.imageTag", "say \"hi\"\\"),
            "controlSystem:\n  imageTag: \"say \\\"hi\\\"\\\\\" # cycle\n  other: 1\n"
        );
    }

    #[test]
    fn keeps_single_quotes() {
        let doc = "a: 'x'\n";
        assert_eq!(set(doc, "a", "it's"), "a: 'it''s'\n");
        assert_eq!(set(doc, "a", "line\nbreak"), "a: \"line\\nbreak\"\n");
        // Equality is checked on the decoded value.
        assert_eq!(set("a: 'it''s'\n", "a", "it's"), "a: 'it''s'\n");
    }

    #[test]
    fn plain_stays_plain_when_same_kind() {
        assert_eq!(set("cycle: 42\n", "cycle", "44"), "cycle: 44\n");
        assert_eq!(set("tag: c0043\n", "tag", "c0044"), "tag: c0044\n");
        assert_eq!(set("f: 1.5\n", "f", "2.25"), "f: 2.25\n");
        assert_eq!(set("b: true\n", "b", "false"), "b: false\n");
        // Kind changes fall back to double quotes.
        assert_eq!(set("cycle: 42\n", "cycle", "c0044"), "cycle: \"c0044\"\n");
        assert_eq!(set("tag: c0043\n", "tag", "44"), "tag: \"44\"\n");
        assert_eq!(set("tag: c0043\n", "tag", "yes"), "tag: \"yes\"\n");
        assert_eq!(set("tag: c0043\n", "tag", "a: b"), "tag: \"a: b\"\n");
        assert_eq!(set("tag: c0043\n", "tag", "x # y"), "tag: \"x # y\"\n");
        assert_eq!(set("tag: c0043\n", "tag", ""), "tag: \"\"\n");
        assert_eq!(set("tag: c0043\n", "tag", "*x"), "tag: \"*x\"\n");
        assert_eq!(set("tag: c0043\n", "tag", "1.2.3"), "tag: \"1.2.3\"\n");
    }

    #[test]
    fn null_and_empty_values_take_any_plain_kind() {
        assert_eq!(set("a: ~\n", "a", "4"), "a: 4\n");
        assert_eq!(set("a: null\n", "a", "c0044"), "a: c0044\n");
        assert_eq!(set("a:\nb: 1\n", "a", "4"), "a: 4\nb: 1\n");
        assert_eq!(
            set("a: # note\nb: 1\n", "a", "x y"),
            "a: x y # note\nb: 1\n"
        );
    }

    #[test]
    fn unchanged_value_is_byte_identical() {
        let doc = "a:\n  b: \"c0044\"\n  n: 44\n";
        assert_eq!(set(doc, "a.b", "c0044"), doc);
        assert_eq!(set(doc, "a.n", "44"), doc);
    }

    #[test]
    fn sequences_and_flow_collections() {
        let doc = "list:\n  - name: a\n    rev: 1\n  - name: b\n    rev: 2\n";
        assert_eq!(
            set(doc, "list.1.rev", "0"),
            "list:\n  - name: a\n    rev: 1\n  - name: b\n    rev: 0\n"
        );
        assert_eq!(set("m: {a: 1, b: x}\n", "m.b", "z"), "m: {a: 1, b: z}\n");
        // `y` is a boolean to YAML 1.1 readers such as Helm.
        assert_eq!(
            set("m: {a: 1, b: x}\n", "m.b", "y"),
            "m: {a: 1, b: \"y\"}\n"
        );
        assert_eq!(
            set("m: {a: 1, b: x}\n", "m.b", "u,v"),
            "m: {a: 1, b: \"u,v\"}\n"
        );
        assert_eq!(set("s: [1, 2]\n", "s.1", "5"), "s: [1, 5]\n");
        assert_eq!(set("{a: 1}", "a", "2"), "{a: 2}");
    }

    #[test]
    fn anchored_scalar_keeps_anchor_and_alias_is_refused() {
        let doc = "a: &rev 4\nb: *rev\n";
        assert_eq!(set(doc, "a", "0"), "a: &rev 0\nb: *rev\n");
        let err = set_scalar(doc, &p("b"), "0").expect_err("alias");
        assert!(
            matches!(&err, EditError::Alias { alias, line: 2, .. } if alias == "*rev"),
            "{err}"
        );
        let doc = "x: &base\n  image:\n    revision: 3\ny:\n  <<: *base\n";
        let err = set_scalar(doc, &p("y.image.revision"), "0").expect_err("merged");
        assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
    }

    #[test]
    fn errors() {
        let doc = "a:\n  b: 1\n  c: [1]\n";
        let err = set_scalar(doc, &p("a.x"), "1").expect_err("missing");
        assert_eq!(
            err.to_string(),
            "path `a.x` not found: no key `x` in the mapping at `a` (line 2)"
        );
        let err = set_scalar(doc, &p("a"), "1").expect_err("mapping");
        assert_eq!(
            err,
            EditError::NotScalar {
                path: "a".into(),
                found: "mapping",
                line: 2
            }
        );
        let err = set_scalar(doc, &p(""), "1").expect_err("root");
        assert_eq!(
            err.to_string(),
            "`(document root)` at line 1 is a mapping, not a scalar value"
        );
        let err = set_scalar(doc, &p("a.c"), "1").expect_err("sequence");
        assert!(matches!(
            err,
            EditError::NotScalar {
                found: "sequence",
                ..
            }
        ));
        let err = set_scalar(doc, &p("a.b.c"), "1").expect_err("scalar");
        assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
        let err = set_scalar(doc, &p("a.c.3"), "1").expect_err("index");
        assert!(err.to_string().contains("has 1 items"), "{err}");
        let err = set_scalar("a: |\n  text\n", &p("a"), "x").expect_err("block");
        assert!(
            matches!(err, EditError::Unsupported { line: 1, .. }),
            "{err}"
        );
        assert_eq!(set("a: |\n  text\n", "a", "text\n"), "a: |\n  text\n");
    }

    #[test]
    fn invalid_yaml_reports_position() {
        let doc = "a:\n  b: 1\n c: [\n";
        let err = set_scalar(doc, &p("a.b"), "2").expect_err("invalid");
        let EditError::InvalidYaml { line, .. } = err else {
            panic!("expected InvalidYaml, got {err}");
        };
        assert_eq!(line, 3);
        let err = set_scalar("a:\n\tb: 1\n", &p("a.b"), "2").expect_err("tab");
        assert!(
            matches!(err, EditError::InvalidYaml { line: 2, .. }),
            "{err}"
        );
        let err = reset_keys("a: b: c\n", "a", "1").expect_err("invalid");
        assert!(
            matches!(err, EditError::InvalidYaml { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn weird_inputs_do_not_panic() {
        for doc in [
            "",
            "\n",
            "# only a comment\n",
            "just a scalar",
            "42",
            "- a\n- b\n",
            "{a: 1}",
            "[1, 2]",
            "---\n",
            "a:\n",
            "&x a",
            "*x",
            "\u{feff}a: 1\n",
            "a: 1\n---\nb: 2\n",
            "? complex\n: key\n",
            "a: !!str 5\n",
            "\"a\": 1",
            "a:\r\n  b: 1\r\n",
        ] {
            let _ = set_scalar(doc, &p("a"), "1");
            let _ = set_scalar(doc, &p("a.b"), "1");
            let _ = set_scalar(doc, &p("0"), "1");
            let _ = set_scalar(doc, &p(""), "1");
            let _ = reset_keys(doc, "a", "1");
            let _ = add_entry(doc, &p(""), "k", "v");
            let _ = add_entry(doc, &p("a"), "k", "x: 1");
        }
        assert_eq!(set("just a scalar", "", "other"), "other");
        assert_eq!(set("42", "", "43"), "43");
        assert_eq!(set("a: !!str 5\n", "a", "6"), "a: !!str 6\n");
        assert_eq!(set("a:\r\n  b: 1\r\n", "a.b", "2"), "a:\r\n  b: 2\r\n");
    }

    #[test]
    fn reset_keys_everywhere() {
        let doc = "\
x: &base
  image:
    revision: 3 # pinned
y:
  <<: *base
  image:
    revision: '2'
list:
  - revision: \"7\"
  - revision: 0
  - {revision: 5, other: 1}
alias: &r 9
z:
  revision: *r
  nested:
    revision:
    deeper:
      revision: null
";
        let (out, n) = reset_keys(doc, "revision", "0").expect("reset");
        assert_eq!(n, 5);
        assert_eq!(
            out,
            "\
x: &base
  image:
    revision: 0 # pinned
y:
  <<: *base
  image:
    revision: '0'
list:
  - revision: \"0\"
  - revision: 0
  - {revision: 0, other: 1}
alias: &r 9
z:
  revision: *r
  nested:
    revision:
    deeper:
      revision: 0
"
        );
        let (again, n) = reset_keys(&out, "revision", "0").expect("reset");
        assert_eq!((again.as_str(), n), (out.as_str(), 0));
    }

    #[test]
    fn add_entry_block_mapping() {
        let doc = "\
atdome:
  image:
    revision: 4 # note
# next section
atmcs:
  enabled: true
";
        let out = add_entry(
            doc,
            &p(""),
            "atnew",
            "image:\n  revision: 0\n  pullPolicy: Always\n",
        )
        .expect("add");
        assert_eq!(
            out,
            "\
atdome:
  image:
    revision: 4 # note
# next section
atmcs:
  enabled: true
atnew:
  image:
    revision: 0
    pullPolicy: Always
"
        );
        let out = add_entry(
            doc,
            &p("atdome.image"),
            "repository",
            "ts-dockerhub.lsst.org/atdome",
        )
        .expect("add");
        assert_eq!(
            out,
            "\
atdome:
  image:
    revision: 4 # note
    repository: ts-dockerhub.lsst.org/atdome
# next section
atmcs:
  enabled: true
"
        );
        // Same value: unchanged; different: error.
        assert_eq!(
            add_entry(&out, &p("atdome.image"), "revision", "4").expect("same"),
            out
        );
        let err = add_entry(&out, &p("atdome.image"), "revision", "5").expect_err("exists");
        assert!(
            matches!(&err, EditError::KeyExists { line: 3, existing, .. } if existing == "4"),
            "{err}"
        );
    }

    #[test]
    fn add_entry_edge_cases() {
        assert_eq!(add_entry("", &p(""), "a", "1").expect("empty"), "a: 1\n");
        assert_eq!(
            add_entry("# c\n", &p(""), "a", "b: 1").expect("comment only"),
            "# c\na:\n  b: 1\n"
        );
        assert_eq!(
            add_entry("x: 1", &p(""), "a", "1").expect("no newline"),
            "x: 1\na: 1"
        );
        assert_eq!(
            add_entry("x:\ny: 2\n", &p("x"), "a", "1").expect("absent"),
            "x:\n  a: 1\ny: 2\n"
        );
        assert_eq!(
            add_entry("x:\n    y: 2\n", &p("x"), "a", "b: 1").expect("4-space"),
            "x:\n    y: 2\n    a:\n        b: 1\n"
        );
        assert_eq!(
            add_entry("x:\n  y: 2\n", &p("x"), "needs: quote", "[1, 2]").expect("key"),
            "x:\n  y: 2\n  \"needs: quote\": [1, 2]\n"
        );
        let err = add_entry("x: {y: 1}\n", &p("x"), "a", "1").expect_err("flow");
        assert!(matches!(err, EditError::NotMapping { .. }), "{err}");
        let err = add_entry("x: 1\n", &p("x"), "a", "1").expect_err("scalar");
        assert!(
            matches!(
                err,
                EditError::NotMapping {
                    found: "scalar",
                    ..
                }
            ),
            "{err}"
        );
        let err = add_entry("x: 1\n", &p(""), "a", "b: [").expect_err("bad fragment");
        assert!(matches!(err, EditError::InvalidYaml { .. }), "{err}");
    }

    #[test]
    fn repeated_merge_keys_are_read_as_helm_reads_them() {
        let doc = "\
x-a: &a
  affinity: {}
x-b: &b
  secret: s
comp:
  <<: *a
  <<: *b
  image:
    revision: 3
";
        let (out, n) = reset_keys(doc, "revision", "0").expect("repeated merge keys");
        assert_eq!(n, 1);
        assert_eq!(out, doc.replace("revision: 3", "revision: 0"));
        assert_eq!(
            set(doc, "comp.image.revision", "4"),
            doc.replace("revision: 3", "revision: 4")
        );
        // Any other repeated key is still refused, at its mapping.
        let err = reset_keys("a: 1\nb:\n  c: 1\n  c: 2\n", "c", "0").expect_err("dup");
        assert!(
            matches!(&err, EditError::InvalidYaml { line: 3, message, .. }
                if message.contains("duplicate entry with key \"c\"")),
            "{err}"
        );
        // Tags and multi-line values still read.
        assert_eq!(
            set("a: !!str 5\nb: !x {c: 1}\n", "a", "6"),
            "a: !!str 6\nb: !x {c: 1}\n"
        );
    }

    #[test]
    fn set_keys_under_components_only() {
        let doc = "\
x-producer: &producer
  image:
    revision: 6
x-pod: &pod
  affinity: {}
love-manager:
  manager:
    frontend:
      image:
        revision: '6'
    producers:
    - name: general
      <<: *producer
    - name: atqueue
      <<: *producer
  <<: *pod
love-commander:
  image:
    revision: 3
  <<: *pod
";
        let comps = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let (out, n) =
            set_keys_under(doc, &comps(&["love-manager"]), "revision", "7").expect("set");
        assert_eq!(n, 2);
        assert_eq!(
            out,
            doc.replacen("revision: 6", "revision: 7", 1)
                .replace("revision: '6'", "revision: '7'")
        );
        let (again, n) =
            set_keys_under(&out, &comps(&["love-manager"]), "revision", "7").expect("again");
        assert_eq!((again.as_str(), n), (out.as_str(), 0));

        // The producer definition is also used by a component not restarted.
        let shared = format!("{doc}other:\n  <<: *producer\n");
        let err = set_keys_under(&shared, &comps(&["love-manager"]), "revision", "7")
            .expect_err("shared");
        assert!(
            matches!(&err, EditError::SharedAnchor { anchor, other, line: 3, other_line: 22, .. }
                if anchor == "producer" && other == "other"),
            "{err}"
        );
        let (_, n) = set_keys_under(&shared, &comps(&["love-manager", "other"]), "revision", "7")
            .expect("both restarted");
        assert_eq!(n, 2);

        // A revision that is an alias of another component's revision.
        let doc = "at1:\n  revision: &r 4\nat2:\n  revision: *r\n";
        let err = set_keys_under(doc, &comps(&["at2"]), "revision", "5").expect_err("alias");
        assert!(
            matches!(&err, EditError::SharedAnchor { other, other_line: 2, .. } if other == "at1"),
            "{err}"
        );
        let (out, n) = set_keys_under(doc, &comps(&["at1", "at2"]), "revision", "5").expect("both");
        assert_eq!(
            (out.as_str(), n),
            ("at1:\n  revision: &r 5\nat2:\n  revision: *r\n", 1)
        );

        // A definition held by another component is that component's own.
        let held = "at1: &base\n  revision: 4\nat2:\n  <<: *base\n";
        let err = set_keys_under(held, &comps(&["at2"]), "revision", "5").expect_err("held");
        assert!(
            matches!(&err, EditError::SharedAnchor { other, .. } if other == "at1"),
            "{err}"
        );

        let err = set_keys_under(doc, &comps(&["nope"]), "revision", "5").expect_err("missing");
        assert!(matches!(err, EditError::PathNotFound { .. }), "{err}");
        assert_eq!(top_level_keys(doc).expect("keys"), ["at1", "at2"]);
        assert!(top_level_keys("").expect("empty").is_empty());
    }

    #[test]
    fn get_scalar_reads_what_set_scalar_writes() {
        let doc = "a: &x\n  tag: \"c0044\" # the cycle\n  n: 3\nb: *x\nc:\nlist:\n  - 'q'\nblock: |\n  text\n";
        let get = |path: &str| get_scalar(doc, &p(path));
        assert_eq!(get("a.tag").unwrap().as_deref(), Some("c0044"));
        assert_eq!(get("a.n").unwrap().as_deref(), Some("3"));
        assert_eq!(get("list.0").unwrap().as_deref(), Some("q"));
        // Absent paths and empty values read as none.
        assert_eq!(get("a.missing").unwrap(), None);
        assert_eq!(get("c").unwrap(), None);
        assert_eq!(get("list.3").unwrap(), None);
        assert!(matches!(get("a"), Err(EditError::NotScalar { .. })));
        assert!(matches!(get("b.tag"), Err(EditError::Alias { .. })));
        assert!(matches!(get("block"), Err(EditError::Unsupported { .. })));
        assert!(matches!(
            get_scalar("a: [", &p("a")),
            Err(EditError::InvalidYaml { .. })
        ));
    }

    #[test]
    fn scalars_of_key_lists_what_reset_keys_changes() {
        let doc = "\
x-base: &base
  image:
    revision: 6 # shared
one:
  <<: *base
two:
  image:
    revision: '2'
  sidecars:
    - name: s
      revision: 3
    - {name: t, revision: 4}
three:
  revision: *base
dotted.key:
  revision: 9
";
        let found: Vec<(String, String)> = scalars_of_key(doc, "revision")
            .unwrap()
            .into_iter()
            .map(|(path, value)| (path.to_string(), value))
            .collect();
        let expected = [
            ("x-base.image.revision", "6"),
            ("two.image.revision", "2"),
            ("two.sidecars.0.revision", "3"),
            ("two.sidecars.1.revision", "4"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(found, expected);
        // Each path reads back, and reset_keys changes the same values
        // (plus the one under `dotted.key`, which no path can name).
        for (path, value) in &found {
            assert_eq!(get_scalar(doc, &p(path)).unwrap().as_ref(), Some(value));
        }
        assert_eq!(reset_keys(doc, "revision", "0").unwrap().1, found.len() + 1);
        assert!(scalars_of_key("", "revision").unwrap().is_empty());
    }
}
