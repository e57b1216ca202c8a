//! Smart HTTP for libgit2, carried by reqwest.
//!
//! libgit2 speaks the git protocol; this module only moves its bytes over
//! HTTP(S). It is a *smart subtransport* registered for `http://` and
//! `https://` URLs ([`git2::transport::register`]), so every clone, fetch
//! and push over HTTP goes through it. Doing the HTTP in Rust rather than
//! inside libgit2 gives:
//!
//! * **timeouts**: a connect timeout, and an idle timeout on every wait
//!   (for the response's head, and for each read of its body), so a server
//!   that stops answering fails the operation instead of hanging the run;
//! * **rustls**, as the other adapters use: libgit2 is built without its
//!   OpenSSL stream, so starting it no longer parses the system's CA bundle
//!   (60–100 ms before the first fetch, measured with OpenSSL 3.0);
//! * **the token with the first request**: HTTP Basic `x-access-token`, as
//!   `actions/checkout` sends it, and only to the origin (scheme, host and
//!   port) of the GitHub server the token belongs to ([`Credentials`]), so an
//!   operation does not start with a 401 round trip; a repository anywhere
//!   else is reached without it; connections are kept alive and reused
//!   between the requests of a fetch or a push;
//! * reqwest's proxy support (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).
//!
//! # Sessions
//!
//! The transport registry is process-wide, the credentials are not: each
//! operation runs inside [`Session::run`], which makes its session the
//! current one on the calling thread (libgit2 runs a transport on the
//! thread that called fetch or push). The session also records why the
//! HTTP side failed ([`Failure`]), which libgit2's error message flattens
//! into text.
//!
//! # Only the refs an operation uses
//!
//! libgit2 speaks protocol v0/v1, in which the server's first answer (`GET
//! info/refs`) lists every ref of the repository: for phalanx on GitHub,
//! thousands of `refs/pull/*`. libgit2 reads all of them, and a push hides
//! (walks) every advertised commit it has locally. A session may carry a
//! [`RefFilter`]: the advertisement is then cut down to the refs it names
//! before libgit2 reads it ([`filter_advertisement`]), and the names of the
//! branches the server advertised are recorded ([`Session::advertised_branches`]).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use git2::transport::{Service, SmartSubtransport, SmartSubtransportStream, Transport};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use super::{Credentials, HTTP_USER, Secret, sanitize_url};
use crate::services::http::{CONNECT_TIMEOUT, Origin, error_chain};

/// Longest wait for the server: for a response's head (the request body
/// sent), then for each read of its body. A transfer that keeps moving is
/// never cut.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The user agent of git requests: `git/` first, as servers expect from a
/// git client.
const USER_AGENT: &str = concat!("git/2.0 (cycle/", env!("CARGO_PKG_VERSION"), ")");

/// Why the HTTP side of an operation failed, when libgit2's error text is
/// not enough to tell the user what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Failure {
    /// The token's server answered 401; `token_sent` tells whether the
    /// request carried the token (rejected) or not (missing).
    Unauthorized {
        /// Whether the request carried the token.
        token_sent: bool,
    },
    /// A host the token does not belong to (the repository's own, or a
    /// redirect's target) answered 401 or 403: it never gets the token.
    ForeignHost {
        /// `host:port` that refused.
        host: String,
        /// The status.
        status: u16,
    },
}

/// The refs an operation may see in the server's advertisement: those
/// named exactly, and those under one of the prefixes.
#[derive(Clone, Debug, Default)]
pub(super) struct RefFilter {
    /// Full ref names (`refs/heads/main`).
    pub(super) names: BTreeSet<String>,
    /// Prefixes (`refs/heads/`).
    pub(super) prefixes: Vec<String>,
}

impl RefFilter {
    /// Whether the advertised `name` (a peeled tag's `^{}` ignored) is kept.
    fn keeps(&self, name: &str) -> bool {
        let name = name.strip_suffix("^{}").unwrap_or(name);
        self.names.contains(name) || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

/// The credentials and timeout of one operation, and what went wrong.
pub(super) struct Session {
    /// The token and the only origin it is sent to.
    creds: Credentials,
    idle: Duration,
    failure: Mutex<Option<Failure>>,
    /// The refs libgit2 is shown, when not all.
    filter: Option<RefFilter>,
    /// The branch names (without `refs/heads/`) of the last advertisement
    /// read, filtered or not.
    advertised: Mutex<Option<BTreeSet<String>>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Session>>> = const { RefCell::new(None) };
}

/// Restores the thread's previous session, even when the operation panics.
struct Current(Option<Arc<Session>>);

impl Drop for Current {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

impl Session {
    /// A session for an operation, sending the token of `creds` to its
    /// server's origin only.
    pub(super) fn new(creds: Credentials, idle: Duration) -> Arc<Self> {
        Arc::new(Self {
            creds,
            idle,
            failure: Mutex::new(None),
            filter: None,
            advertised: Mutex::new(None),
        })
    }

    /// [`Session::new`] whose advertisements libgit2 sees cut down to the
    /// refs `filter` keeps.
    pub(super) fn filtered(creds: Credentials, idle: Duration, filter: RefFilter) -> Arc<Self> {
        let mut session = Self::new(creds, idle);
        if let Some(session) = Arc::get_mut(&mut session) {
            session.filter = Some(filter);
        }
        session
    }

    /// The branches (names without `refs/heads/`) the server advertised in
    /// this session, before any filtering; `None` when no advertisement
    /// went through this transport (file:// and ssh remotes).
    pub(super) fn advertised_branches(&self) -> Option<BTreeSet<String>> {
        self.advertised
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Runs `op` (a libgit2 fetch or push) with this session as the
    /// thread's current one.
    ///
    /// # Errors
    /// When the transport cannot be registered with libgit2.
    pub(super) fn run<T>(
        self: &Arc<Self>,
        op: impl FnOnce() -> Result<T, git2::Error>,
    ) -> Result<T, git2::Error> {
        register()?;
        let previous = CURRENT.with(|c| c.replace(Some(self.clone())));
        let _restore = Current(previous);
        op()
    }

    /// Why the HTTP side failed, if it did in a way worth naming.
    pub(super) fn failure(&self) -> Option<Failure> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn fail(&self, failure: Failure) {
        *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(failure);
    }
}

/// Registers the transport for `http` and `https`, once per process.
fn register() -> Result<(), git2::Error> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            ["http", "https"].iter().try_for_each(|scheme| {
                // SAFETY: `register` must not race with libgit2 creating a
                // transport. Every fetch and push of this crate runs inside
                // `Session::run`, which calls this first, and `OnceLock`
                // makes any other thread wait until registration is done.
                unsafe { git2::transport::register(scheme, factory) }
                    .map_err(|e| format!("registering the {scheme} transport: {}", e.message()))
            })
        })
        .clone()
        .map_err(|message| git2::Error::from_str(&message))
}

fn factory(remote: &git2::Remote<'_>) -> Result<Transport, git2::Error> {
    let session = CURRENT
        .with(|c| c.borrow().clone())
        .unwrap_or_else(|| Session::new(Credentials::none(), IDLE_TIMEOUT));
    Transport::smart(
        remote,
        true,
        HttpTransport {
            session,
            base: Arc::default(),
        },
    )
}

/// One HTTP client per idle timeout, shared by every operation (its pool
/// keeps connections alive between requests).
fn client(idle: Duration) -> Result<Client, reqwest::Error> {
    static CLIENTS: OnceLock<Mutex<HashMap<Duration, Client>>> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(client) = clients.get(&idle) {
        return Ok(client.clone());
    }
    let client = Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(idle)
        .user_agent(USER_AGENT)
        .redirect(crate::services::http::redirect_policy())
        .build()?;
    clients.insert(idle, client.clone());
    Ok(client)
}

struct HttpTransport {
    pub(super) session: Arc<Session>,
    /// Where a redirected advertisement ended up: the later requests of the
    /// operation go there directly (as libgit2's own transport does).
    base: Arc<Mutex<Option<String>>>,
}

impl SmartSubtransport for HttpTransport {
    fn action(
        &self,
        url: &str,
        action: Service,
    ) -> Result<Box<dyn SmartSubtransportStream>, git2::Error> {
        let (path, service, advertisement) = match action {
            Service::UploadPackLs => ("/info/refs?service=git-upload-pack", "upload-pack", true),
            Service::UploadPack => ("/git-upload-pack", "upload-pack", false),
            Service::ReceivePackLs => ("/info/refs?service=git-receive-pack", "receive-pack", true),
            Service::ReceivePack => ("/git-receive-pack", "receive-pack", false),
        };
        let base = self
            .base
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| sanitize_url(url).trim_end_matches('/').to_string());
        Ok(Box::new(HttpStream {
            session: self.session.clone(),
            url: format!("{base}{path}"),
            service,
            advertisement,
            base: self.base.clone(),
            body: Vec::new(),
            response: None,
        }))
    }

    fn close(&self) -> Result<(), git2::Error> {
        Ok(())
    }
}

/// One request: libgit2 writes its body, then reads the answer (the
/// request is sent at the first read).
struct HttpStream {
    session: Arc<Session>,
    url: String,
    service: &'static str,
    /// `GET info/refs` (true) or `POST git-<service>`.
    advertisement: bool,
    base: Arc<Mutex<Option<String>>>,
    body: Vec<u8>,
    response: Option<Answer>,
}

/// An answer being read: streamed from the server, or an advertisement
/// read whole and filtered.
enum Answer {
    Streamed(Response),
    Filtered(io::Cursor<Vec<u8>>),
}

impl HttpStream {
    fn send(&mut self) -> io::Result<Response> {
        let client = client(self.session.idle)
            .map_err(|e| io::Error::other(format!("setting up HTTP: {}", error_chain(&e))))?;
        let mut request = if self.advertisement {
            client.get(&self.url)
        } else {
            client
                .post(&self.url)
                .header(
                    CONTENT_TYPE,
                    format!("application/x-git-{}-request", self.service),
                )
                .header(ACCEPT, format!("application/x-git-{}-result", self.service))
                .body(std::mem::take(&mut self.body))
        };
        let token = self.session.creds.token_for(&self.url);
        let token_sent = token.is_some();
        if let Some(Secret(token)) = token {
            request = request.basic_auth(HTTP_USER, Some(token));
        }
        let response = request
            .send()
            .map_err(|e| io::Error::other(error_chain(&e)))?;
        let status = response.status();
        let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
        // The token's server, answering itself (a redirect to another
        // origin drops the token: reqwest strips the header).
        let on_server = self.session.creds.is_server(response.url().as_str());
        if refused && !on_server {
            let host = Origin::of(response.url().as_str())
                .map(|o| format!("{}:{}", o.host, o.port))
                .unwrap_or_default();
            self.session.fail(Failure::ForeignHost {
                host,
                status: status.as_u16(),
            });
            return Err(io::Error::other(format!(
                "authentication required (HTTP {})",
                status.as_u16()
            )));
        }
        if status == StatusCode::UNAUTHORIZED {
            self.session.fail(Failure::Unauthorized { token_sent });
            return Err(io::Error::other("authentication required (HTTP 401)"));
        }
        if !status.is_success() {
            // libgit2's wording, which the adapter's hints and retry rules
            // read; with the wait a 429 or 503 asked for, in seconds.
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| format!(" (retry after {s}s)"))
                .unwrap_or_default();
            return Err(io::Error::other(format!(
                "unexpected http status code: {}{wait}",
                status.as_u16()
            )));
        }
        let kind = if self.advertisement {
            "advertisement"
        } else {
            "result"
        };
        let expected = format!("application/x-git-{}-{kind}", self.service);
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case(&expected) {
            return Err(io::Error::other(format!(
                "{} is not a smart HTTP git server (Content-Type `{content_type}`, expected `{expected}`)",
                sanitize_url(response.url().as_str())
            )));
        }
        if self.advertisement && response.url().as_str() != self.url {
            let landed = sanitize_url(response.url().as_str());
            if let Some(end) = landed.find("/info/refs") {
                *self.base.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(landed[..end].to_string());
            }
        }
        Ok(response)
    }
}

impl HttpStream {
    /// The answer to read: an advertisement is read whole, its branch names
    /// recorded, and cut down to the session's filter.
    fn answer(&mut self) -> io::Result<Answer> {
        let mut response = self.send()?;
        if !self.advertisement {
            return Ok(Answer::Streamed(response));
        }
        let mut raw = Vec::new();
        response
            .read_to_end(&mut raw)
            .map_err(|e| io::Error::other(format!("reading the answer: {}", error_chain(&e))))?;
        let keep = |name: &str| self.session.filter.as_ref().is_none_or(|f| f.keeps(name));
        let Some((filtered, branches)) = filter_advertisement(&raw, keep) else {
            return Ok(Answer::Filtered(io::Cursor::new(raw)));
        };
        *self
            .session
            .advertised
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(branches);
        Ok(Answer::Filtered(io::Cursor::new(filtered.unwrap_or(raw))))
    }
}

impl Read for HttpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let answer = match &mut self.response {
            Some(answer) => answer,
            None => {
                let answer = self.answer()?;
                self.response.insert(answer)
            }
        };
        match answer {
            Answer::Streamed(response) => response
                .read(buf)
                .map_err(|e| io::Error::other(format!("reading the answer: {}", error_chain(&e)))),
            Answer::Filtered(cursor) => cursor.read(buf),
        }
    }
}

/// The pkt-lines of `data`: each one's payload, `None` for a flush; `None`
/// when `data` is not a sequence of pkt-lines.
fn pkt_lines(mut data: &[u8]) -> Option<Vec<Option<&[u8]>>> {
    let mut lines = Vec::new();
    while !data.is_empty() {
        let len = usize::from_str_radix(std::str::from_utf8(data.get(..4)?).ok()?, 16).ok()?;
        if len == 0 {
            lines.push(None);
            data = &data[4..];
            continue;
        }
        if len < 4 {
            return None;
        }
        lines.push(Some(data.get(4..len)?));
        data = &data[len..];
    }
    Some(lines)
}

fn push_pkt(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload);
}

/// Cuts a smart-HTTP ref advertisement (`# service=…`, flush, then one
/// `<oid> <ref>` pkt-line per ref, the first carrying the capabilities
/// after a NUL, then a flush) down to the refs `keep` accepts, moving the
/// capabilities to the first kept ref (or to git's `capabilities^{}` line
/// of an empty repository). Also returns the advertised branch names
/// (`refs/heads/` stripped). The rewritten advertisement is `None` when
/// nothing was dropped; the whole answer is `None` when the input is not
/// such an advertisement (it is then passed on as it is).
pub(super) fn filter_advertisement(
    raw: &[u8],
    keep: impl Fn(&str) -> bool,
) -> Option<(Option<Vec<u8>>, BTreeSet<String>)> {
    let mut branches = BTreeSet::new();
    let lines = pkt_lines(raw)?;
    let mut out = Vec::with_capacity(raw.len().min(64 * 1024));
    let mut iter = lines.into_iter().peekable();
    // The service header and its flush.
    if let Some(Some(first)) = iter.peek()
        && first.starts_with(b"# service=")
    {
        push_pkt(&mut out, first);
        iter.next();
        match iter.next() {
            Some(None) => out.extend_from_slice(b"0000"),
            _ => return None,
        }
    }
    let mut capabilities: Vec<u8> = Vec::new();
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut shallow: Vec<&[u8]> = Vec::new();
    let mut dropped = false;
    let mut ended = false;
    for line in iter.by_ref() {
        let Some(payload) = line else {
            ended = true;
            break;
        };
        let payload = payload.strip_suffix(b"\n").unwrap_or(payload);
        let refline = match payload.iter().position(|&b| b == 0) {
            Some(nul) => {
                capabilities = payload[nul + 1..].to_vec();
                &payload[..nul]
            }
            None => payload,
        };
        let (oid, name) = std::str::from_utf8(refline)
            .ok()
            .and_then(|t| t.split_once(' '))?;
        if oid == "shallow" {
            shallow.push(refline);
            continue;
        }
        if let Some(branch) = name.strip_prefix("refs/heads/") {
            branches.insert(branch.to_string());
        }
        if name == "capabilities^{}" || !keep(name) {
            dropped = true;
        } else {
            kept.push(refline);
        }
    }
    if !ended {
        return None;
    }
    if !dropped {
        return Some((None, branches));
    }
    let empty = format!("{} capabilities^{{}}", "0".repeat(40));
    let first: &[u8] = kept.first().copied().unwrap_or(empty.as_bytes());
    let mut payload = first.to_vec();
    payload.push(0);
    payload.extend_from_slice(&capabilities);
    payload.push(b'\n');
    push_pkt(&mut out, &payload);
    for line in kept.iter().skip(1).chain(&shallow) {
        let mut payload = line.to_vec();
        payload.push(b'\n');
        push_pkt(&mut out, &payload);
    }
    out.extend_from_slice(b"0000");
    // Whatever follows the refs' flush is passed on.
    for line in iter {
        match line {
            Some(payload) => push_pkt(&mut out, payload),
            None => out.extend_from_slice(b"0000"),
        }
    }
    Some((Some(out), branches))
}

impl Write for HttpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.response.is_some() {
            return Err(io::Error::other("the request was already sent"));
        }
        self.body.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_to_its_server_s_origin_only() {
        let creds = Credentials::with_token("t", "https://github.com");
        let sent = |url: &str| creds.token_for(url).is_some();
        assert!(sent("https://github.com/o/n.git/info/refs"));
        assert!(sent("https://GitHub.com:443/o/n.git/info/refs"));
        assert!(!sent("http://github.com/o/n.git/info/refs"));
        assert!(!sent("https://github.com:8443/o/n.git"));
        assert!(!sent("https://objects.example.org/o/n"));
        let local = Credentials::with_token("t", "http://127.0.0.1:8080");
        assert!(local.token_for("http://127.0.0.1:8080/o/n.git").is_some());
        assert!(local.token_for("http://127.0.0.1:8081/o/n.git").is_none());
        assert!(local.token_for("http://localhost:8080/o/n.git").is_none());
        assert!(local.token_for("http://127.0.0.2:8080/o/n.git").is_none());
        // Plain http to another machine: never.
        let plain = Credentials::with_token("t", "http://git.example.org");
        assert!(plain.token_for("http://git.example.org/o/n.git").is_none());
    }

    fn pkt(payload: &str) -> String {
        format!("{:04x}{payload}", payload.len() + 4)
    }

    fn advertisement(refs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = pkt("# service=git-upload-pack\n") + "0000";
        for (i, (oid, name)) in refs.iter().enumerate() {
            let caps = if i == 0 {
                "\0multi_ack side-band-64k"
            } else {
                ""
            };
            out += &pkt(&format!("{oid} {name}{caps}\n"));
        }
        (out + "0000").into_bytes()
    }

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";

    #[test]
    fn the_advertisement_keeps_the_asked_refs_and_the_capabilities() {
        let raw = advertisement(&[
            (A, "HEAD"),
            (A, "refs/heads/main"),
            (B, "refs/heads/tickets/OSW-1"),
            (B, "refs/pull/1/head"),
            (A, "refs/tags/v1"),
            (B, "refs/tags/v1^{}"),
        ]);
        let filter = RefFilter {
            names: [
                "refs/heads/tickets/OSW-1".to_string(),
                "refs/tags/v1".to_string(),
            ]
            .into(),
            prefixes: Vec::new(),
        };
        let (out, branches) = filter_advertisement(&raw, |n| filter.keeps(n)).unwrap();
        let expected = pkt("# service=git-upload-pack\n")
            + "0000"
            + &pkt(&format!(
                "{B} refs/heads/tickets/OSW-1\0multi_ack side-band-64k\n"
            ))
            + &pkt(&format!("{A} refs/tags/v1\n"))
            + &pkt(&format!("{B} refs/tags/v1^{{}}\n"))
            + "0000";
        assert_eq!(String::from_utf8(out.unwrap()).unwrap(), expected);
        assert_eq!(
            branches.into_iter().collect::<Vec<_>>(),
            ["main", "tickets/OSW-1"]
        );
    }

    #[test]
    fn an_advertisement_with_nothing_kept_is_an_empty_repository_s() {
        let raw = advertisement(&[(A, "refs/heads/main"), (B, "refs/pull/1/head")]);
        let (out, branches) = filter_advertisement(&raw, |_| false).unwrap();
        let expected = pkt("# service=git-upload-pack\n")
            + "0000"
            + &pkt(&format!(
                "{} capabilities^{{}}\0multi_ack side-band-64k\n",
                "0".repeat(40)
            ))
            + "0000";
        assert_eq!(String::from_utf8(out.unwrap()).unwrap(), expected);
        assert_eq!(branches.len(), 1);
        // Nothing dropped: passed on as it is.
        let (out, _) = filter_advertisement(&raw, |_| true).unwrap();
        assert!(out.is_none());
        // Not an advertisement: left alone.
        assert!(filter_advertisement(b"<html>not git</html>", |_| true).is_none());
        assert!(filter_advertisement(&raw[..raw.len() - 4], |_| true).is_none());
    }
}
