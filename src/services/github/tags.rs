//! [`TagApi`]: a repository's tags, for `cycle check`.

use reqwest::header::HeaderMap;
use serde::Deserialize;

use super::*;

/// Most pages of tags read for one repository (100 tags each).
const MAX_TAG_PAGES: u32 = 50;

/// The tags of a repository: what `cycle check` compares the cycle's
/// versions with.
#[async_trait::async_trait]
pub trait TagApi: Send + Sync {
    /// Every tag name of `repo` (all pages of `GET /repos/{o}/{r}/tags`,
    /// GitHub's order: newest first for version-like names).
    async fn tags(&self, repo: &RepoName) -> Result<Vec<String>, GithubError>;
}

/// The page after this one, from a `Link` header (`<url>; rel="next"`).
pub(super) fn has_next_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|part| part.contains("rel=\"next\"")))
}

#[async_trait::async_trait]
impl TagApi for GithubClient {
    async fn tags(&self, repo: &RepoName) -> Result<Vec<String>, GithubError> {
        #[derive(Deserialize)]
        struct WireTag {
            name: String,
        }
        let mut names = Vec::new();
        for page in 1..=MAX_TAG_PAGES {
            let path = format!(
                "/repos/{}/{}/tags?per_page={PER_PAGE}&page={page}",
                repo.owner, repo.name
            );
            let answer = self.call(Method::Get, &path, None).await?;
            let tags: Vec<WireTag> = self.decode(Method::Get, &path, &answer)?;
            names.extend(tags.into_iter().map(|t| t.name));
            if !has_next_page(&answer.headers) {
                break;
            }
        }
        Ok(names)
    }
}
