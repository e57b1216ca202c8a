//! Format-preserving edits of other teams' files (pure): YAML scalars and
//! entries, shell-style env lines, a repository's whole set of edits, the
//! owned sections of the Confluence page, and a revert to an earlier cycle's
//! values.

pub mod env;
pub mod repo;
pub mod revert;
pub mod storage;
pub mod summary;
pub mod yaml;
