//! Parsing and validation: the syntax tree of a document, its check with
//! `yaml_serde` under Helm's tolerance of repeated merge keys, and the
//! splicing of edits with the output checked again.

use super::*;

/// Parse `doc` with tree-sitter and check it with `yaml_serde` too, with
/// Helm's tolerance of repeated merge keys (see [`HelmValues`]).
pub(super) fn parse(doc: &str) -> Result<Tree, EditError> {
    parse_from(doc, None)
}

/// [`parse`], re-using `old` (a tree already told of the edits that made
/// `doc`) so that tree-sitter parses only the edited regions again.
pub(super) fn parse_from(doc: &str, old: Option<&Tree>) -> Result<Tree, EditError> {
    check_values(doc)?;
    syntax_tree(doc, old)
}

/// Whether `doc` reads as a Helm values file ([`HelmValues`]); the error
/// names line and column.
pub(super) fn check_values(doc: &str) -> Result<(), EditError> {
    yaml_serde::from_str::<HelmValues>(doc)
        .map(|_| ())
        .map_err(|e| serde_error(&e, ""))
}

/// The syntax tree of `doc` (incremental from `old` when given), refused
/// when tree-sitter cannot read part of it.
pub(super) fn syntax_tree(doc: &str, old: Option<&Tree>) -> Result<Tree, EditError> {
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
pub(super) struct HelmValues;

impl<'de> Deserialize<'de> for HelmValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(HelmVisitor)
    }
}

pub(super) struct HelmVisitor;

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

pub(super) fn parse_tree(text: &str) -> Result<Tree, EditError> {
    parse_tree_from(text, None)
}

/// Tree-sitter's parse of `text`, incremental from `old` when given.
pub(super) fn parse_tree_from(text: &str, old: Option<&Tree>) -> Result<Tree, EditError> {
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
pub(super) fn apply_checked(
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
pub(super) fn splice(doc: &str, mut edits: Vec<Edit>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = doc.to_owned();
    for edit in edits {
        out.replace_range(edit.start..edit.end, &edit.text);
    }
    out
}

pub(super) fn broken_output(e: EditError) -> EditError {
    EditError::Internal(format!("edited document does not parse: {e}"))
}

/// The row and byte column of byte offset `at` in `text`.
pub(super) fn point_at(text: &str, at: usize) -> Point {
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
pub(super) fn advance(start: Point, inserted: &str) -> Point {
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

pub(super) fn serde_error(e: &yaml_serde::Error, prefix: &str) -> EditError {
    let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
    EditError::InvalidYaml {
        line,
        column,
        message: format!("{prefix}{e}"),
    }
}

pub(super) fn first_error(node: Node<'_>) -> Option<Node<'_>> {
    if node.is_error() || node.is_missing() {
        return Some(node);
    }
    let mut cursor = node.walk();
    let children: Vec<Node<'_>> = node.children(&mut cursor).collect();
    children.into_iter().find_map(first_error)
}
