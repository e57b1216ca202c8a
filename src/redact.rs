//! Redaction of credentials in every form they take in text.
//!
//! A credential can reach text in more shapes than its raw value: a server
//! that echoes the request's `Authorization` header in an error shows
//! `Basic base64(user:token)` (Jira, Confluence) or
//! `Basic base64(x-access-token:token)` (the git transport); a URL or a form
//! carries it percent-encoded. [`Redactor`] knows them all for one value:
//!
//! * the raw value;
//! * its percent-encoded forms (`%XX` upper and lower case, a form's `+`);
//! * its base64 forms whatever precedes it (the user name and `:` of HTTP
//!   Basic shift the token's alignment, so each of the three alignments is
//!   matched, in the standard and the URL-safe alphabet): the whole base64
//!   run holding the token's encoding is replaced.
//!
//! Every credential the adapters read is [`register`]ed for the process,
//! and [`redact`] replaces every registered one: the last line of defence
//! at each place text leaves the process (errors, progress lines, the
//! journal, saved plans, the Markdown comment, standard output).

use std::sync::{OnceLock, RwLock};

/// What replaces a credential.
pub const REDACTED: &str = "<redacted>";

/// Base64 runs shorter than this are not matched (too likely by chance).
const MIN_BASE64_CORE: usize = 8;

/// The forms of one credential in text.
#[derive(Clone, PartialEq, Eq)]
pub struct Redactor {
    /// Raw and percent-encoded forms, replaced as they are.
    literals: Vec<String>,
    /// Base64 of the value at each alignment, without the characters that
    /// depend on its neighbours: the run holding one is replaced.
    base64: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor(<redacted>)")
    }
}

impl Redactor {
    /// The forms of `secret` (nothing for an empty one).
    pub fn new(secret: &str) -> Self {
        if secret.is_empty() {
            return Self {
                literals: Vec::new(),
                base64: Vec::new(),
            };
        }
        let mut literals = vec![secret.to_string()];
        let upper = percent_encode(secret, false);
        let lower = percent_encode(secret, true);
        let form = percent_encode(secret, false).replace("%20", "+");
        for form in [upper, lower, form] {
            if !literals.contains(&form) {
                literals.push(form);
            }
        }
        // Longest first, so a form containing another is replaced whole.
        literals.sort_by_key(|l| std::cmp::Reverse(l.len()));
        let mut base64 = Vec::new();
        for offset in 0..3usize {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(secret.as_bytes());
            let encoded = base64_encode(&bytes);
            // The first group holds a neighbour's bits when shifted; the
            // last, partial one the next byte's or the padding.
            let start = if offset == 0 { 0 } else { 4 };
            let end = 4 * (bytes.len() / 3);
            if end > start && end - start >= MIN_BASE64_CORE {
                let core = &encoded[start..end];
                for form in [core.to_string(), core.replace('+', "-").replace('/', "_")] {
                    if !base64.contains(&form) {
                        base64.push(form);
                    }
                }
            }
        }
        Self { literals, base64 }
    }

    /// `text` with every form of the credential replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for literal in &self.literals {
            if out.contains(literal.as_str()) {
                out = out.replace(literal.as_str(), REDACTED);
            }
        }
        for core in &self.base64 {
            while let Some(at) = out.find(core.as_str()) {
                let bytes = out.as_bytes();
                let is_b64 =
                    |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
                let mut start = at;
                while start > 0 && is_b64(bytes[start - 1]) {
                    start -= 1;
                }
                // Padding only ends a run.
                let mut end = at + core.len();
                while end < bytes.len() && (is_b64(bytes[end]) || bytes[end] == b'=') {
                    end += 1;
                }
                out.replace_range(start..end, REDACTED);
            }
        }
        out
    }
}

fn registry() -> &'static RwLock<Vec<Redactor>> {
    static REGISTRY: OnceLock<RwLock<Vec<Redactor>>> = OnceLock::new();
    REGISTRY.get_or_init(RwLock::default)
}

/// Remembers `secret` for the rest of the process: [`redact`] replaces it,
/// in every form, from now on.
pub fn register(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let redactor = Redactor::new(secret);
    let mut all = registry().write().unwrap_or_else(|e| e.into_inner());
    if !all.contains(&redactor) {
        all.push(redactor);
    }
}

/// `text` with every registered credential, in every form, replaced by
/// [`REDACTED`].
pub fn redact(text: &str) -> String {
    let all = registry().read().unwrap_or_else(|e| e.into_inner());
    all.iter().fold(text.to_string(), |text, r| r.redact(&text))
}

/// Percent-encodes every byte but the unreserved ones (RFC 3986).
fn percent_encode(value: &str, lower: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(TABLE[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "ghp_Secr3t/Value+With=Odd&Chars 42";

    #[test]
    fn base64_matches_the_standard_encoding() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn every_form_of_the_credential_is_replaced() {
        let r = Redactor::new(TOKEN);
        for user in ["", "a", "ab", "x-access-token", "rm@example.org", "bot"] {
            let basic = base64_encode(format!("{user}:{TOKEN}").as_bytes());
            let text = format!("400: {{\"echo\": \"Authorization: Basic {basic}\"}}");
            let out = r.redact(&text);
            assert_eq!(
                out, "400: {\"echo\": \"Authorization: Basic <redacted>\"}",
                "{user}"
            );
        }
        let raw = base64_encode(TOKEN.as_bytes());
        assert_eq!(r.redact(&format!("t={raw};")), "t=<redacted>;");
        for encoded in [
            percent_encode(TOKEN, false),
            percent_encode(TOKEN, true),
            percent_encode(TOKEN, false).replace("%20", "+"),
            TOKEN.to_string(),
        ] {
            let out = r.redact(&format!("GET /x?token={encoded}&a=1"));
            assert_eq!(out, "GET /x?token=<redacted>&a=1");
        }
        let urlsafe = raw.replace('+', "-").replace('/', "_");
        assert!(!r.redact(&urlsafe).contains(&urlsafe[4..20]));
        // Other text is left alone.
        assert_eq!(r.redact("nothing secret here"), "nothing secret here");
        assert_eq!(format!("{r:?}"), "Redactor(<redacted>)");
    }

    #[test]
    fn registered_credentials_are_redacted_everywhere() {
        register("xoxb-registered-9f8e7d6c");
        let basic = base64_encode(b"someone:xoxb-registered-9f8e7d6c");
        assert_eq!(
            redact(&format!("a xoxb-registered-9f8e7d6c b {basic} c")),
            "a <redacted> b <redacted> c"
        );
    }
}
