//! Confluence's JSON: the create and update request bodies (v2 and v1) and
//! reading a page from an answer.

use serde_json::{Value, json};

use super::*;

/// Cloud v2 body of `POST /wiki/api/v2/pages`.
pub fn create_request_v2(space_id: &str, parent_id: &str, title: &str, body: &str) -> Value {
    json!({
        "spaceId": space_id,
        "status": "current",
        "title": title,
        "parentId": parent_id,
        "body": {"representation": "storage", "value": body},
    })
}

/// Data Center v1 body of `POST /rest/api/content`.
pub fn create_request_v1(space: &str, parent_id: &str, title: &str, body: &str) -> Value {
    json!({
        "type": "page",
        "title": title,
        "space": {"key": space},
        "ancestors": [{"id": parent_id}],
        "body": {"storage": {"value": body, "representation": "storage"}},
    })
}

/// Cloud v2 body of `PUT /wiki/api/v2/pages/{id}`: the next version.
pub fn update_request_v2(page: &Page, body: &str, message: &str) -> Value {
    json!({
        "id": page.id,
        "status": "current",
        "title": page.title,
        "body": {"representation": "storage", "value": body},
        "version": {"number": page.version + 1, "message": message},
    })
}

/// Data Center v1 body of `PUT /rest/api/content/{id}`: the next version.
pub fn update_request_v1(page: &Page, body: &str, message: &str) -> Value {
    json!({
        "id": page.id,
        "type": "page",
        "title": page.title,
        "body": {"storage": {"value": body, "representation": "storage"}},
        "version": {"number": page.version + 1, "message": message},
    })
}

/// A page from a v2 page object or a v1 content object. `collection_base`
/// is the list's `_links.base`; `wiki_base` the fallback root of links.
pub(super) fn parse_page(
    v: &Value,
    collection_base: Option<&str>,
    wiki_base: &str,
    shown: &str,
) -> Result<Page, ConfluenceError> {
    let bad = |what: &str| ConfluenceError::BadResponse {
        url: shown.to_string(),
        message: format!("the page has no {what}"),
    };
    let id = id_of(&v["id"]).ok_or_else(|| bad("id"))?;
    let version = v["version"]["number"]
        .as_u64()
        .ok_or_else(|| bad("version.number"))?;
    // v2 `body.storage.value`; v1 has the same path.
    let body = v["body"]["storage"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let base = v["_links"]["base"]
        .as_str()
        .or(collection_base)
        .unwrap_or(wiki_base)
        .trim_end_matches('/');
    let url = match v["_links"]["webui"].as_str() {
        Some(webui) => format!("{base}{webui}"),
        None => format!("{wiki_base}/pages/viewpage.action?pageId={id}"),
    };
    Ok(Page {
        title: v["title"].as_str().unwrap_or_default().to_string(),
        id,
        version,
        body,
        url,
    })
}

/// The `results` array of a list answer.
pub(super) fn results<'a>(v: &'a Value, shown: &str) -> Result<&'a Vec<Value>, ConfluenceError> {
    v["results"]
        .as_array()
        .ok_or_else(|| ConfluenceError::BadResponse {
            url: shown.to_string(),
            message: "no `results` list".into(),
        })
}

/// An id given as a string (v2, v1) or a number.
pub(super) fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
