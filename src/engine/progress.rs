//! Progress of an apply: on a terminal, one indicatif line per running step
//! with a spinner and the elapsed time, cut to the terminal's width; a step
//! that ends leaves the bars and is printed above them, as every note is,
//! so nothing printed during the apply can wipe a finished line (indicatif
//! redraws only the running bars). Elsewhere one plain line per state
//! change on standard error; nothing with `-q`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::plan::StepId;

enum Mode {
    Bars(MultiProgress),
    Lines,
    Quiet,
}

/// Where progress goes.
pub struct Progress {
    mode: Mode,
    bars: Mutex<HashMap<StepId, ProgressBar>>,
}

/// How a step ended, for its progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Finished.
    Done,
    /// Failed.
    Failed,
    /// Waiting on something else, or cancelled.
    Stopped,
}

impl Progress {
    /// Bars on a terminal, lines elsewhere, nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars(MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
        } else {
            Mode::Lines
        };
        Self {
            mode,
            bars: Mutex::default(),
        }
    }

    /// A step starts.
    pub fn start(&self, id: &StepId, title: &str) {
        let title = &crate::redact::redact(title);
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => line(&format!("{id}: started: {title}")),
            Mode::Bars(multi) => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix:40} [{elapsed}] {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(id.to_string());
                bar.set_message(title.to_string());
                bar.enable_steady_tick(Duration::from_millis(120));
                self.bars
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id.clone(), bar);
            }
        }
    }

    /// A step ends.
    pub fn end(&self, id: &StepId, ended: Ended, text: &str) {
        let text = &crate::redact::redact(text);
        let mark = match ended {
            Ended::Done => "✓",
            Ended::Failed => "✗",
            Ended::Stopped => "·",
        };
        let text = once(text);
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => line(&format!("{id}: {mark} {text}")),
            Mode::Bars(multi) => {
                let bar = self
                    .bars
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(id);
                let elapsed = match bar {
                    Some(bar) => {
                        let elapsed = format!(" [{:.1?}]", bar.elapsed());
                        bar.finish_and_clear();
                        multi.remove(&bar);
                        elapsed
                    }
                    None => String::new(),
                };
                let _ = multi.println(format!("{mark} {id:40} {text}{elapsed}"));
            }
        }
    }

    /// A note that is not about one step.
    pub fn note(&self, text: &str) {
        let text = &crate::redact::redact(text);
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => line(text),
            Mode::Bars(multi) => {
                let _ = multi.println(text);
            }
        }
    }
}

/// `text` without its first word when the second repeats it (`scheduled
/// scheduled Q1 …` is an action followed by an outcome that names it).
fn once(text: &str) -> &str {
    let mut words = text.splitn(3, ' ');
    match (words.next(), words.next()) {
        (Some(first), Some(second)) if first == second => text[first.len()..].trim_start(),
        _ => text,
    }
}

fn line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

#[cfg(test)]
mod tests {
    use super::once;

    #[test]
    fn an_action_the_outcome_repeats_is_said_once() {
        assert_eq!(once("scheduled scheduled Q1 in C1"), "scheduled Q1 in C1");
        assert_eq!(once("posted posted 1.2 in C1"), "posted 1.2 in C1");
        assert_eq!(once("created OSW-1"), "created OSW-1");
        assert_eq!(once("waiting"), "waiting");
    }
}
