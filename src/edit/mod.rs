//! Format-preserving edits of other teams' files (pure): YAML scalars and
//! entries, shell-style env lines, and a repository's whole set of edits.

pub mod env;
pub mod repo;
pub mod summary;
pub mod yaml;
