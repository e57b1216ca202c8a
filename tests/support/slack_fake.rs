//! A stateful fake of the Slack Web API on [`FakeServer`], answering as
//! Slack's reference documents: HTTP 200 with `{"ok": false, "error": …}` on
//! failure, HTTP 429 with `Retry-After` when rate-limited, `Authorization:
//! Bearer` tokens, arguments as a query string, a form or a JSON body.
//!
//! Methods: `conversations.list` (paged with `cursor` /
//! `response_metadata.next_cursor`, `types`, private channels only for
//! members), `chat.scheduleMessage` (`time_in_past`, `time_too_far` past 120
//! days), `chat.scheduledMessages.list` (no metadata, as Slack),
//! `chat.deleteScheduledMessage`, `chat.postMessage` (stores metadata),
//! `conversations.history` (newest first, `oldest`/`latest`/`inclusive`,
//! paged, metadata only with `include_all_metadata`), `chat.update` and
//! `chat.getPermalink`.
//!
//! The fake has its own clock ([`SlackFake::set_now`]); moving it posts the
//! scheduled messages that fall due, and, like Slack (its documented bug
//! alert), silently drops a scheduled message that was sent with metadata.
//! Tests script failures per method: an `ok: false` code, an HTTP 429 with
//! `Retry-After`, any HTTP status, or a lost response (the call takes effect,
//! the answer never arrives).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::http_fake::{FakeServer, Reply, Request};

/// The token the fake accepts.
pub const TOKEN: &str = "xoxb-fake-1234567890-SECRETSECRET";
/// The fake's clock when it starts: 2026-02-01 12:00 UTC.
pub const DEFAULT_NOW: i64 = 1_769_947_200;
/// How far ahead Slack schedules.
const HORIZON: i64 = 120 * 86_400;

/// A channel of the fake workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Id, e.g. `C0SUMMIT01`.
    pub id: String,
    /// Name without `#`.
    pub name: String,
    /// Private channels are listed only when the bot is a member.
    pub is_private: bool,
    /// Whether the bot is a member (posting needs it).
    pub is_member: bool,
    /// Archived channels are not listed when `exclude_archived`.
    pub is_archived: bool,
}

/// A pending scheduled message.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    /// Id, `Q…`.
    pub id: String,
    /// Channel id.
    pub channel: String,
    /// When it posts.
    pub post_at: i64,
    /// Text as received.
    pub text: String,
    /// Metadata as received (Slack never posts such a message).
    pub metadata: Option<Value>,
    /// When it was scheduled (fake clock).
    pub date_created: i64,
}

/// A message in a channel's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// Channel id.
    pub channel: String,
    /// `ts`, `seconds.micros`.
    pub ts: String,
    /// Text.
    pub text: String,
    /// Metadata, when posted with some.
    pub metadata: Option<Value>,
    /// Whether `chat.update` changed it.
    pub edited: bool,
    /// Whether it was posted by the bot (else by a person).
    pub by_bot: bool,
}

/// A scripted answer for the next call of a method.
#[derive(Debug, Clone)]
pub enum Failure {
    /// `{"ok": false, "error": code}` with HTTP 200.
    Error(String),
    /// HTTP 429, `Retry-After: seconds`, `{"ok": false, "error": "ratelimited"}`.
    RateLimited(u64),
    /// Another HTTP status with a JSON error body.
    Status(u16),
    /// The call takes effect but the connection drops before the answer.
    LoseResponse,
    /// Another run makes the same call just before this one (two release
    /// managers at once): it takes effect twice, the rival's first.
    Rival,
}

#[derive(Debug)]
struct State {
    token: String,
    now: i64,
    seq: u64,
    page_size: usize,
    channels: Vec<Channel>,
    scheduled: Vec<Scheduled>,
    posted: Vec<Posted>,
    failures: VecDeque<(String, Failure)>,
}

/// The running fake; stops when dropped.
pub struct SlackFake {
    server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl SlackFake {
    /// Starts a workspace with the sites' channels (`#summit-announce`
    /// `C0SUMMIT01`, `#tucson-teststand` `C0TUCSON01`, `#base-teststand`
    /// `C0BASE0001`, `#ts-build` `C0TSBUILD1`), the bot a member of each,
    /// the clock at [`DEFAULT_NOW`].
    pub fn start() -> Self {
        let channel = |id: &str, name: &str| Channel {
            id: id.into(),
            name: name.into(),
            is_private: false,
            is_member: true,
            is_archived: false,
        };
        let state = Arc::new(Mutex::new(State {
            token: TOKEN.to_string(),
            now: DEFAULT_NOW,
            seq: 0,
            page_size: 100,
            channels: vec![
                channel("C0GENERAL1", "general"),
                channel("C0SUMMIT01", "summit-announce"),
                channel("C0TUCSON01", "tucson-teststand"),
                channel("C0BASE0001", "base-teststand"),
                channel("C0TSBUILD1", "ts-build"),
            ],
            scheduled: Vec::new(),
            posted: Vec::new(),
            failures: VecDeque::new(),
        }));
        let handler_state = state.clone();
        let server = FakeServer::start(move |req| {
            let mut state = handler_state.lock().unwrap();
            handle(&mut state, req)
        });
        Self { server, state }
    }

    /// The Web API base URL to give the adapter (`http://127.0.0.1:PORT/api`).
    pub fn url(&self) -> String {
        format!("{}/api", self.server.url())
    }

    /// The accepted token.
    pub fn token(&self) -> String {
        self.state.lock().unwrap().token.clone()
    }

    /// The fake's clock.
    pub fn now(&self) -> i64 {
        self.state.lock().unwrap().now
    }

    /// Moves the clock; scheduled messages that fall due are posted (those
    /// scheduled with metadata vanish, as Slack documents).
    pub fn set_now(&self, now: i64) {
        let mut s = self.state.lock().unwrap();
        s.now = now;
        let (due, pending): (Vec<Scheduled>, Vec<Scheduled>) =
            s.scheduled.drain(..).partition(|m| m.post_at <= now);
        s.scheduled = pending;
        for m in due {
            if m.metadata.is_some() {
                continue;
            }
            let ts = s.next_ts(m.post_at);
            s.posted.push(Posted {
                channel: m.channel,
                ts,
                text: m.text,
                metadata: None,
                edited: false,
                by_bot: true,
            });
        }
    }

    /// Makes the bot a member of channel `name` (without `#`), or not.
    pub fn set_member(&self, name: &str, is_member: bool) {
        let mut s = self.state.lock().unwrap();
        let channel = s.channels.iter_mut().find(|c| c.name == name);
        channel.expect("a known channel").is_member = is_member;
    }

    /// Adds a channel; returns its id.
    pub fn add_channel(&self, name: &str, is_private: bool, is_member: bool) -> String {
        let mut s = self.state.lock().unwrap();
        s.seq += 1;
        let id = format!("C0ADDED{:03}", s.seq);
        s.channels.push(Channel {
            id: id.clone(),
            name: name.into(),
            is_private,
            is_member,
            is_archived: false,
        });
        id
    }

    /// Most items a list method answers per page (Slack's own limit is higher).
    pub fn set_page_size(&self, n: usize) {
        self.state.lock().unwrap().page_size = n.max(1);
    }

    /// A message a person posted (noise in the history).
    pub fn post_by_person(&self, channel: &str, text: &str) -> String {
        let mut s = self.state.lock().unwrap();
        let now = s.now;
        let ts = s.next_ts(now);
        s.posted.push(Posted {
            channel: channel.into(),
            ts: ts.clone(),
            text: text.into(),
            metadata: None,
            edited: false,
            by_bot: false,
        });
        ts
    }

    /// A message the bot posted earlier (e.g. by an older `cycle`), with
    /// `metadata`; returns its `ts`.
    pub fn post_as_bot(&self, channel: &str, text: &str, metadata: Option<Value>) -> String {
        let mut s = self.state.lock().unwrap();
        let now = s.now;
        let ts = s.next_ts(now);
        s.posted.push(Posted {
            channel: channel.into(),
            ts: ts.clone(),
            text: text.into(),
            metadata,
            edited: false,
            by_bot: true,
        });
        ts
    }

    /// Schedules a copy of pending message `id` (as another run of an
    /// older `cycle` did); returns the copy's id.
    pub fn copy_scheduled(&self, id: &str) -> String {
        let mut s = self.state.lock().unwrap();
        let mut copy = s
            .scheduled
            .iter()
            .find(|m| m.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("no scheduled message {id}"));
        s.seq += 1;
        copy.id = format!("Q{:010}", s.seq);
        let copied = copy.id.clone();
        s.scheduled.push(copy);
        copied
    }

    /// Replaces the text of a pending scheduled message (a person editing it).
    pub fn edit_scheduled(&self, id: &str, text: &str) {
        let mut s = self.state.lock().unwrap();
        if let Some(m) = s.scheduled.iter_mut().find(|m| m.id == id) {
            m.text = text.into();
        }
    }

    /// Deletes a pending scheduled message (a person in Slack's UI).
    pub fn delete_scheduled(&self, id: &str) {
        self.state.lock().unwrap().scheduled.retain(|m| m.id != id);
    }

    /// Moves a pending scheduled message to `post_at` (a person).
    pub fn move_scheduled(&self, id: &str, post_at: i64) {
        let mut s = self.state.lock().unwrap();
        if let Some(m) = s.scheduled.iter_mut().find(|m| m.id == id) {
            m.post_at = post_at;
        }
    }

    /// Scripts the answer to the next call of `method`.
    pub fn fail_next(&self, method: &str, failure: Failure) {
        self.state
            .lock()
            .unwrap()
            .failures
            .push_back((method.to_string(), failure));
    }

    /// Pending scheduled messages, in order of scheduling.
    pub fn scheduled(&self) -> Vec<Scheduled> {
        self.state.lock().unwrap().scheduled.clone()
    }

    /// Posted messages, oldest first.
    pub fn posted(&self) -> Vec<Posted> {
        self.state.lock().unwrap().posted.clone()
    }

    /// Every request received.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The requests that write (POST): the Web API writes of the adapter.
    pub fn writes(&self) -> Vec<Request> {
        self.server.writes()
    }

    /// The requests to one method.
    pub fn calls(&self, method: &str) -> Vec<Request> {
        let path = format!("/api/{method}");
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.server.clear();
    }
}

impl State {
    fn next_ts(&mut self, seconds: i64) -> String {
        self.seq += 1;
        format!("{seconds}.{:06}", self.seq)
    }

    fn channel(&self, reference: &str) -> Option<&Channel> {
        let name = reference.strip_prefix('#').unwrap_or(reference);
        self.channels
            .iter()
            .find(|c| c.id == reference || c.name == name)
    }
}

/// An argument from the query (GET), a JSON body or a form body; JSON
/// numbers and objects come back as their JSON text.
pub fn arg(req: &Request, name: &str) -> Option<String> {
    if let Some(v) = req.param(name) {
        return Some(v);
    }
    let json_body = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"));
    if json_body {
        return match req.json().get(name)? {
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        };
    }
    req.form(name)
}

fn ok(mut body: Value) -> Reply {
    body["ok"] = json!(true);
    Reply::json(200, body)
}

fn err(code: &str) -> Reply {
    Reply::json(200, json!({ "ok": false, "error": code }))
}

fn ts_key(ts: &str) -> (i64, i64) {
    let (s, f) = ts.split_once('.').unwrap_or((ts, "0"));
    let frac: String = format!("{f:0<6}").chars().take(6).collect();
    (s.parse().unwrap_or(0), frac.parse().unwrap_or(0))
}

fn page<T: Clone>(items: &[T], cursor: Option<String>, limit: usize) -> (Vec<T>, String) {
    let start = cursor
        .and_then(|c| c.strip_prefix("fake-cursor-").and_then(|n| n.parse().ok()))
        .unwrap_or(0usize);
    let end = (start + limit).min(items.len());
    let next = if end < items.len() {
        format!("fake-cursor-{end}")
    } else {
        String::new()
    };
    (items.get(start..end).unwrap_or_default().to_vec(), next)
}

fn handle(s: &mut State, req: &Request) -> Reply {
    let Some(method) = req.path.strip_prefix("/api/").map(str::to_string) else {
        return Reply::json(404, json!({"ok": false, "error": "unknown_method"}));
    };
    let auth = req.header("authorization").map(str::to_string);
    let scripted = s
        .failures
        .iter()
        .position(|(m, _)| *m == method)
        .and_then(|i| s.failures.remove(i))
        .map(|(_, f)| f);
    match scripted {
        Some(Failure::Error(code)) => return err(&code),
        Some(Failure::RateLimited(secs)) => {
            return Reply::json(429, json!({"ok": false, "error": "ratelimited"}))
                .header("Retry-After", &secs.to_string());
        }
        Some(Failure::Status(status)) => {
            return Reply::json(status, json!({"ok": false, "error": "fake_http_error"}));
        }
        Some(Failure::LoseResponse) => {
            let _ = dispatch(s, &method, req, auth.as_deref());
            return Reply::Drop;
        }
        Some(Failure::Rival) => {
            let _ = dispatch(s, &method, req, auth.as_deref());
        }
        None => {}
    }
    dispatch(s, &method, req, auth.as_deref())
}

fn dispatch(s: &mut State, method: &str, req: &Request, auth: Option<&str>) -> Reply {
    match auth.and_then(|a| a.strip_prefix("Bearer ")) {
        None => return err("not_authed"),
        Some(t) if t != s.token => return err("invalid_auth"),
        Some(_) => {}
    }
    let a = |name: &str| arg(req, name);
    let limit = |default: usize| {
        a("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0)
            .unwrap_or(default)
            .min(s.page_size)
    };
    match method {
        // https://api.slack.com/methods/auth.test
        "auth.test" => ok(json!({
            "url": "https://rubin-obs.slack.com/",
            "team": "Rubin Observatory",
            "user": "cycle-bot",
            "team_id": "T0FAKETEAM",
            "user_id": "U0FAKEBOT1",
            "bot_id": "B0FAKEBOT1",
            "is_enterprise_install": false,
        })),
        // https://api.slack.com/methods/conversations.info: a private
        // channel the bot is not in is not found.
        "conversations.info" => match a("channel").and_then(|c| s.channel(&c).cloned()) {
            Some(c) if !c.is_private || c.is_member => ok(json!({
                "channel": {
                    "id": c.id, "name": c.name, "is_channel": true,
                    "is_private": c.is_private, "is_member": c.is_member,
                    "is_archived": c.is_archived,
                }
            })),
            _ => err("channel_not_found"),
        },
        "conversations.list" => {
            let types = a("types").unwrap_or_else(|| "public_channel".into());
            let exclude_archived = a("exclude_archived").as_deref() == Some("true");
            let visible: Vec<&Channel> = s
                .channels
                .iter()
                .filter(|c| {
                    if c.is_private {
                        types.contains("private_channel") && c.is_member
                    } else {
                        types.contains("public_channel")
                    }
                })
                .filter(|c| !(exclude_archived && c.is_archived))
                .collect();
            let (items, next) = page(&visible, a("cursor"), limit(100));
            let channels: Vec<Value> = items
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id, "name": c.name, "is_channel": true,
                        "is_private": c.is_private, "is_member": c.is_member,
                        "is_archived": c.is_archived,
                    })
                })
                .collect();
            ok(json!({ "channels": channels, "response_metadata": { "next_cursor": next } }))
        }
        "chat.scheduleMessage" => {
            let Some(channel) = a("channel").and_then(|c| s.channel(&c).cloned()) else {
                return err("channel_not_found");
            };
            if !channel.is_member {
                return err("not_in_channel");
            }
            let Some(post_at) = a("post_at").and_then(|p| p.parse::<i64>().ok()) else {
                return err("invalid_time");
            };
            let Some(text) = a("text").filter(|t| !t.is_empty()) else {
                return err("no_text");
            };
            if post_at <= s.now {
                return err("time_in_past");
            }
            if post_at > s.now + HORIZON {
                return err("time_too_far");
            }
            let metadata = a("metadata").map(|m| serde_json::from_str(&m).unwrap_or(json!(m)));
            s.seq += 1;
            let id = format!("Q{:010}", s.seq);
            let now = s.now;
            s.scheduled.push(Scheduled {
                id: id.clone(),
                channel: channel.id.clone(),
                post_at,
                text: text.clone(),
                metadata,
                date_created: now,
            });
            ok(json!({
                "channel": channel.id,
                "scheduled_message_id": id,
                "post_at": post_at,
                "message": { "type": "delayed_message", "text": text, "bot_id": "B0FAKEBOT1", "user": "U0FAKEBOT1" },
            }))
        }
        "chat.scheduledMessages.list" => {
            let channel = a("channel").and_then(|c| s.channel(&c).map(|c| c.id.clone()));
            let mine: Vec<&Scheduled> = s
                .scheduled
                .iter()
                .filter(|m| channel.as_ref().is_none_or(|c| *c == m.channel))
                .collect();
            let (items, next) = page(&mine, a("cursor"), limit(100));
            let list: Vec<Value> = items
                .iter()
                .map(|m| {
                    json!({
                        "id": m.id, "channel_id": m.channel, "post_at": m.post_at,
                        "date_created": m.date_created, "text": m.text,
                    })
                })
                .collect();
            ok(json!({ "scheduled_messages": list, "response_metadata": { "next_cursor": next } }))
        }
        "chat.deleteScheduledMessage" => {
            let Some(channel) = a("channel").and_then(|c| s.channel(&c).cloned()) else {
                return err("channel_not_found");
            };
            let id = a("scheduled_message_id").unwrap_or_default();
            match s
                .scheduled
                .iter()
                .position(|m| m.id == id && m.channel == channel.id)
            {
                Some(i) => {
                    s.scheduled.remove(i);
                    ok(json!({}))
                }
                None => err("invalid_scheduled_message_id"),
            }
        }
        "chat.delete" => {
            let Some(channel) = a("channel").and_then(|c| s.channel(&c).cloned()) else {
                return err("channel_not_found");
            };
            let ts = a("ts").unwrap_or_default();
            match s
                .posted
                .iter()
                .position(|m| m.ts == ts && m.channel == channel.id)
            {
                Some(i) if !s.posted[i].by_bot => err("cant_delete_message"),
                Some(i) => {
                    s.posted.remove(i);
                    ok(json!({ "channel": channel.id, "ts": ts }))
                }
                None => err("message_not_found"),
            }
        }
        "chat.postMessage" => {
            let Some(channel) = a("channel").and_then(|c| s.channel(&c).cloned()) else {
                return err("channel_not_found");
            };
            if !channel.is_member {
                return err("not_in_channel");
            }
            let Some(text) = a("text").filter(|t| !t.is_empty()) else {
                return err("no_text");
            };
            let metadata = a("metadata").map(|m| serde_json::from_str(&m).unwrap_or(json!(m)));
            let now = s.now;
            let ts = s.next_ts(now);
            s.posted.push(Posted {
                channel: channel.id.clone(),
                ts: ts.clone(),
                text: text.clone(),
                metadata,
                edited: false,
                by_bot: true,
            });
            ok(json!({
                "channel": channel.id, "ts": ts,
                "message": { "type": "message", "text": text, "ts": ts, "bot_id": "B0FAKEBOT1" },
            }))
        }
        "conversations.history" => {
            let Some(channel) = a("channel").and_then(|c| s.channel(&c).cloned()) else {
                return err("channel_not_found");
            };
            if !channel.is_member {
                return err("not_in_channel");
            }
            let inclusive = a("inclusive").as_deref() == Some("true");
            let oldest = a("oldest").map(|t| ts_key(&t));
            let latest = a("latest").map(|t| ts_key(&t));
            let with_metadata = a("include_all_metadata").as_deref() == Some("true");
            let mut messages: Vec<&Posted> = s
                .posted
                .iter()
                .filter(|m| m.channel == channel.id)
                .filter(|m| {
                    let k = ts_key(&m.ts);
                    oldest.is_none_or(|o| if inclusive { k >= o } else { k > o })
                        && latest.is_none_or(|l| if inclusive { k <= l } else { k < l })
                })
                .collect();
            messages.sort_by_key(|m| std::cmp::Reverse(ts_key(&m.ts)));
            let (items, next) = page(&messages, a("cursor"), limit(100));
            let list: Vec<Value> = items
                .iter()
                .map(|m| {
                    let mut v = json!({ "type": "message", "text": m.text, "ts": m.ts });
                    if m.by_bot {
                        v["bot_id"] = json!("B0FAKEBOT1");
                    } else {
                        v["user"] = json!("U0PERSON01");
                    }
                    if m.edited {
                        v["edited"] = json!({ "user": "U0FAKEBOT1", "ts": m.ts });
                    }
                    if let (true, Some(md)) = (with_metadata, &m.metadata) {
                        v["metadata"] = md.clone();
                    }
                    v
                })
                .collect();
            ok(json!({
                "messages": list, "has_more": !next.is_empty(),
                "response_metadata": { "next_cursor": next },
            }))
        }
        "chat.update" => {
            let Some(channel) = a("channel").and_then(|c| s.channel(&c).cloned()) else {
                return err("channel_not_found");
            };
            let ts = a("ts").unwrap_or_default();
            let text = a("text");
            let metadata = a("metadata").map(|m| serde_json::from_str(&m).unwrap_or(json!(m)));
            let Some(m) = s
                .posted
                .iter_mut()
                .find(|m| m.channel == channel.id && m.ts == ts)
            else {
                return err("message_not_found");
            };
            if !m.by_bot {
                return err("cant_update_message");
            }
            if let Some(text) = text {
                m.text = text;
            }
            if metadata.is_some() {
                m.metadata = metadata;
            }
            m.edited = true;
            ok(json!({
                "channel": channel.id, "ts": ts, "text": m.text,
                "message": { "type": "message", "text": m.text, "bot_id": "B0FAKEBOT1" },
            }))
        }
        "chat.getPermalink" => {
            let Some(channel) = a("channel").and_then(|c| s.channel(&c).cloned()) else {
                return err("channel_not_found");
            };
            let ts = a("message_ts").unwrap_or_default();
            if !s
                .posted
                .iter()
                .any(|m| m.channel == channel.id && m.ts == ts)
            {
                return err("message_not_found");
            }
            ok(json!({
                "channel": channel.id,
                "permalink": format!("https://fake.slack.com/archives/{}/p{}", channel.id, ts.replace('.', "")),
            }))
        }
        _ => Reply::json(404, json!({ "ok": false, "error": "unknown_method" })),
    }
}
