//! Progress of an apply: on a terminal, one indicatif line per step with a
//! spinner, the elapsed time and then its final state; elsewhere one plain
//! line per state change on standard error; nothing with `-q`.

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
                    ProgressStyle::with_template("{spinner} {prefix:40} {msg} [{elapsed}]")
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
        match &self.mode {
            Mode::Quiet => {}
            Mode::Lines => line(&format!("{id}: {mark} {text}")),
            Mode::Bars(multi) => {
                let bar = self
                    .bars
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(id);
                let bar = bar.unwrap_or_else(|| multi.add(ProgressBar::new_spinner()));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:.bold} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(format!("{mark} {id:40}"));
                bar.finish_with_message(format!("{text} [{:.1?}]", bar.elapsed()));
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

fn line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}
