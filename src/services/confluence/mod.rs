//! Confluence adapter: finds, creates and updates the cycle page.
//!
//! Two layers:
//!
//! - [`ConfluenceApi`], a small object-safe trait over the REST calls the
//!   step needs (find a page by space and title, create, update with the
//!   next version, set the full-width appearance), with one real
//!   implementation, [`ConfluenceClient`], for Confluence Cloud's REST API v2
//!   ([`Api::CloudV2`], the default) and Data Center's REST API v1
//!   ([`Api::DataCenterV1`]). Which API is used comes from configuration,
//!   never from the host name.
//! - The step logic above it, generic over the trait: [`find`] (read only,
//!   for dry runs: absent, identical, or differs with a diff of the owned
//!   sections) and [`ensure`] (observe, then create or update only what
//!   differs). The page body is spliced with [`crate::edit::storage`]: the
//!   tool replaces its own sections and keeps everything people wrote
//!   around them.
//!
//! # Requests
//!
//! Cloud v2: `GET /wiki/api/v2/spaces?keys=KEY` (the space id, cached),
//! `GET /wiki/api/v2/pages?space-id=&title=&status=current&body-format=storage`,
//! `POST /wiki/api/v2/pages`, `PUT /wiki/api/v2/pages/{id}` (version
//! `current + 1`), and on a new page the content properties
//! `content-appearance-draft` and `content-appearance-published` set to
//! `full-width` (`GET`/`POST`/`PUT /wiki/api/v2/pages/{id}/properties`).
//! Data Center v1: `GET /rest/api/content?type=page&spaceKey=&title=&expand=body.storage,version`,
//! `POST /rest/api/content`, `PUT /rest/api/content/{id}`; the appearance is
//! left to Confluence there. Page links are `_links.base` + `_links.webui`.
//!
//! # Retries
//!
//! Every call goes through [`http::client`](crate::services::http::client) (timeouts) and
//! [`http::with_retry`](crate::services::http::with_retry): 5xx, 429 (after its `Retry-After`) and transport
//! errors are retried with backoff. A create is retried only after looking
//! again for the page (or property) it creates, and an update only after
//! re-reading the page, so a lost response never creates twice. A 409 on
//! update (someone saved the page meanwhile) makes [`ensure`] re-read,
//! re-merge and retry once before reporting it.
//!
//! # Environment
//!
//! `CONFLUENCE_URL` (the site, e.g. `https://rubinobs.atlassian.net`), and
//! `CONFLUENCE_USER` with `CONFLUENCE_API_TOKEN` (Cloud: account e-mail and
//! API token, HTTP Basic) or `CONFLUENCE_PAT` (Data Center personal access
//! token, Bearer). Tokens never appear in URLs, errors or `Debug` output.

mod client;
mod config;
mod error;
mod page;
#[cfg(test)]
mod tests;
mod types;
mod wire;

pub use self::client::*;
pub use self::config::*;
pub use self::error::*;
pub use self::page::*;
pub use self::types::*;
pub use self::wire::*;
pub use crate::model::request::PageRequest;

/// The site URL.
pub const URL_ENV: &str = "CONFLUENCE_URL";
/// Cloud: the account (e-mail) the API token belongs to.
pub const USER_ENV: &str = "CONFLUENCE_USER";
/// Cloud: the API token (HTTP Basic with [`USER_ENV`]).
pub const API_TOKEN_ENV: &str = "CONFLUENCE_API_TOKEN";
/// Data Center: a personal access token (HTTP Bearer).
pub const PAT_ENV: &str = "CONFLUENCE_PAT";

/// Content-property keys of the page appearance (Cloud).
const APPEARANCE_KEYS: [&str; 2] = ["content-appearance-draft", "content-appearance-published"];
/// The appearance set on new pages.
const FULL_WIDTH: &str = "full-width";
/// Longest service message quoted in an error.
const MAX_MESSAGE: usize = 300;
