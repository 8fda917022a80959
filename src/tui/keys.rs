//! The one key table: key → action. The help overlay renders this same table.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for, before the app decides what it means in its current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    RunCurrent,
    RunAll,
    Rerun,
    Up,
    Down,
    PageUp,
    PageDown,
    Remedy,
    Confirm,
    Cancel,
    Export,
    PasteUrl,
    Help,
    Quit,
}

/// The keys as the help overlay lists them.
pub const TABLE: &[(&str, &str, Action)] = &[
    (
        "Enter",
        "run the selected step (and what it needs), then move on",
        Action::RunCurrent,
    ),
    ("a", "run all remaining steps", Action::RunAll),
    (
        "r",
        "re-run the selected step (and the steps after it)",
        Action::Rerun,
    ),
    ("↑ / k", "select the previous step", Action::Up),
    ("↓ / j", "select the next step", Action::Down),
    (
        "PgUp / PgDn",
        "scroll the details or the policy",
        Action::PageDown,
    ),
    ("f", "open the remedy for the failures", Action::Remedy),
    ("y", "confirm (in a confirmation)", Action::Confirm),
    ("n / Esc", "cancel, close", Action::Cancel),
    ("e", "export the report as Markdown", Action::Export),
    (
        "u",
        "paste a presigned URL and read it (nothing is sent)",
        Action::PasteUrl,
    ),
    ("?", "show or hide this help", Action::Help),
    ("q / Ctrl-C", "quit", Action::Quit),
];

/// Maps a key press to an action.
pub fn action(key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c') | KeyCode::Char('d')).then_some(Action::Quit);
    }
    Some(match key.code {
        KeyCode::Enter => Action::RunCurrent,
        KeyCode::Char('a') => Action::RunAll,
        KeyCode::Char('r') => Action::Rerun,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
        KeyCode::Char('f') => Action::Remedy,
        KeyCode::Char('y') => Action::Confirm,
        KeyCode::Char('n') | KeyCode::Esc => Action::Cancel,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('u') => Action::PasteUrl,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_c_quits_and_plain_c_does_nothing() {
        assert_eq!(
            action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            action(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn vim_keys_and_arrows_agree() {
        let k = |c| action(KeyEvent::new(c, KeyModifiers::NONE));
        assert_eq!(k(KeyCode::Char('j')), k(KeyCode::Down));
        assert_eq!(k(KeyCode::Char('k')), k(KeyCode::Up));
    }
}
