//! GitHub's JSON as it comes over the wire, turned into the adapter's own
//! types.

use serde::{Deserialize, Deserializer};

use super::*;

/// `null` read as the default (GitHub sends `null` for some empty lists).
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Deserialize)]
pub(super) struct WireLogin {
    pub(super) login: String,
}

#[derive(Deserialize)]
struct WireTeam {
    slug: String,
}

#[derive(Deserialize)]
struct WireLabel {
    name: String,
}

#[derive(Deserialize)]
struct WireRef {
    #[serde(rename = "ref")]
    branch: String,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct WirePull {
    number: u64,
    html_url: String,
    state: String,
    #[serde(default, deserialize_with = "nullable")]
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    draft: bool,
    #[serde(default)]
    merged_at: Option<String>,
    #[serde(default)]
    pub(super) user: Option<WireLogin>,
    head: WireRef,
    base: WireRef,
    #[serde(default, deserialize_with = "nullable")]
    labels: Vec<WireLabel>,
    #[serde(default, deserialize_with = "nullable")]
    requested_reviewers: Vec<WireLogin>,
    #[serde(default, deserialize_with = "nullable")]
    requested_teams: Vec<WireTeam>,
}

impl From<WirePull> for PullRequest {
    fn from(w: WirePull) -> Self {
        let state = if w.merged_at.is_some() {
            PrState::Merged
        } else if w.state.eq_ignore_ascii_case("open") {
            PrState::Open
        } else {
            PrState::Closed
        };
        PullRequest {
            number: w.number,
            url: w.html_url,
            state,
            title: w.title,
            body: w.body.unwrap_or_default(),
            draft: w.draft,
            author: w.user.map(|u| u.login),
            head: w.head.label.unwrap_or(w.head.branch),
            base: w.base.branch,
            labels: w.labels.into_iter().map(|l| l.name).collect(),
            requested_reviewers: w.requested_reviewers.into_iter().map(|u| u.login).collect(),
            requested_teams: w.requested_teams.into_iter().map(|t| t.slug).collect(),
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy)]
pub(super) struct WirePermissions {
    #[serde(default)]
    pub(super) push: bool,
    #[serde(default)]
    pub(super) pull: bool,
}

#[derive(Deserialize)]
pub(super) struct WireRepo {
    pub(super) full_name: String,
    /// Absent for an installation token (GitHub Actions' `GITHUB_TOKEN`).
    #[serde(default)]
    pub(super) permissions: Option<WirePermissions>,
    #[serde(default, deserialize_with = "nullable")]
    pub(super) archived: bool,
}

#[derive(Deserialize)]
pub(super) struct WireReview {
    #[serde(default)]
    pub(super) user: Option<WireLogin>,
}
