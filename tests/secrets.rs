//! Secrets stay with their service (issue 29): a token goes only to its
//! own service's origin, whatever a site file, a redirect or a template
//! says; templates read nothing outside the templates directory; and no
//! output, journal, plan file or cache holds a credential in any encoding,
//! even when every service echoes the request's headers in its errors.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::apply_world::{ApplyWorld, GITHUB_TOKEN};
use support::full_world::FullWorld;
use support::git_http::{GitHttpServer, base64};
use support::http_fake::{FakeServer, Reply, Request};
use support::run::{DirArg, cycle_command, texts};
use support::words;
use support::{confluence_fake, github_fake, jira_fake, root};

/// The shipped sites copied to `dir`, the summit's phalanx repository
/// cloned from `url`.
fn sites_with_url(dir: &Path, url: &str) -> PathBuf {
    let sites = dir.join("sites");
    std::fs::create_dir_all(&sites).unwrap();
    for name in ["bts.yaml", "summit.yaml", "tts.yaml"] {
        let text = std::fs::read_to_string(root().join("sites").join(name)).unwrap();
        let text = if name == "summit.yaml" {
            let from = "  - repo: lsst-sqre/phalanx\n";
            assert!(text.contains(from));
            text.replacen(from, &format!("{from}    url: {url}\n"), 1)
        } else {
            text
        };
        std::fs::write(sites.join(name), text).unwrap();
    }
    sites
}

#[test]
fn a_site_s_repository_on_another_loopback_port_never_gets_the_token() {
    let world = ApplyWorld::new();
    // Another listener on this machine, serving the same repository and
    // asking for credentials, as a site file in a pull request could name.
    let other = GitHttpServer::start(
        &world.tmp.path().join("remotes"),
        "x-access-token",
        GITHUB_TOKEN,
    );
    let url = other.url("lsst-sqre/phalanx.git");
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let sites = sites_with_url(world.tmp.path(), &url);
    let sites_dir = sites.display().to_string();
    let summit = [
        "--site",
        "summit",
        "--cycle",
        "44",
        "--sites-dir",
        &sites_dir,
    ];
    let runs: [Vec<&str>; 3] = [
        [
            &["prepare"][..],
            &summit,
            &["--only", "config", "--dry-run"],
        ]
        .concat(),
        [&["doctor"][..], &summit].concat(),
        [&["prepare"][..], &summit, &["--only", "config", "--yes"]].concat(),
    ];
    for args in runs {
        let out = world.run(&args);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}\n{stdout}\n{stderr}");
        let text = format!("{stdout}{stderr}");
        assert!(
            text.contains(&format!(
                "127.0.0.1:{port} refused access without credentials"
            )),
            "{args:?}: the refusal names the host\n{text}"
        );
        assert!(
            text.contains("GITHUB_TOKEN is only sent to the GitHub server of GITHUB_SERVER_URL"),
            "{text}"
        );
        assert!(!text.contains(GITHUB_TOKEN));
    }
    let asked = other.requests();
    assert!(!asked.is_empty(), "the other listener was asked");
    assert!(
        asked.iter().all(|r| r.authorization.is_none()),
        "{asked:#?}"
    );
    // The token's own server was never involved.
    assert!(world.git.requests().is_empty());
    // The same site without `url:` works with the token, on its server.
    let out = world.run(&words(
        "prepare --site summit --cycle 44 --only config --dry-run",
    ));
    let (stdout, stderr) = texts(&out);
    // Read with the token; the branch itself waits for the (unselected)
    // ticket, so applying now would write nothing: exit 0.
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("waiting for summit:jira (not selected)"),
        "{stdout}"
    );
    assert!(!world.git.requests().is_empty());
    assert!(world.git.requests().iter().all(|r| r.had_auth()));
}

/// A server that answers every request with a redirect to `to` (same
/// path), as a moved service would.
fn redirector(to: String) -> FakeServer {
    FakeServer::start(move |req: &Request| {
        let query = if req.query.is_empty() {
            String::new()
        } else {
            format!("?{}", req.query)
        };
        Reply::empty(307).header("location", &format!("{to}{}{query}", req.path))
    })
}

#[test]
fn a_redirect_to_another_origin_carries_no_jira_or_confluence_credential() {
    let world = FullWorld::new();
    let elsewhere =
        FakeServer::start(|_| Reply::json(404, serde_json::json!({"message": "nothing here"})));
    let jira = redirector(elsewhere.url());
    let confluence = redirector(elsewhere.url());
    let out = world
        .bare_command()
        .env("JIRA_URL", jira.url())
        .env("JIRA_USER", jira_fake::USER)
        .env("JIRA_API_TOKEN", jira_fake::TOKEN)
        .env("CONFLUENCE_URL", confluence.url())
        .env("CONFLUENCE_USER", confluence_fake::USER)
        .env("CONFLUENCE_API_TOKEN", confluence_fake::API_TOKEN)
        .env("CYCLE_RETRY_BASE_MS", "5")
        .args(["doctor", "--site", "summit", "--cycle", "44"])
        .output()
        .unwrap();
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The configured origins got the credentials, and redirected.
    for server in [&jira, &confluence] {
        let asked = server.requests();
        assert!(!asked.is_empty());
        assert!(asked.iter().all(|r| r.header("authorization").is_some()));
    }
    let followed = elsewhere.requests();
    assert!(!followed.is_empty(), "the redirects were followed");
    assert!(
        followed.iter().all(|r| r.header("authorization").is_none()),
        "{followed:#?}"
    );
}

/// Every form a credential takes in text: raw, HTTP Basic with its user
/// (and with the git transport's), bare base64, percent-encoded.
fn forms(secret: &str, users: &[&str]) -> Vec<String> {
    let mut out = vec![secret.to_string(), base64(secret.as_bytes())];
    for user in users.iter().chain(&["x-access-token"]) {
        out.push(base64(format!("{user}:{secret}").as_bytes()));
    }
    let encoded: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    out.push(encoded);
    out
}

/// A service that refuses every request with 400, echoing its headers and
/// its URL in the error, in the shapes Jira, Confluence, GitHub and Slack
/// use for their error text.
fn echo() -> FakeServer {
    FakeServer::start(|req: &Request| {
        let headers: Vec<String> = req
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect();
        let echoed = format!(
            "bad request {} {}?{} with {}",
            req.method,
            req.path,
            req.query,
            headers.join("; ")
        );
        Reply::json(
            400,
            serde_json::json!({
                "errorMessages": [echoed],
                "errors": {"summary": echoed},
                "message": echoed,
                "error": echoed,
                "ok": false,
            }),
        )
    })
}

#[test]
fn no_output_journal_or_plan_holds_a_credential_in_any_encoding() {
    let world = FullWorld::new();
    let (jira, confluence, slack, github) = (echo(), echo(), echo(), echo());
    let slack_token = world.slack.token();
    let secrets: Vec<(&str, &str)> = vec![
        (jira_fake::TOKEN, jira_fake::USER),
        (confluence_fake::API_TOKEN, confluence_fake::USER),
        (github_fake::TOKEN, "x-access-token"),
        (slack_token.as_str(), "slack"),
    ];
    let run = |args: &[&str]| -> Output {
        cycle_command(
            &world.dirs,
            &[
                DirArg::Cache,
                DirArg::State,
                DirArg::Releases,
                DirArg::Sites,
            ],
        )
        .env("XDG_CONFIG_HOME", world.dirs.path().join("xdg"))
        .env("GITHUB_SERVER_URL", world.dirs.remotes_url())
        .env("GITHUB_TOKEN", github_fake::TOKEN)
        .env("GITHUB_API_URL", github.url())
        .env("JIRA_URL", jira.url())
        .env("JIRA_USER", jira_fake::USER)
        .env("JIRA_API_TOKEN", jira_fake::TOKEN)
        .env("CONFLUENCE_URL", confluence.url())
        .env("CONFLUENCE_USER", confluence_fake::USER)
        .env("CONFLUENCE_API_TOKEN", confluence_fake::API_TOKEN)
        .env("SLACK_BOT_TOKEN", &slack_token)
        .env("SLACK_API_URL", slack.url())
        .env("CYCLE_CONDA_API_URL", jira.url())
        .env("CYCLE_RETRY_BASE_MS", "1")
        .env("GIT_AUTHOR_NAME", "Release Manager")
        .env("GIT_AUTHOR_EMAIL", "rm@example.org")
        .args(args)
        .output()
        .unwrap()
    };
    let mut texts_seen = Vec::new();
    for args in [
        vec!["doctor", "--all", "--cycle", "44"],
        vec!["doctor", "--all", "--cycle", "44", "--json"],
        words("prepare --all --cycle 44 --dry-run --no-check"),
        words("prepare --all --cycle 44 --dry-run --format markdown"),
        vec!["prepare", "--all", "--cycle", "44", "--dry-run", "--json"],
        vec!["prepare", "--all", "--cycle", "44", "--yes", "--no-check"],
        vec!["check", "--cycle", "44"],
    ] {
        let out = run(&args);
        let (stdout, stderr) = texts(&out);
        assert_ne!(
            out.status.code(),
            Some(0),
            "{args:?}: every service refuses\n{stdout}\n{stderr}"
        );
        texts_seen.push((args.join(" "), format!("{stdout}\n{stderr}")));
    }
    // The services did get the credentials (and echoed them back).
    let echoed = jira.requests();
    assert!(echoed.iter().any(|r| r.header("authorization").is_some()));
    let files =
        support::files_below(&[&world.dirs.state(), &world.dirs.cache(), world.dirs.path()]);
    for (secret, user) in &secrets {
        for form in forms(secret, &[user]) {
            for (args, text) in &texts_seen {
                assert!(
                    !text.contains(&form),
                    "`{args}` printed a form of a credential:\n{text}"
                );
            }
            for (path, bytes) in &files {
                let text = String::from_utf8_lossy(bytes);
                assert!(
                    !text.contains(&form),
                    "a form of a credential in {}",
                    path.display()
                );
            }
        }
    }
    // The errors were shown, redacted.
    assert!(
        texts_seen.iter().any(|(_, t)| t.contains("<redacted>")),
        "{texts_seen:#?}"
    );
}

/// A way a template could reach outside its directory: its name, how the
/// templates directory is changed, what the error must name.
type Case = (&'static str, fn(&Path), &'static str);

#[test]
fn a_template_cannot_read_a_file_outside_the_templates_directory() {
    let world = FullWorld::new();
    let outside = world.dirs.path().join("outside.txt");
    std::fs::write(&outside, "OUTSIDE-FILE-CONTENT-4711\n").unwrap();
    let cases: [Case; 2] = [
        (
            "symbolic link",
            |dir: &Path| {
                let target = dir.join("jira_summary.txt");
                std::fs::remove_file(&target).unwrap();
                std::os::unix::fs::symlink(dir.parent().unwrap().join("outside.txt"), &target)
                    .unwrap();
            },
            "jira_summary.txt",
        ),
        (
            "include",
            |dir: &Path| {
                std::fs::write(
                    dir.join("jira_summary.txt"),
                    "{% include \"../outside.txt\" %}\n",
                )
                .unwrap();
            },
            "jira_summary.txt:1",
        ),
    ];
    for (what, make, named) in cases {
        let templates = world.dirs.path().join("templates");
        let _ = std::fs::remove_dir_all(&templates);
        std::fs::create_dir_all(&templates).unwrap();
        for entry in std::fs::read_dir(root().join("templates")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
        }
        make(&templates);
        for args in [
            words("prepare --site summit --cycle 44 --dry-run --offline"),
            words("render jira_summary.txt --site summit --cycle 44"),
        ] {
            let out = cycle_command(
                &world.dirs,
                &[
                    DirArg::Cache,
                    DirArg::State,
                    DirArg::Releases,
                    DirArg::Sites,
                ],
            )
            .arg("--templates-dir")
            .arg(&templates)
            .args(&args)
            .output()
            .unwrap();
            let (stdout, stderr) = texts(&out);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{what} {args:?}\n{stdout}\n{stderr}"
            );
            assert!(
                stderr.contains(named),
                "{what}: names the template\n{stderr}"
            );
            assert!(
                !stdout.contains("OUTSIDE-FILE") && !stderr.contains("OUTSIDE-FILE"),
                "{what}: {stdout}\n{stderr}"
            );
        }
    }
}

/// The echoed error of [`echo`] for the requests `echoes` picks; every
/// other request forwarded to the real fake at `target`.
fn echo_some(target: String, echoes: fn(&Request) -> bool) -> FakeServer {
    let echo = echo();
    let echo_url = echo.url();
    let client = reqwest::blocking::Client::new();
    FakeServer::start(move |req: &Request| {
        let _keep = &echo;
        let to = if echoes(req) { &echo_url } else { &target };
        let query = if req.query.is_empty() {
            String::new()
        } else {
            format!("?{}", req.query)
        };
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).unwrap();
        let mut request = client.request(method, format!("{to}{}{query}", req.path));
        for (name, value) in &req.headers {
            if name != "host" && name != "content-length" {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        let answer = request.body(req.body.clone()).send().unwrap();
        let status = answer.status().as_u16();
        let headers: Vec<(String, String)> = answer
            .headers()
            .iter()
            .filter(|(n, _)| {
                !matches!(
                    n.as_str(),
                    "content-length" | "transfer-encoding" | "connection"
                )
            })
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        Reply::Respond {
            status,
            headers,
            body: answer.text().unwrap(),
        }
    })
}

#[test]
fn an_echoed_credential_reaches_neither_the_plan_file_nor_the_journal() {
    let world = FullWorld::new();
    let searches = echo_some(world.jira.url(), |r| r.path.ends_with("/search/jql"));
    let creates = echo_some(world.jira.url(), |r| {
        r.method == "POST" && r.path.ends_with("/issue")
    });
    let plan_file = world.dirs.path().join("plan.json");
    let plan_arg = plan_file.display().to_string();
    let run = |jira: &FakeServer, args: &[&str]| -> Output {
        let out = world
            .bare_command()
            .env("JIRA_URL", jira.url())
            .env("JIRA_USER", jira_fake::USER)
            .env("JIRA_API_TOKEN", jira_fake::TOKEN)
            .env("CYCLE_RETRY_BASE_MS", "1")
            .args(args)
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        for form in forms(jira_fake::TOKEN, &[jira_fake::USER]) {
            assert!(
                !stdout.contains(&form) && !stderr.contains(&form),
                "{args:?}\n{stdout}\n{stderr}"
            );
        }
        out
    };
    // A dry run whose ticket search is refused, echoing the credential:
    // the plan is shown (the error in the step's notes) and saved.
    let out = run(
        &searches,
        &[
            "prepare",
            "--site",
            "summit",
            "--cycle",
            "44",
            "--only",
            "jira",
            "--dry-run",
            "--out",
            &plan_arg,
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert!(
        stderr.contains("<redacted>") || stdout.contains("<redacted>"),
        "{stdout}\n{stderr}"
    );
    assert!(plan_file.exists(), "no plan saved\n{stdout}\n{stderr}");
    // An apply whose ticket creation is refused, echoing it: the journal
    // records the (redacted) error.
    let out = run(
        &creates,
        &[
            "prepare", "--site", "summit", "--cycle", "44", "--only", "jira", "--yes",
        ],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("<redacted>") || stdout.contains("<redacted>"),
        "{stdout}\n{stderr}"
    );
    let journal = world.dirs.state().join("journal/c0044.000.json");
    let journal = std::fs::read_to_string(&journal).unwrap();
    assert!(journal.contains("<redacted>"), "{journal}");
    let files =
        support::files_below(&[&world.dirs.state(), &world.dirs.cache(), world.dirs.path()]);
    for form in forms(jira_fake::TOKEN, &[jira_fake::USER]) {
        for (path, bytes) in &files {
            assert!(
                !String::from_utf8_lossy(bytes).contains(&form),
                "a form of the Jira token in {}",
                path.display()
            );
        }
    }
}
