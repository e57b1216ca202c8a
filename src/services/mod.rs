//! Service adapters of the imperative shell: thin wrappers around external
//! systems (git remotes, ...) with errors that tell the user what to do.

pub mod conda;
pub mod confluence;
pub mod cycle_build;
pub mod git;
pub mod github;
pub mod http;
pub mod jira;
pub mod slack;
