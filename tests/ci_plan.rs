//! CI dry runs: `--comment-on-pr` keeps one PR comment, and the shipped
//! workflow (`examples/github-actions/cycle-plan.yml`) run as a runner runs
//! it: each `run:` step's script in bash with the variables a runner sets
//! (`GITHUB_STEP_SUMMARY` and `GITHUB_ENV` temporary files), against every
//! service's fake (`tests/support/full_world.rs`).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::conda_fake::CondaFake;
use support::full_world::FullWorld;
use support::github_fake::{self, FakePull};
use support::run::texts;
use support::{confluence_fake, jira_fake, root};

/// The repository where the release managers keep their files.
const CONFIG_REPO: &str = "rubin/cycle-config";
const MARKER: &str = "<!-- cycle:plan -->";

fn pr(world: &FullWorld) -> u64 {
    world.github.add_pull(FakePull::open(
        CONFIG_REPO,
        "tickets/OSW-77",
        "main",
        "Cycle 44: summit settings",
        "",
    ))
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=RM", "-c", "user.email=rm@example.org"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn comment_on_pr_keeps_one_comment_and_updates_it_in_place() {
    let world = FullWorld::new();
    let number = pr(&world);
    world
        .github
        .add_comment(CONFIG_REPO, number, "someone", "Looks good to me.");
    let args = [
        "prepare",
        "--site",
        "summit",
        "--cycle",
        "44",
        "--dry-run",
        "--comment-on-pr",
        &number.to_string(),
        "--comment-repo",
        CONFIG_REPO,
    ];
    let args: Vec<&str> = args.to_vec();
    let run = |world: &FullWorld| {
        world.github.clear();
        let out = world.run(&args);
        let (stdout, stderr) = texts(&out);
        assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
        let writes: Vec<String> = world
            .github
            .writes()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        (stderr, writes)
    };
    let ours = |world: &FullWorld| -> Vec<github_fake::FakeComment> {
        world
            .github
            .comments()
            .into_iter()
            .filter(|c| c.body.contains(MARKER))
            .collect()
    };

    let (stderr, writes) = run(&world);
    assert_eq!(
        writes,
        [format!(
            "POST /repos/{CONFIG_REPO}/issues/{number}/comments"
        )]
    );
    assert!(
        stderr.contains(&format!("plan comment on {CONFIG_REPO}#{number} added")),
        "{stderr}"
    );
    let first = ours(&world);
    assert_eq!(first.len(), 1);
    assert!(first[0].body.starts_with(MARKER));
    assert!(
        first[0]
            .body
            .contains("### `cycle` plan: Cycle 44 (c0044.000)")
    );
    assert!(first[0].body.contains("<b>Summit</b>"));

    // The same plan: nothing written.
    let (stderr, writes) = run(&world);
    assert_eq!(writes, Vec::<String>::new());
    assert!(stderr.contains("unchanged"), "{stderr}");

    // A changed plan: the same comment, rewritten.
    world.edit_site(
        "summit",
        "display_name: Summit",
        "display_name: Summit on Cerro Pachón",
    );
    let (stderr, writes) = run(&world);
    assert_eq!(
        writes,
        [format!(
            "PATCH /repos/{CONFIG_REPO}/issues/comments/{}",
            first[0].id
        )]
    );
    assert!(stderr.contains("updated"), "{stderr}");
    let now = ours(&world);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].id, first[0].id);
    assert!(
        now[0].body.contains("<b>Summit on Cerro Pachón</b>"),
        "{}",
        now[0].body
    );
    // The person's comment is untouched.
    assert_eq!(world.github.comments().len(), 2);
}

/// The release managers' repository: `main` with the shipped sites,
/// templates and the world's manifest, then the PR's commit changing the
/// summit. Returns its work tree and the base commit.
fn config_checkout(world: &FullWorld) -> (PathBuf, String) {
    let work = world.dirs.path().join("workspace");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    copy_dir(&world.dirs.sites(), &work.join("sites"));
    copy_dir(&world.dirs.releases(), &work.join("releases"));
    copy_dir(&root().join("templates"), &work.join("templates"));
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "Cycle 44"]);
    let base = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["checkout", "-q", "-b", "tickets/OSW-77"]);
    edit(&work.join("sites/summit.yaml"), "hours: 8", "hours: 9");
    git(&work, &["commit", "-qam", "Summit: a longer window"]);
    (work, base)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// How the pull request's run is made: the token Actions gives it and
/// where its branch lives.
struct Trigger {
    /// `secrets.GITHUB_TOKEN`: an installation token.
    token: &'static str,
    /// `github.event.pull_request.head.repo.full_name`.
    head_repo: &'static str,
    /// Whether the repository's secrets are given (not to a fork's run).
    secrets: bool,
}

/// A pull request from a branch of the repository itself.
const SAME_REPO: Trigger = Trigger {
    token: github_fake::INSTALLATION_TOKEN,
    head_repo: CONFIG_REPO,
    secrets: true,
};

/// A pull request from a fork: no secrets, a read-only token.
const FORK: Trigger = Trigger {
    token: github_fake::READ_ONLY_TOKEN,
    head_repo: "someone/cycle-config",
    secrets: false,
};

/// What one run of the workflow left.
struct WorkflowRun {
    /// The job summary.
    summary: String,
    /// The names of the steps whose `run:` ran.
    ran: Vec<String>,
    /// Their standard output, all steps together.
    stdout: String,
}

/// Whether a step's `if:` holds, for the conditions the workflow uses:
/// `steps.ID.outputs.KEY == 'V'` or `!= 'V'`, joined by `&&`.
fn condition(expr: &str, outputs: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    let expr = expr.trim();
    let expr = expr
        .strip_prefix("${{")
        .and_then(|e| e.strip_suffix("}}"))
        .unwrap_or(expr);
    expr.split("&&").all(|clause| {
        let clause = clause.trim();
        let (left, equal, right) = if let Some((l, r)) = clause.split_once("==") {
            (l, true, r)
        } else if let Some((l, r)) = clause.split_once("!=") {
            (l, false, r)
        } else {
            panic!("the test cannot evaluate `if: {expr}`")
        };
        let path: Vec<&str> = left.trim().split('.').collect();
        let ["steps", id, "outputs", key] = path.as_slice() else {
            panic!("the test cannot evaluate `{left}`")
        };
        let value = outputs
            .get(*id)
            .and_then(|o| o.get(*key))
            .cloned()
            .unwrap_or_default();
        let wanted = right.trim().trim_matches('\'');
        (value == wanted) == equal
    })
}

/// Runs the workflow's `plan` job as a runner does: each step's `if:`
/// evaluated, each `run:` in `bash --noprofile --norc -eo pipefail` with
/// the job's `env:` and the step's own (expressions evaluated: secrets and
/// variables as the repository would give them), `GITHUB_ENV` carried to
/// later steps and `GITHUB_OUTPUT` read into the step's outputs. `uses:`
/// steps (checkout, cache) are done by the test: the work tree is checked
/// out and the cache is empty.
fn run_workflow(
    world: &FullWorld,
    work: &Path,
    base: &str,
    number: u64,
    trigger: &Trigger,
) -> WorkflowRun {
    let workflow: yaml_serde::Value = yaml_serde::from_str(
        &std::fs::read_to_string(root().join("examples/github-actions/cycle-plan.yml")).unwrap(),
    )
    .unwrap();
    let job = &workflow["jobs"]["plan"];
    let runner = world.dirs.path().join("runner");
    std::fs::create_dir_all(&runner).unwrap();
    let summary = runner.join("summary.md");
    let github_env = runner.join("env");
    let github_output = runner.join("output");
    std::fs::write(&summary, "").unwrap();
    std::fs::write(&github_env, "").unwrap();
    // What the expressions evaluate to here.
    let conda = CondaFake::start();
    let slack = world.slack.token();
    let secret = |value: String| {
        if trigger.secrets {
            value
        } else {
            String::new()
        }
    };
    let evaluated: BTreeMap<&str, String> = [
        ("PR_NUMBER", number.to_string()),
        ("BASE_SHA", base.to_string()),
        ("HEAD_REPO", trigger.head_repo.to_string()),
        // Not set: the binary is on PATH, so nothing is built.
        ("CYCLE_REPOSITORY", String::new()),
        ("CYCLE_VERSION", "0.1.0".to_string()),
        ("GITHUB_TOKEN", trigger.token.to_string()),
        ("JIRA_URL", world.jira.url()),
        ("JIRA_USER", secret(jira_fake::USER.to_string())),
        ("JIRA_API_TOKEN", secret(jira_fake::TOKEN.to_string())),
        ("CONFLUENCE_URL", world.confluence.url()),
        ("CONFLUENCE_USER", secret(confluence_fake::USER.to_string())),
        (
            "CONFLUENCE_API_TOKEN",
            secret(confluence_fake::API_TOKEN.to_string()),
        ),
        ("SLACK_BOT_TOKEN", secret(slack.clone())),
        ("SLACK_API_URL", world.slack.url()),
        ("CYCLE_CONDA_API_URL", conda.url()),
    ]
    .into_iter()
    .collect();
    let env_of = |map: &yaml_serde::Value| -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        let Some(map) = map.as_mapping() else {
            return env;
        };
        for (key, value) in map {
            let key = key.as_str().unwrap();
            let value = match value.as_str() {
                Some(v) if v.contains("${{") => evaluated
                    .get(key)
                    .unwrap_or_else(|| panic!("the test knows no value of {key}"))
                    .clone(),
                Some(v) => v.to_string(),
                None => panic!("{key}"),
            };
            env.insert(key.to_string(), value);
        }
        env
    };
    let mut env = env_of(&job["env"]);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_cycle"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // What a runner sets.
    for (key, value) in [
        ("PATH", path),
        ("HOME", world.dirs.path().display().to_string()),
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_EVENT_NAME", "pull_request".into()),
        ("GITHUB_REPOSITORY", CONFIG_REPO.into()),
        ("GITHUB_BASE_REF", "main".into()),
        ("GITHUB_HEAD_REF", "tickets/OSW-77".into()),
        ("GITHUB_WORKSPACE", work.display().to_string()),
        ("GITHUB_API_URL", world.github.url()),
        ("GITHUB_SERVER_URL", world.dirs.remotes_url()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("GITHUB_ENV", github_env.display().to_string()),
        ("GITHUB_OUTPUT", github_output.display().to_string()),
        ("CYCLE_RETRY_BASE_MS", "5".into()),
    ] {
        env.insert(key.to_string(), value);
    }
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut ran = Vec::new();
    let mut all_stdout = String::new();
    for step in job["steps"].as_sequence().unwrap() {
        if let Some(expr) = step["if"].as_str()
            && !condition(expr, &outputs)
        {
            continue;
        }
        let Some(script) = step["run"].as_str() else {
            continue;
        };
        std::fs::write(&github_output, "").unwrap();
        let mut step_env = env.clone();
        step_env.extend(env_of(&step["env"]));
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(work)
            .env_clear()
            .envs(&step_env)
            .output()
            .unwrap();
        let (stdout, stderr) = texts(&out);
        for secret in [
            github_fake::TOKEN,
            github_fake::INSTALLATION_TOKEN,
            jira_fake::TOKEN,
            confluence_fake::API_TOKEN,
            slack.as_str(),
        ] {
            assert!(!stdout.contains(secret) && !stderr.contains(secret));
        }
        let name = step["name"].as_str().unwrap_or_default().to_string();
        assert!(
            out.status.success(),
            "step {name:?} failed:\n{stdout}\n{stderr}\n{}",
            std::fs::read_to_string(&summary).unwrap_or_default()
        );
        all_stdout.push_str(&stdout);
        ran.push(name);
        for line in std::fs::read_to_string(&github_env).unwrap().lines() {
            if let Some((k, v)) = line.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            }
        }
        if let Some(id) = step["id"].as_str() {
            let found = outputs.entry(id.to_string()).or_default();
            for line in std::fs::read_to_string(&github_output).unwrap().lines() {
                if let Some((k, v)) = line.split_once('=') {
                    found.insert(k.to_string(), v.to_string());
                }
            }
        }
    }
    WorkflowRun {
        summary: std::fs::read_to_string(summary).unwrap(),
        ran,
        stdout: all_stdout,
    }
}

#[test]
fn the_shipped_workflow_summarises_the_plan_and_keeps_one_comment_over_two_runs() {
    let world = FullWorld::new();
    let number = pr(&world);
    let (work, base) = config_checkout(&world);
    // A person's comment quoting the marker: never taken for ours.
    let quoted = format!("Why does the bot's comment start with `{MARKER}`?\n{MARKER}");
    let person = world
        .github
        .add_comment(CONFIG_REPO, number, "rbovill", &quoted);

    let run = run_workflow(&world, &work, &base, number, &SAME_REPO);
    assert_eq!(
        run.ran,
        [
            "Skip pull requests from forks",
            "Install cycle",
            "Choose the sites",
            "Plan"
        ]
    );
    let summary = run.summary;
    assert!(
        summary.contains("### `cycle` plan: Cycle 44 (c0044.000)"),
        "{summary}"
    );
    assert!(
        summary.contains("across 1 site."),
        "only the summit changed: {summary}"
    );
    assert!(summary.contains("<b>Summit</b>"), "{summary}");
    // cycle check's findings are in the plan, folded and capped.
    assert!(
        summary.contains("#### Pre-flight findings (cycle check)\n\n<details><summary>"),
        "{summary}"
    );
    assert!(summary.contains("#### Pre-flight checks"));
    assert!(
        summary.contains("an installation token"),
        "GET /user is a note, not a failure: {summary}"
    );
    let ours = |world: &FullWorld| -> Vec<github_fake::FakeComment> {
        world
            .github
            .comments()
            .into_iter()
            .filter(|c| c.id != person)
            .collect()
    };
    let comments = ours(&world);
    assert_eq!(comments.len(), 1, "{comments:?}");
    let first = comments[0].clone();
    assert!(first.body.starts_with(MARKER));
    assert_eq!(first.author, github_fake::ACTIONS_BOT);

    // A second push, now also changing the base test stand: the same
    // comment, updated to cover both sites.
    edit(
        &work.join("sites/bts.yaml"),
        "assignee: mreuter",
        "assignee: rbovill",
    );
    git(&work, &["commit", "-qam", "BTS: another assignee"]);
    world.github.clear();
    let summary = run_workflow(&world, &work, &base, number, &SAME_REPO).summary;
    assert!(summary.contains("across 2 sites."), "{summary}");
    let comments = ours(&world);
    assert_eq!(comments.len(), 1, "{comments:?}");
    assert_eq!(comments[0].id, first.id);
    assert!(comments[0].body.contains("<b>Base Test Stand</b>"));
    let writes: Vec<String> = world
        .github
        .writes()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [format!(
            "PATCH /repos/{CONFIG_REPO}/issues/comments/{}",
            first.id
        )]
    );
    // The person's comment is as they wrote it.
    let theirs = world
        .github
        .comments()
        .into_iter()
        .find(|c| c.id == person)
        .unwrap();
    assert_eq!(theirs.body, quoted);
}

#[test]
fn a_pull_request_from_a_fork_is_skipped_with_a_notice() {
    let world = FullWorld::new();
    let number = pr(&world);
    let (work, base) = config_checkout(&world);
    world.github.clear();

    let run = run_workflow(&world, &work, &base, number, &FORK);
    assert_eq!(run.ran, ["Skip pull requests from forks"]);
    assert!(
        run.stdout
            .contains("::notice::cycle plan skipped: this pull request comes from someone/cycle-config, a fork"),
        "{}",
        run.stdout
    );
    assert_eq!(run.summary, "");
    assert!(world.github.requests().is_empty());
    assert!(world.github.comments().is_empty());
}
