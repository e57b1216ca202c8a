//! A stateful fake of Confluence on [`FakeServer`]: Cloud's REST API v2
//! (`/wiki/api/v2`: spaces, pages, page content properties) and Data
//! Center's REST API v1 (`/rest/api/content`), answering with the status
//! codes and JSON shapes of Atlassian's public docs: list answers carry
//! `results` and `_links.base`, pages `_links.webui`, a stale version on
//! update is a 409 whose body says "Version must be incremented on update.
//! Current version is: N" (v2 `errors[]`, v1 `statusCode`/`message`).
//!
//! Requests must authenticate as [`USER`]/[`API_TOKEN`] (Basic) or with
//! [`PAT`] (Bearer); anything else is a 401. Tests can script faults
//! ([`ConfluenceFake::fail_next`], [`ConfluenceFake::lose_next_response`]),
//! simulate people editing the page ([`ConfluenceFake::human_edit`],
//! [`ConfluenceFake::edit_before_next_update`]) and read the stored pages.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::http_fake::{FakeServer, Reply, Request};

/// Cloud account the fake accepts.
pub const USER: &str = "release-bot@example.org";
/// Cloud API token the fake accepts (Basic with [`USER`]).
pub const API_TOKEN: &str = "ATATT-fake-cloud-token-0123456789";
/// Data Center personal access token the fake accepts (Bearer).
pub const PAT: &str = "NjQ-fake-dc-pat-9876543210";
/// The space every fake starts with.
pub const SPACE: &str = "LSSTCOM";
/// Its id.
pub const SPACE_ID: &str = "98305";
/// The parent page every fake starts with ("Software Upgrades").
pub const PARENT_ID: &str = "53752125";

const V2: &str = "/wiki/api/v2";
const V1: &str = "/rest/api";

/// A page as the fake stores it.
#[derive(Clone, Debug, PartialEq)]
pub struct FakePage {
    /// Page id.
    pub id: String,
    /// Space key.
    pub space: String,
    /// Parent page id.
    pub parent_id: Option<String>,
    /// Title.
    pub title: String,
    /// Version number.
    pub version: u64,
    /// Message of the last version.
    pub version_message: String,
    /// Storage-format body.
    pub body: String,
    /// Content properties: key → (property id, value, version).
    pub properties: BTreeMap<String, (String, Value, u64)>,
}

enum Fault {
    Reply(Reply),
    LoseResponse,
    /// The same request, from another run, is served just before this one.
    Rival,
}

struct Scripted {
    method: String,
    path: String,
    fault: Fault,
}

type Edit = Box<dyn FnOnce(&mut FakePage) + Send>;

#[derive(Default)]
struct State {
    spaces: Vec<(String, String)>,
    /// Pages under which the user may read but not add pages.
    read_only: Vec<String>,
    pages: Vec<FakePage>,
    next_id: u64,
    script: VecDeque<Scripted>,
    before_update: VecDeque<Edit>,
}

/// The running fake.
pub struct ConfluenceFake {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

super::http_fake::serves_as_fake!(ConfluenceFake);

impl ConfluenceFake {
    /// Starts a fake with space [`SPACE`] and its parent page [`PARENT_ID`].
    pub fn start() -> Self {
        let state = Arc::new(Mutex::new(State {
            spaces: vec![(SPACE.to_string(), SPACE_ID.to_string())],
            next_id: 200_000_001,
            ..State::default()
        }));
        state.lock().unwrap().pages.push(FakePage {
            id: PARENT_ID.to_string(),
            space: SPACE.to_string(),
            parent_id: None,
            title: "Software Upgrades".to_string(),
            version: 12,
            version_message: String::new(),
            body: "<p>Upgrades of the control system.</p>".to_string(),
            properties: BTreeMap::new(),
        });
        let shared = state.clone();
        let server = FakeServer::start(move |req| handle(&shared, req));
        Self { server, state }
    }

    /// Every stored page (the parent included), in creation order.
    pub fn pages(&self) -> Vec<FakePage> {
        self.state.lock().unwrap().pages.clone()
    }

    /// The page titled `title`.
    pub fn page_titled(&self, title: &str) -> Option<FakePage> {
        self.pages().into_iter().find(|p| p.title == title)
    }

    /// Adds a space; returns its id.
    pub fn add_space(&self, key: &str) -> String {
        let mut st = self.state.lock().unwrap();
        let id = (98_306 + st.spaces.len()).to_string();
        st.spaces.push((key.to_string(), id.clone()));
        id
    }

    /// Stores a page as if someone had created it; returns its id.
    pub fn add_page(&self, space: &str, parent_id: &str, title: &str, body: &str) -> String {
        let mut st = self.state.lock().unwrap();
        let id = st.new_id();
        st.pages.push(FakePage {
            id: id.clone(),
            space: space.to_string(),
            parent_id: Some(parent_id.to_string()),
            title: title.to_string(),
            version: 1,
            version_message: String::new(),
            body: body.to_string(),
            properties: BTreeMap::new(),
        });
        id
    }

    /// A person edits the body of page `id` (a new version).
    pub fn human_edit(&self, id: &str, edit: impl FnOnce(&str) -> String) {
        let mut st = self.state.lock().unwrap();
        let page = st.pages.iter_mut().find(|p| p.id == id).expect("page");
        human(page, edit);
    }

    /// A person inserts `html` (e.g. a paragraph) right after the end
    /// anchor of owned section `section` of page `id`, outside the section.
    pub fn insert_after_section(&self, id: &str, section: &str, html: &str) {
        self.human_edit(id, |body| after_section(body, section, html));
    }

    /// Before the next update (PUT) of a page is handled, a person saves
    /// `edit` on it, so that update carries a stale version.
    pub fn edit_before_next_update(&self, edit: impl FnOnce(&str) -> String + Send + 'static) {
        self.state
            .lock()
            .unwrap()
            .before_update
            .push_back(Box::new(move |page| human(page, edit)));
    }

    /// Lets the user read page `id` but not add pages under it (Confluence
    /// answers 403 to a create there, and lists no `create` operation).
    pub fn deny_adding_under(&self, id: &str) {
        self.state.lock().unwrap().read_only.push(id.to_string());
    }

    /// The next request whose method is `method` and whose path starts
    /// with `path` gets `reply` instead of being handled.
    pub fn fail_next(&self, method: &str, path: &str, reply: Reply) {
        self.state.lock().unwrap().script.push_back(Scripted {
            method: method.to_string(),
            path: path.to_string(),
            fault: Fault::Reply(reply),
        });
    }

    /// Another run sends the next matching request just before this one
    /// (two release managers at once): it is served twice, the rival's
    /// first.
    pub fn rival_next(&self, method: &str, path: &str) {
        self.state.lock().unwrap().script.push_back(Scripted {
            method: method.to_string(),
            path: path.to_string(),
            fault: Fault::Rival,
        });
    }

    /// The next matching request is handled, but its response is lost
    /// (the connection closes without an answer).
    pub fn lose_next_response(&self, method: &str, path: &str) {
        self.state.lock().unwrap().script.push_back(Scripted {
            method: method.to_string(),
            path: path.to_string(),
            fault: Fault::LoseResponse,
        });
    }
}

/// Inserts `html` right after the end marker of `section` (outside it).
pub fn after_section(body: &str, section: &str, html: &str) -> String {
    let marker = format!("cycle:{section}:end</ac:parameter></ac:structured-macro></p>");
    let at = body.find(&marker).expect("section end marker") + marker.len();
    format!("{}{html}{}", &body[..at], &body[at..])
}

/// The text outside every owned section (markers included in the section).
pub fn outside(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    let open = "<p><ac:structured-macro ac:name=\"anchor\"><ac:parameter ac:name=\"\">cycle:";
    while let Some(i) = rest.find(open) {
        out.push_str(&rest[..i]);
        let end = ":end</ac:parameter></ac:structured-macro></p>";
        let j = rest[i..].find(end).expect("end marker") + i + end.len();
        rest = &rest[j..];
    }
    out.push_str(rest);
    out
}

fn human(page: &mut FakePage, edit: impl FnOnce(&str) -> String) {
    page.body = edit(&page.body);
    page.version += 1;
    page.version_message = "edited by a person".to_string();
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    fn space_key(&self, id: &str) -> Option<String> {
        self.spaces
            .iter()
            .find(|(_, i)| i == id)
            .map(|(k, _)| k.clone())
    }

    fn space_id(&self, key: &str) -> Option<String> {
        self.spaces
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, i)| i.clone())
    }
}

fn handle(state: &Mutex<State>, req: &Request) -> Reply {
    let mut st = state.lock().unwrap();
    let scripted = st
        .script
        .iter()
        .position(|s| s.method == req.method && req.path.starts_with(&s.path));
    if let Some(i) = scripted {
        let s = st.script.remove(i).expect("scripted fault");
        return match s.fault {
            Fault::Reply(reply) => reply,
            Fault::LoseResponse => {
                let _ = route(&mut st, req);
                Reply::Drop
            }
            Fault::Rival => {
                let _ = route(&mut st, req);
                route(&mut st, req)
            }
        };
    }
    if !authorized(req) {
        return Reply::json(
            401,
            json!({"code": 401, "message": "Client must be authenticated to access this resource."}),
        );
    }
    route(&mut st, req)
}

fn authorized(req: &Request) -> bool {
    let basic = format!("Basic {}", base64(&format!("{USER}:{API_TOKEN}")));
    let bearer = format!("Bearer {PAT}");
    matches!(req.header("authorization"), Some(h) if h == basic || h == bearer)
}

fn route(st: &mut State, req: &Request) -> Reply {
    let base = format!("http://{}", req.header("host").unwrap_or("127.0.0.1"));
    let path = req.path.trim_end_matches('/');
    // REST v1 on Cloud, which still serves the current user.
    if req.method == "GET"
        && matches!(
            path,
            "/wiki/rest/api/user/current" | "/rest/api/user/current"
        )
    {
        return Reply::json(
            200,
            json!({
                "type": "known",
                "accountId": "557058:release-bot",
                "accountType": "atlassian",
                "email": USER,
                "publicName": "Release Bot",
                "displayName": "Release Bot",
            }),
        );
    }
    if let Some(rest) = path.strip_prefix(V2) {
        let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        return match (req.method.as_str(), parts.as_slice()) {
            ("GET", ["spaces"]) => v2_spaces(st, req, &base),
            ("GET", ["pages"]) => v2_find(st, req, &base),
            ("POST", ["pages"]) => v2_create(st, req, &base),
            ("GET", ["pages", id]) => with_page(st, id, true, |p| {
                Reply::json(
                    200,
                    v2_page(p, &base, req.param("body-format").is_some(), true),
                )
            }),
            ("PUT", ["pages", id]) => v2_update(st, req, id, &base),
            ("GET", ["pages", id, "operations"]) => {
                let ops = operations(st, id);
                with_page(st, id, true, |_| {
                    Reply::json(200, json!({ "operations": ops }))
                })
            }
            ("GET", ["pages", id, "properties"]) => v2_properties(st, req, id),
            ("POST", ["pages", id, "properties"]) => v2_add_property(st, req, id),
            ("PUT", ["pages", id, "properties", pid]) => v2_set_property(st, req, id, pid),
            _ => v2_error(404, "NOT_FOUND", "Not Found"),
        };
    }
    if let Some(rest) = path.strip_prefix(V1) {
        let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        return match (req.method.as_str(), parts.as_slice()) {
            ("GET", ["content"]) => v1_find(st, req, &base),
            ("POST", ["content"]) => v1_create(st, req, &base),
            ("GET", ["content", id]) => {
                let ops = operations(st, id);
                with_page(st, id, false, |p| {
                    let mut page = v1_page(p, &base, true, true);
                    if req
                        .param("expand")
                        .is_some_and(|e| e.split(',').any(|x| x == "operations"))
                    {
                        page["operations"] = json!(ops);
                    }
                    Reply::json(200, page)
                })
            }
            ("GET", ["space", key]) => match st.space_id(key) {
                Some(id) => Reply::json(200, json!({ "id": id, "key": key, "type": "global" })),
                None => v1_error(404, &format!("No space with key : {key}")),
            },
            ("PUT", ["content", id]) => v1_update(st, req, id, &base),
            _ => v1_error(404, "No content found"),
        };
    }
    Reply::empty(404)
}

/// What the user may do with page `id` (Confluence's `operations`).
fn operations(st: &State, id: &str) -> Vec<Value> {
    let mut ops = vec![
        json!({"operation": "read", "targetType": "page"}),
        json!({"operation": "update", "targetType": "page"}),
    ];
    if !st.read_only.iter().any(|r| r == id) {
        ops.push(json!({"operation": "create", "targetType": "page"}));
    }
    ops
}

/// Whether the user may not add a page under `parent`.
fn may_not_add(st: &State, parent: Option<&String>) -> bool {
    parent.is_some_and(|p| st.read_only.contains(p))
}

fn with_page(st: &State, id: &str, v2: bool, f: impl FnOnce(&FakePage) -> Reply) -> Reply {
    match st.pages.iter().find(|p| p.id == id) {
        Some(p) => f(p),
        None if v2 => v2_error(404, "NOT_FOUND", "Not Found"),
        None => v1_error(
            404,
            &format!("No content found with id: ContentId{{id={id}}}"),
        ),
    }
}

fn v2_error(status: u16, code: &str, title: &str) -> Reply {
    Reply::json(
        status,
        json!({"errors": [{"status": status, "code": code, "title": title, "detail": null}]}),
    )
}

fn v1_error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({
            "statusCode": status,
            "data": {"authorized": false, "valid": true, "errors": [], "successful": false},
            "message": message,
        }),
    )
}

fn stale(current: u64) -> String {
    format!("Version must be incremented on update. Current version is: {current}")
}

fn v2_page(p: &FakePage, base: &str, with_body: bool, single: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "status": "current",
        "title": p.title,
        "spaceId": SPACE_ID,
        "parentId": p.parent_id,
        "parentType": "page",
        "position": 0,
        "authorId": "557058:fake-author",
        "ownerId": "557058:fake-author",
        "lastOwnerId": null,
        "createdAt": "2026-01-20T12:00:00.000Z",
        "version": {
            "createdAt": "2026-01-20T12:00:00.000Z",
            "message": p.version_message,
            "number": p.version,
            "minorEdit": false,
            "authorId": "557058:fake-author",
        },
        "_links": {
            "webui": format!("/spaces/{}/pages/{}/{}", p.space, p.id, p.title.replace(' ', "+")),
            "editui": format!("/pages/resumedraft.action?draftId={}", p.id),
            "tinyui": format!("/x/{}", p.id),
        },
    });
    if with_body {
        v["body"] = json!({"storage": {"representation": "storage", "value": p.body}});
    }
    if single {
        v["_links"]["base"] = json!(format!("{base}/wiki"));
    }
    v
}

fn v2_spaces(st: &State, req: &Request, base: &str) -> Reply {
    let keys: Vec<String> = req
        .param("keys")
        .map(|k| k.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let results: Vec<Value> = st
        .spaces
        .iter()
        .filter(|(k, _)| keys.is_empty() || keys.contains(k))
        .map(|(k, id)| {
            json!({"id": id, "key": k, "name": k, "type": "global", "status": "current",
                   "_links": {"webui": format!("/spaces/{k}")}})
        })
        .collect();
    Reply::json(
        200,
        json!({"results": results, "_links": {"base": format!("{base}/wiki")}}),
    )
}

fn v2_find(st: &State, req: &Request, base: &str) -> Reply {
    let space = req.param("space-id").and_then(|id| st.space_key(&id));
    let title = req.param("title");
    let with_body = req.param("body-format").as_deref() == Some("storage");
    let results: Vec<Value> = st
        .pages
        .iter()
        .filter(|p| space.as_ref().is_none_or(|s| *s == p.space))
        .filter(|p| title.as_ref().is_none_or(|t| *t == p.title))
        .map(|p| v2_page(p, base, with_body, false))
        .collect();
    Reply::json(
        200,
        json!({"results": results, "_links": {"base": format!("{base}/wiki")}}),
    )
}

fn v2_create(st: &mut State, req: &Request, base: &str) -> Reply {
    let b = req.json();
    let Some(space) = b["spaceId"].as_str().and_then(|id| st.space_key(id)) else {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "Provided value for 'spaceId' is not valid",
        );
    };
    let Some(title) = b["title"].as_str().filter(|t| !t.is_empty()) else {
        return v2_error(400, "INVALID_REQUEST_PARAMETER", "Title is required");
    };
    if b["body"]["representation"] != "storage" || !b["body"]["value"].is_string() {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "Body representation is not valid",
        );
    }
    let parent = b["parentId"].as_str().map(str::to_string);
    if let Some(parent) = &parent
        && !st.pages.iter().any(|p| p.id == *parent && p.space == space)
    {
        return v2_error(404, "NOT_FOUND", "The parent page could not be found");
    }
    if may_not_add(st, parent.as_ref()) {
        return v2_error(
            403,
            "FORBIDDEN",
            "You do not have permission to create a page here",
        );
    }
    if st
        .pages
        .iter()
        .any(|p| p.space == space && p.title == title)
    {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "A page with this title already exists: A page already exists with the same TITLE in this space",
        );
    }
    let id = st.new_id();
    let page = FakePage {
        id,
        space,
        parent_id: parent,
        title: title.to_string(),
        version: 1,
        version_message: String::new(),
        body: b["body"]["value"].as_str().unwrap_or_default().to_string(),
        properties: BTreeMap::new(),
    };
    let reply = Reply::json(200, v2_page(&page, base, true, true));
    st.pages.push(page);
    reply
}

fn run_edit_hook(st: &mut State, id: &str) {
    if let Some(edit) = st.before_update.pop_front()
        && let Some(page) = st.pages.iter_mut().find(|p| p.id == id)
    {
        edit(page);
    }
}

fn v2_update(st: &mut State, req: &Request, id: &str, base: &str) -> Reply {
    run_edit_hook(st, id);
    let b = req.json();
    let Some(page) = st.pages.iter_mut().find(|p| p.id == id) else {
        return v2_error(404, "NOT_FOUND", "Not Found");
    };
    if b["id"].as_str() != Some(id) || b["status"] != "current" {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "id and status are required",
        );
    }
    let Some(number) = b["version"]["number"].as_u64() else {
        return v2_error(400, "INVALID_REQUEST_PARAMETER", "Version is required");
    };
    if number != page.version + 1 {
        return v2_error(409, "CONFLICT", &stale(page.version));
    }
    if b["body"]["representation"] != "storage" {
        return v2_error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "Body representation is not valid",
        );
    }
    page.version = number;
    page.version_message = b["version"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    page.body = b["body"]["value"].as_str().unwrap_or_default().to_string();
    if let Some(t) = b["title"].as_str() {
        page.title = t.to_string();
    }
    Reply::json(200, v2_page(page, base, true, true))
}

fn property_json(key: &str, (pid, value, version): &(String, Value, u64)) -> Value {
    json!({"id": pid, "key": key, "value": value,
           "version": {"number": version, "message": "", "minorEdit": false,
                       "createdAt": "2026-01-20T12:00:00.000Z", "authorId": "557058:fake-author"}})
}

fn v2_properties(st: &State, req: &Request, id: &str) -> Reply {
    let Some(page) = st.pages.iter().find(|p| p.id == id) else {
        return v2_error(404, "NOT_FOUND", "Not Found");
    };
    let key = req.param("key");
    let results: Vec<Value> = page
        .properties
        .iter()
        .filter(|(k, _)| key.as_ref().is_none_or(|want| want == *k))
        .map(|(k, p)| property_json(k, p))
        .collect();
    Reply::json(200, json!({"results": results, "_links": {}}))
}

fn v2_add_property(st: &mut State, req: &Request, id: &str) -> Reply {
    let b = req.json();
    let pid = st.new_id();
    let Some(page) = st.pages.iter_mut().find(|p| p.id == id) else {
        return v2_error(404, "NOT_FOUND", "Not Found");
    };
    let Some(key) = b["key"].as_str() else {
        return v2_error(400, "INVALID_REQUEST_PARAMETER", "Key is required");
    };
    if page.properties.contains_key(key) {
        return v2_error(
            409,
            "CONFLICT",
            "A content property with this key already exists",
        );
    }
    let property = (pid, b["value"].clone(), 1);
    let reply = Reply::json(200, property_json(key, &property));
    page.properties.insert(key.to_string(), property);
    reply
}

fn v2_set_property(st: &mut State, req: &Request, id: &str, pid: &str) -> Reply {
    let b = req.json();
    let Some(page) = st.pages.iter_mut().find(|p| p.id == id) else {
        return v2_error(404, "NOT_FOUND", "Not Found");
    };
    let Some((key, property)) = page.properties.iter_mut().find(|(_, p)| p.0 == pid) else {
        return v2_error(404, "NOT_FOUND", "Not Found");
    };
    if b["version"]["number"].as_u64() != Some(property.2 + 1) {
        return v2_error(409, "CONFLICT", &stale(property.2));
    }
    property.1 = b["value"].clone();
    property.2 += 1;
    Reply::json(200, property_json(key, property))
}

fn v1_page(p: &FakePage, base: &str, with_body: bool, single: bool) -> Value {
    let mut v = json!({
        "id": p.id,
        "type": "page",
        "status": "current",
        "title": p.title,
        "space": {"key": p.space},
        "version": {"number": p.version, "message": p.version_message, "minorEdit": false,
                    "when": "2026-01-20T12:00:00.000Z", "by": {"type": "known", "username": "bot"}},
        "_links": {
            "webui": format!("/pages/viewpage.action?pageId={}", p.id),
            "edit": format!("/pages/resumedraft.action?draftId={}", p.id),
            "tinyui": format!("/x/{}", p.id),
            "self": format!("{base}/rest/api/content/{}", p.id),
        },
        "_expandable": {"children": "", "ancestors": "", "history": ""},
    });
    if with_body {
        v["body"] = json!({"storage": {"value": p.body, "representation": "storage"}});
    }
    if single {
        v["_links"]["base"] = json!(base);
        v["_links"]["context"] = json!("");
    }
    v
}

fn v1_find(st: &State, req: &Request, base: &str) -> Reply {
    let space = req.param("spaceKey");
    let title = req.param("title");
    let with_body = req
        .param("expand")
        .is_some_and(|e| e.split(',').any(|x| x == "body.storage"));
    let results: Vec<Value> = st
        .pages
        .iter()
        .filter(|p| space.as_ref().is_none_or(|s| *s == p.space))
        .filter(|p| title.as_ref().is_none_or(|t| *t == p.title))
        .map(|p| v1_page(p, base, with_body, false))
        .collect();
    Reply::json(
        200,
        json!({"results": results, "start": 0, "limit": 25, "size": results.len(),
               "_links": {"base": base, "context": "", "self": format!("{base}/rest/api/content")}}),
    )
}

fn v1_create(st: &mut State, req: &Request, base: &str) -> Reply {
    let b = req.json();
    if b["type"] != "page" {
        return v1_error(400, "Content type is required");
    }
    let Some(space) = b["space"]["key"]
        .as_str()
        .filter(|k| st.space_id(k).is_some())
    else {
        return v1_error(
            400,
            "Could not create content with type page: space is not valid",
        );
    };
    let Some(title) = b["title"].as_str().filter(|t| !t.is_empty()) else {
        return v1_error(400, "Title is required");
    };
    if st
        .pages
        .iter()
        .any(|p| p.space == space && p.title == title)
    {
        return v1_error(
            400,
            &format!(
                "A page with this title already exists: A page already exists with the title {title} in the space with key {space}"
            ),
        );
    }
    let parent = b["ancestors"][0]["id"].as_str().map(str::to_string);
    if may_not_add(st, parent.as_ref()) {
        return v1_error(403, "User not permitted to create a page here");
    }
    let page = FakePage {
        id: st.new_id(),
        space: space.to_string(),
        parent_id: parent,
        title: title.to_string(),
        version: 1,
        version_message: String::new(),
        body: b["body"]["storage"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        properties: BTreeMap::new(),
    };
    let reply = Reply::json(200, v1_page(&page, base, true, true));
    st.pages.push(page);
    reply
}

fn v1_update(st: &mut State, req: &Request, id: &str, base: &str) -> Reply {
    run_edit_hook(st, id);
    let b = req.json();
    let Some(page) = st.pages.iter_mut().find(|p| p.id == id) else {
        return v1_error(
            404,
            &format!("No content found with id: ContentId{{id={id}}}"),
        );
    };
    let Some(number) = b["version"]["number"].as_u64() else {
        return v1_error(400, "Version is required");
    };
    if b["type"] != "page" {
        return v1_error(400, "Content type is required");
    }
    if number != page.version + 1 {
        return v1_error(409, &stale(page.version));
    }
    page.version = number;
    page.version_message = b["version"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    page.body = b["body"]["storage"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Reply::json(200, v1_page(page, base, true, true))
}

/// Standard base64 with padding (for the Basic credentials the fake expects).
fn base64(text: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
