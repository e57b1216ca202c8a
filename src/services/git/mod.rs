//! Git adapter: a cache of bare clones edited without a working tree.
//!
//! Every remote repository `cycle` touches is kept as a **bare** clone under a
//! cache directory ([`RepoCache`]). Branches are prepared purely in the object
//! database: files are read from a commit's tree ([`CachedRepo::read_file`]),
//! new blobs and trees are written with [`git2::build::TreeUpdateBuilder`]
//! ([`CachedRepo::commit_files`]), and a local branch ref is moved
//! ([`CachedRepo::set_local_branch`]). Because nothing is ever checked out,
//! several sites can prepare different branches of the same repository at the
//! same time.
//!
//! Two kinds of clones:
//!
//! * [`RepoCache::sync`] keeps every branch with its whole history
//!   (`+refs/heads/*:refs/remotes/origin/*`, pruned): for small repositories
//!   read at any branch, tag or commit (ts_cycle_build);
//! * [`RepoCache::sync_branches`] keeps only the branches a run uses, and
//!   **shallow**: a clone or a fetch that brings a new tip brings it with
//!   depth 1 (its tree, not its history), so a run never pays for the
//!   length of the history or for the refs it does not use (GitHub
//!   advertises thousands of `refs/pull/*` for phalanx). The history checks
//!   ([`CachedRepo::is_ancestor`], [`CachedRepo::merge_base`]) answer from
//!   what the cache has; [`CachedRepo::history_complete`] tells when that
//!   answer may be cut short by the shallow boundary, and
//!   [`CachedRepo::deepen`] fetches more history. A remote-tracking ref of
//!   a branch the remote no longer has is pruned at each fetch.
//!
//! Over HTTP the server's advertisement is cut down to the refs asked for
//! before libgit2 reads it (see `git::http`); a push is shown only
//! the pushed branch and the branches the cache tracks, so libgit2 walks
//! those alone when it works out what the server lacks. Pushes are never
//! forced.
//!
//! # Transport and credentials
//!
//! `http://` and `https://` remotes go through this crate's own smart-HTTP
//! transport on reqwest (`git::http`): connect and idle timeouts
//! ([`RepoCache::with_timeout`]), rustls, kept-alive connections. The GitHub
//! token ([`Credentials`]) goes with each request as HTTP Basic auth
//! (`x-access-token`), only to the origin (scheme, host, port) of the GitHub
//! server it belongs to (`GITHUB_SERVER_URL`), and only over https or to this
//! machine; a repository anywhere else is reached without it, and a refusal
//! there is [`GitError::ForeignHost`]. It never enters a URL, the cache's
//! `config` file, an error message or `Debug` output. A rejected token fails
//! at once with [`GitError::AuthRejected`]; ssh URLs
//! authenticate through the ssh agent (libgit2's ssh transport).
//!
//! # Threads
//!
//! [`RepoCache`] is `Send + Sync`; [`RepoCache::sync`] serialises concurrent
//! syncs of the same URL (in-process mutex plus a lock file, so separate
//! processes are safe too). A [`CachedRepo`] wraps a [`git2::Repository`], which
//! is `Send` but not `Sync`: open one per thread (cheap) rather than sharing.
//!
//! # Environment
//!
//! `GITHUB_TOKEN` ([`Credentials::from_env`]), `GIT_AUTHOR_NAME`, `GIT_AUTHOR_EMAIL`,
//! `GIT_COMMITTER_NAME`, `GIT_COMMITTER_EMAIL` ([`signatures_from_env`]).

mod auth;
mod cache;
mod error;
pub mod history;
mod http;
mod objects;
mod remote;
#[cfg(test)]
mod tests;

pub use self::auth::*;
pub use self::cache::*;
pub use self::error::*;
pub use self::objects::*;
use self::remote::*;

use std::time::Duration;

/// Name of the environment variable holding the GitHub token.
pub const TOKEN_ENV: &str = "GITHUB_TOKEN";

/// The name of the cloned remote in every cached clone.
pub const REMOTE: &str = "origin";
const FETCH_REFSPEC: &str = "+refs/heads/*:refs/remotes/origin/*";
/// libgit2's depth for "all the history" (`GIT_FETCH_DEPTH_UNSHALLOW`).
const UNSHALLOW: i32 = i32::MAX;
/// The depths a history check deepens a shallow cache to, in turn, before
/// it fetches the whole history.
pub const DEEPEN_STEPS: [i32; 2] = [32, 512];
/// The depths a walk back to an earlier cycle deepens a shallow clone to,
/// before all of it: a cycle's worth of phalanx's `main` is a few thousand
/// commits, and fetching the whole history (18,900 commits in 2026) costs
/// memory and time a revert to the last cycle does not need.
pub const HISTORY_STEPS: [i32; 4] = [32, 512, 2048, 8192];
const HTTP_USER: &str = "x-access-token";
/// The variable naming the GitHub server the token belongs to.
pub const SERVER_ENV: &str = "GITHUB_SERVER_URL";
/// The GitHub server when [`SERVER_ENV`] is not set.
pub const DEFAULT_SERVER: &str = "https://github.com";
/// Delays before the retries of a clone/fetch that failed with a transient
/// network error (so at most `1 + RETRY_DELAYS.len()` attempts).
const RETRY_DELAYS: [Duration; 2] = [Duration::from_millis(500), Duration::from_millis(2000)];
