//! The `cycle` binary: parse the command line, run the command, map the
//! result to an exit code (0 done/no changes, 1 error or unfinished steps,
//! 2 changes pending, 64 usage error, 130 interrupted).

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use cycle::cli::{Cli, Command};
use cycle::commands::{self, Ctx, Outcome};

const EXIT_ERROR: u8 = 1;
const EXIT_PENDING: u8 = 2;
const EXIT_USAGE: u8 = 64;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(&cli) {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Pending) => ExitCode::from(EXIT_PENDING),
        Ok(Outcome::Unfinished) => ExitCode::from(EXIT_ERROR),
        Ok(Outcome::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<commands::UsageError>().is_some() => {
            eprintln!("error: {}", cycle::redact::redact(&chain_text(&e)));
            ExitCode::from(EXIT_USAGE)
        }
        Err(e) => {
            eprintln!("error: {}", cycle::redact::redact(&chain_text(&e)));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let ctx = || Ctx::new(&cli.global);
    match &cli.command {
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "cycle", &mut out);
            print_bytes(&out)
        }
        Command::Man { command } => {
            let mut page = Cli::command();
            let mut name = "cycle".to_string();
            for word in command {
                let Some(sub) = page.find_subcommand(word).cloned() else {
                    let known: Vec<String> = page
                        .get_subcommands()
                        .map(|c| c.get_name().to_string())
                        .collect();
                    anyhow::bail!(
                        "no man page {name}-{word}: the commands of {name} are {}",
                        known.join(", ")
                    );
                };
                name = format!("{name}-{}", sub.get_name());
                page = sub.name(name.clone()).version(env!("CARGO_PKG_VERSION"));
            }
            let mut out = Vec::new();
            clap_mangen::Man::new(page).render(&mut out)?;
            print_bytes(&out)
        }
        Command::Sites(cmd) => commands::sites::run(&ctx()?, cmd),
        Command::Prepare(args) => commands::prepare::run(&ctx()?, args),
        Command::Doctor(args) => commands::doctor::run(&ctx()?, args),
        Command::Apply(args) => commands::prepare::apply_saved(&ctx()?, args),
        Command::Config(args) => commands::config::run(&ctx()?, args),
        Command::Render(args) => commands::render::run(&ctx()?, args),
        Command::Status(args) => commands::status::run(&ctx()?, args),
        Command::Mark(args) => commands::mark::run(&ctx()?, args),
        Command::Cancel(args) => commands::cancel::run(&ctx()?, args),
        Command::Announce(args) => commands::announce::run(&ctx()?, args),
        Command::Check(args) => commands::check::run(&ctx()?, args),
        Command::New(args) => commands::new::run(&ctx()?, args),
        Command::Revert(args) => commands::revert::run(&ctx()?, args),
    }
}

/// The error and its causes on one line, joined with `: `; a cause whose
/// text the message already quotes is not repeated (`… Not a directory (os
/// error 20)`, once).
fn chain_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
    }
    text
}

fn print_bytes(bytes: &[u8]) -> anyhow::Result<Outcome> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(Outcome::Clean)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
