//! Format-preserving edits of other teams' files (pure): YAML scalars and
//! entries, shell-style env lines, a repository's whole set of edits, and
//! the owned sections of the Confluence page.

pub mod env;
pub mod repo;
pub mod storage;
pub mod summary;
pub mod yaml;
