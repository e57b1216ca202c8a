//! Version equality as Python's `packaging.version.Version` defines it
//! (PEP 440), the semantics of the old helper scripts: `v0.17.0-alpha.1`,
//! `0.17.0-alpha.1` and `0.17.0a1` are one version, and so are `1.2` and
//! `1.2.0`. Both sides of a comparison are normalised.

/// A parsed PEP 440 version.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pep440 {
    epoch: u64,
    /// The release numbers without trailing zeros (`1.2.0` is `[1, 2]`).
    release: Vec<u64>,
    /// `a`, `b` or `rc`, and its number.
    pre: Option<(&'static str, u64)>,
    post: Option<u64>,
    dev: Option<u64>,
    /// The local label, lowercase, `.`-separated.
    local: Option<String>,
}

/// A cursor over the lowercase text of a version.
struct Cursor<'a> {
    text: &'a str,
}

impl Cursor<'_> {
    fn eat(&mut self, prefix: &str) -> bool {
        match self.text.strip_prefix(prefix) {
            Some(rest) => {
                self.text = rest;
                true
            }
            None => false,
        }
    }

    fn separator(&mut self) -> bool {
        self.eat("-") || self.eat("_") || self.eat(".")
    }

    fn number(&mut self) -> Option<u64> {
        let digits = self.text.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let (n, rest) = self.text.split_at(digits);
        self.text = rest;
        n.parse().ok()
    }

    /// An optional separator then a word of `words`, as its normal form.
    fn label(&mut self, words: &[(&str, &'static str)]) -> Option<&'static str> {
        let before = self.text;
        self.separator();
        for (word, normal) in words {
            if self.eat(word) {
                return Some(normal);
            }
        }
        self.text = before;
        None
    }

    /// An optional separator then a number (0 when none).
    fn label_number(&mut self) -> u64 {
        let before = self.text;
        self.separator();
        match self.number() {
            Some(n) => n,
            None => {
                self.text = before;
                0
            }
        }
    }
}

/// Pre-release words, longest first, and their normal form.
const PRE: [(&str, &str); 7] = [
    ("alpha", "a"),
    ("beta", "b"),
    ("preview", "rc"),
    ("pre", "rc"),
    ("rc", "rc"),
    ("a", "a"),
    ("b", "b"),
];

fn parse(version: &str) -> Option<Pep440> {
    let lower = version.trim().to_ascii_lowercase();
    let mut c = Cursor { text: &lower };
    c.eat("v");
    let first = c.number()?;
    let epoch = if c.eat("!") { Some(first) } else { None };
    let mut release = vec![match epoch {
        Some(_) => c.number()?,
        None => first,
    }];
    loop {
        let before = c.text;
        if c.eat(".")
            && let Some(n) = c.number()
        {
            release.push(n);
            continue;
        }
        c.text = before;
        break;
    }
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let pre = c
        .label(&PRE)
        .or_else(|| c.label(&[("c", "rc")]))
        .map(|kind| (kind, c.label_number()));
    let post = {
        let before = c.text;
        if c.eat("-")
            && let Some(n) = c.number()
        {
            Some(n)
        } else {
            c.text = before;
            c.label(&[("post", "post"), ("rev", "post"), ("r", "post")])
                .map(|_| c.label_number())
        }
    };
    let dev = c.label(&[("dev", "dev")]).map(|_| c.label_number());
    let local = if c.eat("+") {
        let parts: Vec<&str> = c.text.split(['-', '_', '.']).collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return None;
        }
        c.text = "";
        Some(parts.join("."))
    } else {
        None
    };
    if !c.text.is_empty() {
        return None;
    }
    Some(Pep440 {
        epoch: epoch.unwrap_or(0),
        release,
        pre,
        post,
        dev,
        local,
    })
}

/// Whether `a` and `b` are the same version as `packaging.version.Version`
/// compares them; versions that are not PEP 440 are equal when their texts
/// are, after a leading `v`.
pub fn same(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim().trim_start_matches('v') == b.trim().trim_start_matches('v'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_form_and_normal_form_are_one_version() {
        for (a, b) in [
            ("0.17.0-alpha.1", "v0.17.0-alpha.1"),
            ("0.17.0-alpha.1", "0.17.0a1"),
            ("v0.5.3-alpha.1", "0.5.3a1"),
            ("v1.11.3.a.1", "1.11.3a1"),
            ("v2.0.0-beta.2", "2.0.0b2"),
            ("2.0.0-rc.1", "2.0.0rc1"),
            ("3.4.3.rc.1", "3.4.3rc1"),
            ("1.2", "1.2.0"),
            ("v1.2.3", "1.2.3"),
            ("1.0.post1", "1.0-1"),
            ("1.0.dev0", "1.0dev"),
            ("1.0c1", "1.0rc1"),
            ("1.0+Ubuntu.1", "1.0+ubuntu-1"),
        ] {
            assert!(same(a, b), "{a} == {b}");
        }
    }

    #[test]
    fn different_versions_differ() {
        for (a, b) in [
            ("0.17.0-alpha.1", "0.17.0"),
            ("0.17.0a1", "0.17.0b1"),
            ("1.2.3", "1.2.30"),
            ("1.0", "1.0.post1"),
            ("1.0+local", "1.0"),
            ("weird-1", "weird-2"),
        ] {
            assert!(!same(a, b), "{a} != {b}");
        }
        assert!(same("weird-1", "weird-1"));
    }
}
