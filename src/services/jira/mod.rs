//! Jira adapter: finds a cycle's ticket by its exact summary and files it
//! when it is missing, without ever filing it twice.
//!
//! # Layers
//!
//! - [`JiraApi`]: the three calls the steps need (search, create, update
//!   fields), object-safe so the engine can hold an `Arc<dyn JiraApi>`.
//!   [`JiraClient`] is the real implementation.
//! - [`find`] (read only, for dry runs) and [`ensure`] (find, then create
//!   or update only what differs) implement the step over any [`JiraApi`].
//! - Pure pieces, unit-tested: [`select`] (which search hit is the ticket),
//!   [`field_changes`] (which kept-in-sync fields differ), [`create_body`]
//!   and [`adf_document`] (request bodies), [`TicketRequest::validate`].
//!
//! # Finding a ticket
//!
//! The search uses [`crate::model::jql::ticket_jql`], the JQL the plan shows.
//! JQL's `~` is a stemmed "contains", so its hits include near misses
//! ("... Cycle 44 Revision 1"); [`select`] keeps only issues whose summary
//! is exactly the spec's and whose issue type matches, prefers unresolved
//! ones, and refuses to choose between several (the error lists their
//! keys). Tickets made by the old scripts carry the same summary and are
//! adopted as they are.
//!
//! # Retrying a create
//!
//! A create whose answer is lost (or a 5xx) may have filed the issue all the
//! same. [`JiraClient::create`](JiraApi::create) retries only after looking
//! for the ticket again. Jira Cloud's `search/jql` is eventually consistent,
//! so it first waits [`DEFAULT_INDEX_LAG`] for the index to catch up; an
//! index slower than that could still let a second ticket through (the
//! `reconcileIssues` parameter that would make the search consistent needs
//! the id of the lost issue, which is what is missing).
//!
//! # REST versions
//!
//! [`ApiVersion::V3`] (Jira Cloud) searches with `/rest/api/3/search/jql`
//! (`nextPageToken` paging) and sends descriptions as Atlassian Document
//! Format; [`ApiVersion::V2`] (Data Center) searches with `/rest/api/2/search`
//! (`startAt` paging) and sends plain wiki text. The version comes from
//! configuration, never from the host name.
//!
//! # Why requests do not go through gouqi's request methods
//!
//! `gouqi` 0.20 supplies the URL building, the credentials and the response
//! shapes ([`gouqi::core::ClientCore`], [`gouqi::Credentials`],
//! [`gouqi::Errors`], [`gouqi::CreateResponse`], [`gouqi::Issue`]). Its
//! `Jira::get`/`post`/`put` and `search()` are not used because they (1)
//! parse a 5xx answer's body as the success type, so a 500 with a JSON body
//! passes for a success and no retry is possible, (2) drop the response
//! headers, losing `Retry-After`, and (3) pick the search API from the host
//! name (v2 unless `*.atlassian.net`). Requests are therefore sent with
//! [`crate::services::http::client`] and retried with
//! [`crate::services::http::with_retry`].
//!
//! # Credentials
//!
//! `gouqi::Credentials` and `ClientCore` print the token in their `Debug`
//! output, so [`JiraClient`] implements `Debug` itself and keeps the token
//! in a [`Secret`](crate::services::http::Secret) everywhere else. No error message contains it: errors
//! show [`display_url`](crate::services::http::display_url) forms and Jira's own text, scrubbed of the token.
//!
//! # Environment
//!
//! `JIRA_URL`; `JIRA_USER` + `JIRA_API_TOKEN` (Jira Cloud, Basic auth) or
//! `JIRA_PAT` (Data Center personal access token, Bearer auth). See
//! [`JiraConfig::from_env`].

mod adf;
mod client;
mod config;
mod error;
#[cfg(test)]
mod tests;
mod ticket;
mod types;

pub use self::adf::*;
pub use self::client::*;
pub use self::config::*;
pub use self::error::*;
pub use self::ticket::*;
pub use self::types::*;
pub use crate::model::request::TicketRequest;

/// Environment variable with the Jira base URL, e.g. `https://rubinobs.atlassian.net`.
pub const URL_ENV: &str = "JIRA_URL";
/// Environment variable with the Jira Cloud user (e-mail address).
pub const USER_ENV: &str = "JIRA_USER";
/// Environment variable with the Jira Cloud API token of [`USER_ENV`].
pub const TOKEN_ENV: &str = "JIRA_API_TOKEN";
/// Environment variable with a Data Center personal access token.
pub const PAT_ENV: &str = "JIRA_PAT";

/// Issues asked for per search page (Jira may answer with fewer).
const PAGE_SIZE: &str = "100";
/// Items asked for per `createmeta` page (Jira Cloud answers at most 50, its default).
const CREATEMETA_PAGE_SIZE: &str = "50";
/// Most `createmeta` pages read (a guard against an answer that never ends).
const MAX_CREATEMETA_PAGES: usize = 100;
/// Fields every search asks for: what [`Issue`] is made of.
const BASE_FIELDS: [&str; 5] = ["summary", "issuetype", "resolution", "status", "labels"];
/// Fields [`TicketRequest`] sets by name; [`TicketRequest::fields`] must not repeat them.
const NAMED_FIELDS: [&str; 8] = [
    "project",
    "issuetype",
    "summary",
    "description",
    "labels",
    "components",
    "assignee",
    "priority",
];
