//! What every HTTP adapter shares: one client with connect and read
//! timeouts, a bounded exponential backoff that honours `Retry-After`, and a
//! [`Secret`] type that never prints.
//!
//! Adapters decide what is safe to retry: reads always are; a create is
//! retried only after the adapter has looked again for what it was creating
//! (a lost response must not make a second ticket, page or message).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// Connect timeout of every request.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Whole-request timeout (connect, send, read) of every request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A credential read from the environment. `Debug` and `Display` print
/// `<redacted>`; [`Secret::expose`] is the only way to the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value, and registers it with [`crate::redact`] so that no
    /// output of the process shows it, in any encoding.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::redact::register(&value);
        Self(value)
    }

    /// The value, for a request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text`, raw, base64 (as
    /// in HTTP Basic) or percent-encoded (defence in depth for messages
    /// that echo a request).
    pub fn scrub(&self, text: &str) -> String {
        crate::redact::Redactor::new(&self.0).redact(text)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A non-empty environment variable, trimmed.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A non-empty environment variable as a [`Secret`].
pub fn env_secret(name: &str) -> Option<Secret> {
    env_var(name).map(Secret::new)
}

/// The HTTP client every adapter uses: timeouts set, a `cycle` user agent,
/// and [`redirect_policy`] (a credential never follows a redirect to
/// another origin).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("cycle/", env!("CARGO_PKG_VERSION")))
        .redirect(redirect_policy())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// At most 5 redirects, none from `https` to plain `http`. reqwest drops the
/// `Authorization` header when a redirect changes the host or the port;
/// refusing a change of scheme closes the rest, so a credential only ever
/// follows a redirect within its own origin (scheme, host and port).
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade = attempt.url().scheme() == "http"
            && attempt.previous().iter().any(|u| u.scheme() == "https");
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if downgrade {
            let to = Origin::of(attempt.url().as_str()).map(|o| o.to_string());
            attempt.error(format!(
                "refused a redirect from https to plain http ({})",
                to.unwrap_or_default()
            ))
        } else {
            attempt.follow()
        }
    })
}

/// The origin of a URL: scheme, host and port (the scheme's default when
/// none is written), as browsers compare them. A credential goes only to
/// its service's origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`, lower case.
    pub scheme: String,
    /// Host, lower case (IPv6 in brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Origin {
    /// The origin of an `http(s)` URL; `None` for anything else.
    pub fn of(url: &str) -> Option<Self> {
        let parsed = reqwest::Url::parse(url.trim()).ok()?;
        let scheme = parsed.scheme().to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let host = parsed.host_str()?.to_ascii_lowercase();
        Some(Self {
            scheme,
            host,
            port: parsed.port_or_known_default()?,
        })
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host.ends_with(".localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Whether a credential may travel to this origin at all: over https,
    /// or over plain http to this machine only (test servers).
    pub fn carries_credentials(&self) -> bool {
        self.scheme == "https" || self.is_loopback()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// Why the configured root `url` of a service may not carry its
/// credential, if it may not: plain http to another machine (the
/// credential would cross the network in clear).
pub fn refuses_credentials(url: &str) -> Option<&'static str> {
    match Origin::of(url) {
        Some(origin) if !origin.carries_credentials() => Some(
            "plain http is only allowed to this machine (127.0.0.1, localhost): \
             credentials are sent over https only",
        ),
        _ => None,
    }
}

/// An error and its sources on one line, joined with `: ` (a source whose
/// text is already there is left out). reqwest's own text is terse; the
/// cause ("connection refused", "operation timed out") is in the chain.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// How often and how long to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Longest delay between attempts.
    pub max_delay: Duration,
    /// Longest `Retry-After` (or rate-limit reset) waited out; a longer one
    /// is reported instead.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            base_delay: Duration::from_millis(
                env_var("CYCLE_RETRY_BASE_MS")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(500),
            ),
            max_delay: Duration::from_secs(8),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The backoff before retry number `retry` (1 for the first retry).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(16);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// What one attempt of an operation came to.
#[derive(Debug)]
pub enum Attempt<T, E> {
    /// Done, successfully or with an error not worth retrying.
    Done(Result<T, E>),
    /// A transient failure: try again, after `after` when the server said so.
    Retry {
        /// The error, returned when no attempt is left.
        error: E,
        /// The server's `Retry-After` (or rate-limit reset), if any.
        after: Option<Duration>,
    },
}

/// Why [`with_retry`] gave up waiting.
pub trait RetryError {
    /// The error to return when the server asks for a wait longer than the
    /// policy allows.
    fn wait_too_long(self, wait: Duration) -> Self;
}

/// Runs `op` (given the attempt number, from 1) until it is done or the
/// attempts are used up, sleeping the server's `Retry-After` or the policy's
/// backoff in between.
pub async fn with_retry<T, E, F, Fut>(policy: &RetryPolicy, mut op: F) -> Result<T, E>
where
    E: RetryError,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T, E>>,
{
    let mut attempt = 1;
    loop {
        match op(attempt).await {
            Attempt::Done(result) => return result,
            Attempt::Retry { error, after } => {
                if attempt >= policy.attempts {
                    return Err(error);
                }
                let wait = match after {
                    Some(wait) if wait > policy.max_wait => return Err(error.wait_too_long(wait)),
                    Some(wait) => wait,
                    None => policy.backoff(attempt),
                };
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

/// Whether a status is worth retrying: 429 and every 5xx but 501.
pub fn is_transient(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED)
}

/// Whether a transport error is worth retrying (timeouts and connection
/// failures; not a malformed request or body).
pub fn is_transient_error(error: &reqwest::Error) -> bool {
    error.is_timeout() || error.is_connect() || error.is_request()
}

/// The wait a response asks for: `Retry-After` in seconds or as an HTTP
/// date, else (`x-ratelimit-remaining: 0`) the time until
/// `x-ratelimit-reset` (epoch seconds).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.trim().parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc2822(value.trim()) {
            let wait = at.timestamp() - chrono::Utc::now().timestamp();
            return Some(Duration::from_secs(wait.max(0) as u64));
        }
    }
    if header("x-ratelimit-remaining").map(str::trim) == Some("0")
        && let Some(reset) = header("x-ratelimit-reset").and_then(|v| v.trim().parse::<i64>().ok())
    {
        let wait = reset - chrono::Utc::now().timestamp();
        return Some(Duration::from_secs(wait.max(0) as u64));
    }
    None
}

/// A URL for messages: scheme, host and path, without userinfo or query.
pub fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("error sending request: connection refused")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn error_chain_adds_causes_once() {
        let timed_out = Outer(std::io::Error::other("operation timed out"));
        assert_eq!(
            error_chain(&timed_out),
            "error sending request: connection refused: operation timed out"
        );
        let repeated = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            error_chain(&repeated),
            "error sending request: connection refused"
        );
    }

    #[test]
    fn credentials_travel_over_https_or_to_this_machine_only() {
        let origin = Origin::of("https://GitHub.com/api/v3").unwrap();
        assert_eq!(origin.to_string(), "https://github.com:443");
        assert_eq!(
            Origin::of("https://github.com:443/x"),
            Origin::of("https://github.com/y")
        );
        assert_ne!(
            Origin::of("http://127.0.0.1:8080/"),
            Origin::of("http://127.0.0.1:8081/")
        );
        assert_eq!(Origin::of("ssh://git@github.com/o/n"), None);
        for url in [
            "https://jira.example.org",
            "http://127.0.0.1:8080",
            "http://127.0.0.2:1/x",
            "http://localhost:9000",
            "http://[::1]:9000/api",
        ] {
            assert_eq!(refuses_credentials(url), None, "{url}");
        }
        for url in ["http://jira.example.org", "http://10.0.0.1:8080/api"] {
            assert!(refuses_credentials(url).is_some(), "{url}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("tok-123");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
        assert_eq!(s.scrub("Bearer tok-123"), "Bearer <redacted>");
        let basic = crate::redact::base64_encode(b"rm@example.org:tok-123");
        assert_eq!(s.scrub(&format!("Basic {basic}")), "Basic <redacted>");
        assert_eq!(s.expose(), "tok-123");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(3),
            max_wait: Duration::from_secs(60),
        };
        let waits: Vec<u128> = (1..=5).map(|r| p.backoff(r).as_millis()).collect();
        assert_eq!(waits, [500, 1000, 2000, 3000, 3000]);
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_rate_limit_resets() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));

        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));

        let mut h = HeaderMap::new();
        let reset = chrono::Utc::now().timestamp() + 30;
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&reset.to_string()).unwrap(),
        );
        let wait = retry_after(&h).unwrap().as_secs();
        assert!((29..=30).contains(&wait), "{wait}");

        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("10"));
        assert_eq!(retry_after(&h), None);
    }

    #[derive(Debug, PartialEq)]
    enum E {
        Busy,
        TooLong(Duration),
    }
    impl RetryError for E {
        fn wait_too_long(self, wait: Duration) -> Self {
            E::TooLong(wait)
        }
    }

    #[tokio::test]
    async fn with_retry_stops_at_success_or_the_last_attempt() {
        let policy = RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_wait: Duration::from_secs(1),
        };
        let ok: Result<u32, E> = with_retry(&policy, |n| async move {
            if n < 2 {
                Attempt::Retry {
                    error: E::Busy,
                    after: None,
                }
            } else {
                Attempt::Done(Ok(n))
            }
        })
        .await;
        assert_eq!(ok, Ok(2));
        let mut calls = 0;
        let err: Result<u32, E> = with_retry(&policy, |_| {
            calls += 1;
            async {
                Attempt::Retry {
                    error: E::Busy,
                    after: None,
                }
            }
        })
        .await;
        assert_eq!((err, calls), (Err(E::Busy), 3));
        let long: Result<u32, E> = with_retry(&policy, |_| async {
            Attempt::Retry {
                error: E::Busy,
                after: Some(Duration::from_secs(3600)),
            }
        })
        .await;
        assert_eq!(long, Err(E::TooLong(Duration::from_secs(3600))));
    }
}

/// Why a failed request says its host cannot be reached in this run, read
/// from the error's text and causes ([`error_chain`]): the host name does
/// not resolve, the connection is refused, or there is no route to it. A
/// timeout or a reset is not one of them (the host may answer the next
/// request).
pub fn unreachable_cause(chain: &str) -> Option<&'static str> {
    let lower = chain.to_ascii_lowercase();
    if [
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "nodename nor servname",
        "no address associated",
        "temporary failure in name resolution",
        "could not resolve host",
    ]
    .iter()
    .any(|s| lower.contains(s))
    {
        Some("its name does not resolve (DNS)")
    } else if lower.contains("connection refused") {
        Some("the connection was refused")
    } else if lower.contains("network is unreachable") || lower.contains("no route to host") {
        Some("there is no route to it (network unreachable)")
    } else {
        None
    }
}

/// The hosts a client found unreachable in this run, so that it stops
/// asking them: one failed lookup or refused connection, not one per
/// request and retry. Clones share the record.
#[derive(Debug, Clone, Default)]
pub struct Reachability {
    hosts: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, &'static str>>>,
}

impl Reachability {
    /// Why `host` was found unreachable, if it was.
    pub fn cause(&self, host: &str) -> Option<&'static str> {
        self.hosts.lock().ok()?.get(host).copied()
    }

    /// Records `host` as unreachable when `chain` (a failed request's
    /// [`error_chain`]) says so; returns the cause.
    pub fn record(&self, host: &str, chain: &str) -> Option<&'static str> {
        let cause = unreachable_cause(chain)?;
        if let Ok(mut hosts) = self.hosts.lock() {
            hosts.entry(host.to_string()).or_insert(cause);
        }
        Some(cause)
    }
}

/// `host[:port]` of `url`, as [`Reachability`] keys it (the URL itself when
/// it has no host).
pub fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// The one-line reason of an unreachable host, the same for every request
/// to it (so findings group by it): `cannot reach HOST: CAUSE`.
pub fn unreachable_message(host: &str, cause: &str) -> String {
    format!("cannot reach {host}: {cause}")
}

#[cfg(test)]
mod reachability_tests {
    use super::*;

    #[test]
    fn dns_failures_and_refusals_make_a_host_unreachable_timeouts_do_not() {
        let reach = Reachability::default();
        assert_eq!(
            reach.record(
                "conda.invalid",
                "error sending request: client error (Connect): dns error: failed to lookup address information: Name or service not known"
            ),
            Some("its name does not resolve (DNS)")
        );
        assert_eq!(
            reach.record(
                "127.0.0.1:9",
                "tcp connect error: Connection refused (os error 111)"
            ),
            Some("the connection was refused")
        );
        assert_eq!(reach.record("slow", "operation timed out"), None);
        assert_eq!(
            reach.cause("conda.invalid"),
            Some("its name does not resolve (DNS)")
        );
        assert_eq!(
            reach.clone().cause("127.0.0.1:9"),
            Some("the connection was refused")
        );
        assert_eq!(reach.cause("slow"), None);
        assert_eq!(
            host_of("https://api.anaconda.org/package/x"),
            "api.anaconda.org"
        );
        assert_eq!(host_of("http://127.0.0.1:8080/a"), "127.0.0.1:8080");
    }
}
