//! Reading values back: a scalar at a path, and every scalar of a key
//! (what a revert reads from an older commit).

use super::*;

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
