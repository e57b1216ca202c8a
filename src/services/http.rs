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
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for a request header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text` (defence in depth
    /// for messages that echo a request).
    pub fn scrub(&self, text: &str) -> String {
        if self.0.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.0, "<redacted>")
        }
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
    env_var(name).map(Secret)
}

/// The HTTP client every adapter uses: timeouts set, a `cycle` user agent,
/// no redirects across hosts (so a credential never follows one).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("cycle/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
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
    fn secrets_never_print() {
        let s = Secret::new("tok-123");
        assert_eq!(format!("{s} {s:?}"), "<redacted> <redacted>");
        assert_eq!(s.scrub("Bearer tok-123"), "Bearer <redacted>");
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
