//! Confluence's pages and users as the page step sees them.

/// A page as read from Confluence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Page id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Current version number.
    pub version: u64,
    /// Body in storage format.
    pub body: String,
    /// Link to the page in the web UI.
    pub url: String,
}

/// The account Confluence's credentials belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfluenceUser {
    /// Display name (or user name).
    pub name: String,
    /// Confluence answered as the anonymous user: the credentials were not
    /// taken (Cloud answers so rather than 401 for some refusals).
    pub anonymous: bool,
}

/// A page without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageSummary {
    /// Page id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Its space's id (Cloud v2 answers with it).
    pub space_id: Option<String>,
    /// Its space's key (Data Center v1 answers with it).
    pub space_key: Option<String>,
}
