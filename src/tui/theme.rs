//! How states look: a symbol for every state (for colour-blind users and `NO_COLOR`) and,
//! when colours are on, pass green, warn yellow, fail red.

use ratatui::style::{Color, Modifier, Style};

use crate::checks::Status;

/// The look of a checklist row's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowState {
    Pending,
    Running,
    Done(Status),
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

#[derive(Clone, Copy, Debug)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colours unless `NO_COLOR` is set (to anything non-empty).
    pub fn from_env() -> Self {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn symbol(state: RowState, tick: usize) -> &'static str {
        match state {
            RowState::Pending => "·",
            RowState::Running => SPINNER[tick % SPINNER.len()],
            RowState::Done(status) => status.symbol(),
        }
    }

    pub fn label(state: RowState) -> &'static str {
        match state {
            RowState::Pending => "pending",
            RowState::Running => "running",
            RowState::Done(s) => s.as_str(),
        }
    }

    pub fn style(&self, state: RowState) -> Style {
        if !self.color {
            return match state {
                RowState::Done(Status::Fail) => Style::new().add_modifier(Modifier::BOLD),
                _ => Style::new(),
            };
        }
        match state {
            RowState::Pending => Style::new().fg(Color::DarkGray),
            RowState::Running => Style::new().fg(Color::Cyan),
            RowState::Done(Status::Pass) => Style::new().fg(Color::Green),
            RowState::Done(Status::Warn) => Style::new().fg(Color::Yellow),
            RowState::Done(Status::Fail) => {
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
            }
            RowState::Done(Status::Skip) => Style::new().fg(Color::DarkGray),
        }
    }

    pub fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Rgb(40, 44, 52))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
}
