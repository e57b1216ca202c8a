//! What the conda channel answers for a package, as data: the adapter
//! (`services::conda`) fills it, `cycle check`'s rules read it. Pure.

/// One file of a conda package in the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CondaFile {
    /// Version.
    pub version: String,
    /// Build string.
    pub build: String,
    /// Platform subdirectory (`linux-64`, `noarch`).
    pub platform: String,
}

/// The channel's answer for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondaAnswer {
    /// The package's files.
    Files(Vec<CondaFile>),
    /// The channel has no such package (404).
    Missing,
    /// The lookup failed.
    Failed(String),
}
