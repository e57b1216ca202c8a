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

mod ops;
mod parse;
mod read;
mod scalar;
mod tree;

pub use ops::{add_entry, reset_keys, set_keys_under, set_scalar, top_level_keys};
use parse::*;
pub use read::{get_scalar, scalars_of_key};
use scalar::*;
use tree::*;

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

#[cfg(test)]
mod tests;
