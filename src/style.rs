//! Terminal colours, decided once from `--color`, `NO_COLOR` and whether
//! standard output is a terminal.

use std::io::IsTerminal;

/// `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Paints text when colour is on.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Resolves the choice against the environment.
    pub fn new(choice: ColorChoice) -> Self {
        let enabled = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Self { enabled }
    }

    /// Plain output (tests, JSON).
    pub fn plain() -> Self {
        Self { enabled: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Bold.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Green (additions, creations).
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }

    /// Yellow (updates).
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }

    /// Red (removals).
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }

    /// Dim (notes, unchanged).
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Cyan (diff hunk headers).
    pub fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }
}
