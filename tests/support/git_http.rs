//! A tiny smart-HTTP git server for tests: HTTP/1.1 on 127.0.0.1 (random
//! port), Basic auth required, requests forwarded to `git http-backend` (CGI).
//! Every request is recorded (with the time it arrived) so tests can assert
//! on authentication, on how often a repository is fetched and on overlap;
//! [`GitHttpServer::set_latency`] makes each answer late, as a distant
//! server's; [`GitHttpServer::redirect`] moves a repository, as GitHub
//! answers for a renamed one.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One request as seen by the server.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query string (may be empty).
    pub query: String,
    /// Raw `Authorization` header, if any.
    pub authorization: Option<String>,
    /// Status code answered.
    pub status: u16,
    /// The request's body (a POST's pkt-lines: `want`, `have`, `deepen`,
    /// ref updates, then a push's pack).
    pub body: Vec<u8>,
    /// When the request arrived.
    pub at: Instant,
    /// When its answer was ready: after the added latency and the server's
    /// own work (`git http-backend`).
    pub answered: Instant,
}

impl RecordedRequest {
    /// Whether this request started an authenticated fetch or clone (`GET
    /// .../info/refs?service=git-upload-pack` answered 200; a 401 asking
    /// for the credentials comes before it): one per fetch of a repository.
    pub fn starts_fetch(&self) -> bool {
        self.method == "GET"
            && self.status == 200
            && self.path.ends_with("/info/refs")
            && self.query.contains("service=git-upload-pack")
    }

    /// Whether this request sent a push's objects (`POST
    /// .../git-receive-pack` answered 200).
    pub fn is_push(&self) -> bool {
        self.method == "POST" && self.status == 200 && self.path.ends_with("/git-receive-pack")
    }

    /// Whether the request carried an `Authorization` header.
    pub fn had_auth(&self) -> bool {
        self.authorization.is_some()
    }

    /// The text pkt-lines at the start of the body, up to the first flush
    /// or the end of the commands (`want <oid> …`, `deepen 1`, `shallow
    /// <oid>`, a push's `<old> <new> <ref>`), without their newline.
    pub fn pkt_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut rest = self.body.as_slice();
        while rest.len() >= 4 {
            let Some(len) = std::str::from_utf8(&rest[..4])
                .ok()
                .and_then(|l| usize::from_str_radix(l, 16).ok())
            else {
                break;
            };
            if len < 4 || len > rest.len() {
                // A flush (or the end of the text part): keep reading
                // lines after a flush, as `done` follows the wants'.
                rest = &rest[4.min(rest.len())..];
                if len == 0 {
                    continue;
                }
                break;
            }
            let line = String::from_utf8_lossy(&rest[4..len]);
            lines.push(line.trim_end_matches('\n').to_string());
            rest = &rest[len..];
        }
        lines
    }

    /// The object ids an upload-pack request asks for (its `want` lines).
    pub fn wants(&self) -> Vec<String> {
        self.pkt_lines()
            .iter()
            .filter_map(|l| l.strip_prefix("want "))
            .map(|l| l.split(' ').next().unwrap_or_default().to_string())
            .collect()
    }
}

/// A running server; stops when dropped.
pub struct GitHttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    latency: Arc<Mutex<Duration>>,
    redirects: Arc<Mutex<Vec<(String, String)>>>,
    failures: Arc<Mutex<Vec<u16>>>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    root: PathBuf,
    expected_auth: String,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    latency: Arc<Mutex<Duration>>,
    /// `(path prefix, new URL prefix)`: answered 301 before any auth check.
    redirects: Arc<Mutex<Vec<(String, String)>>>,
    /// Statuses answered, in order, to the next authorised `POST
    /// .../git-receive-pack` requests instead of running the push.
    failures: Arc<Mutex<Vec<u16>>>,
}

impl GitHttpServer {
    /// Serves the repositories under `project_root`, accepting only Basic
    /// auth with `user`/`password`.
    pub fn start(project_root: &Path, user: &str, password: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind test server");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let latency = Arc::new(Mutex::new(Duration::ZERO));
        let redirects = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            root: project_root.to_path_buf(),
            expected_auth: format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
            requests: requests.clone(),
            latency: latency.clone(),
            redirects: redirects.clone(),
            failures: failures.clone(),
        });
        let stop2 = stop.clone();
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = conn else { continue };
                let shared = shared.clone();
                thread::spawn(move || {
                    let _ = handle_connection(stream, &shared);
                });
            }
        });
        Self {
            addr,
            stop,
            requests,
            latency,
            redirects,
            failures,
            accept: Some(accept),
        }
    }

    /// Answers every request whose path starts with `/<from>` with `301
    /// Moved Permanently` to `to` followed by the rest of the path and the
    /// query (`to` may be on another server).
    pub fn redirect(&self, from: &str, to: &str) {
        self.redirects.lock().unwrap().push((
            format!("/{}", from.trim_start_matches('/')),
            to.trim_end_matches('/').to_string(),
        ));
    }

    /// Answers the next authorised pushes' `POST .../git-receive-pack`
    /// with these statuses, one each in order (500, 429 with `Retry-After:
    /// 1`, ...), without running the push; later pushes run as usual.
    pub fn fail_next_pushes(&self, statuses: &[u16]) {
        self.failures.lock().unwrap().extend_from_slice(statuses);
    }

    /// Waits `latency` before answering each request from now on.
    pub fn set_latency(&self, latency: Duration) {
        *self.latency.lock().unwrap() = latency;
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        self.requests.lock().unwrap().clear();
    }

    /// `http://127.0.0.1:<port>/<repo>`.
    pub fn url(&self, repo: &str) -> String {
        format!("http://{}/{}", self.addr, repo.trim_start_matches('/'))
    }

    /// All requests so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// Number of requests answered with `status`.
    pub fn count_status(&self, status: u16) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.status == status)
            .count()
    }
}

impl Drop for GitHttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn handle_connection(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(req) = read_request(&mut reader)? {
        let at = Instant::now();
        let latency = *shared.latency.lock().unwrap();
        if !latency.is_zero() {
            thread::sleep(latency);
        }
        let close = req
            .header("Connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let authorization = req.header("Authorization").map(str::to_string);
        let authorized = authorization
            .as_deref()
            .is_some_and(|a| a.trim() == shared.expected_auth);
        let moved = shared
            .redirects
            .lock()
            .unwrap()
            .iter()
            .find_map(|(from, to)| {
                let rest = req.path.strip_prefix(from.as_str())?;
                let query = if req.query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", req.query)
                };
                Some(format!("{to}{rest}{query}"))
            });
        let (status, headers, body) = if let Some(location) = moved {
            (
                301,
                vec![
                    ("Location".to_string(), location),
                    ("Content-Type".to_string(), "text/plain".to_string()),
                ],
                b"moved\n".to_vec(),
            )
        } else if authorized
            && req.method == "POST"
            && req.path.ends_with("/git-receive-pack")
            && let Some(status) = {
                let mut failures = shared.failures.lock().unwrap();
                (!failures.is_empty()).then(|| failures.remove(0))
            }
        {
            let mut headers = vec![("Content-Type".to_string(), "text/plain".to_string())];
            if status == 429 {
                headers.push(("Retry-After".to_string(), "1".to_string()));
            }
            (status, headers, b"try again later\n".to_vec())
        } else if authorized {
            run_cgi(&req, &shared.root)
        } else {
            (
                401,
                vec![
                    (
                        "WWW-Authenticate".to_string(),
                        "Basic realm=\"git\"".to_string(),
                    ),
                    ("Content-Type".to_string(), "text/plain".to_string()),
                ],
                b"authentication required\n".to_vec(),
            )
        };
        shared.requests.lock().unwrap().push(RecordedRequest {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            authorization,
            status,
            body: req.body.clone(),
            at,
            answered: Instant::now(),
        });
        let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        for (k, v) in &headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        out.push_str(if close {
            "Connection: close\r\n\r\n"
        } else {
            "Connection: keep-alive\r\n\r\n"
        });
        // One write, as real servers answer: a separate write of the body
        // would wait for the client's delayed ACK (Nagle).
        let mut answer = out.into_bytes();
        answer.extend_from_slice(&body);
        writer.write_all(&answer)?;
        writer.flush()?;
        if close {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
    Ok(())
}

fn read_line(reader: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let Some(request_line) = read_line(reader)? else {
        return Ok(None);
    };
    if request_line.is_empty() {
        return Ok(None);
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    let mut headers = Vec::new();
    while let Some(line) = read_line(reader)? {
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let mut req = Request {
        method,
        path,
        query,
        headers,
        body: Vec::new(),
    };
    let chunked = req
        .header("Transfer-Encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = read_line(reader)?.unwrap_or_default();
            let size_hex = size_line.split(';').next().unwrap_or("0").trim();
            let size = usize::from_str_radix(size_hex, 16).unwrap_or(0);
            if size == 0 {
                // Trailers until the empty line.
                while let Some(line) = read_line(reader)? {
                    if line.is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = req.body.len();
            req.body.resize(start + size, 0);
            reader.read_exact(&mut req.body[start..])?;
            let _ = read_line(reader)?; // CRLF after the chunk
        }
    } else if let Some(len) = req.header("Content-Length") {
        let len: usize = len.parse().unwrap_or(0);
        req.body.resize(len, 0);
        reader.read_exact(&mut req.body)?;
    }
    Ok(Some(req))
}

fn run_cgi(req: &Request, root: &Path) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", &req.path)
        .env("QUERY_STRING", &req.query)
        .env("REQUEST_METHOD", &req.method)
        .env("CONTENT_TYPE", req.header("Content-Type").unwrap_or(""))
        .env("CONTENT_LENGTH", req.body.len().to_string())
        .env("REMOTE_USER", "test-user")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("AUTH_TYPE", "Basic")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = req.header("Git-Protocol") {
        cmd.env("HTTP_GIT_PROTOCOL", p);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return (500, Vec::new(), format!("spawn failed: {e}").into_bytes()),
    };
    let mut stdin = child.stdin.take().unwrap();
    let body = req.body.clone();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output().expect("git http-backend");
    let _ = writer.join();
    parse_cgi(&output.stdout)
}

fn parse_cgi(out: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let (head_end, sep) = match find(out, b"\r\n\r\n") {
        Some(i) => (i, 4),
        None => match find(out, b"\n\n") {
            Some(i) => (i, 2),
            None => return (500, Vec::new(), b"bad CGI output".to_vec()),
        },
    };
    let head = String::from_utf8_lossy(&out[..head_end]);
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k.eq_ignore_ascii_case("Status") {
            status = v
                .split_whitespace()
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(500);
        } else if !k.eq_ignore_ascii_case("Content-Length") {
            headers.push((k.to_string(), v.to_string()));
        }
    }
    (status, headers, out[head_end + sep..].to_vec())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// Standard base64 with padding.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}
