//! The one key table of the wizard's main screen: which keys do what. Key handling
//! (`action`), the help overlay (`help`) and the footer (`footer`) all read this table, so a
//! key cannot do one thing and be documented as another.

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

/// A key as the table names it: a plain key, or Ctrl and a letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Code(KeyCode),
    Ctrl(char),
}

impl Key {
    fn matches(self, event: KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        match self {
            Key::Ctrl(c) => ctrl && event.code == KeyCode::Char(c),
            Key::Code(code) => !ctrl && event.code == code,
        }
    }
}

/// One row of the help overlay: the keys as shown, what they do, the footer's word for them
/// (if the footer names them), and every key of the row with its action.
#[derive(Debug)]
pub struct Row {
    pub label: &'static str,
    pub help: &'static str,
    pub footer: Option<&'static str>,
    pub keys: &'static [(Key, Action)],
}

use Action as A;
use Key::{Code, Ctrl};
use KeyCode::Char;

/// The key table, in the order the help overlay lists it and the footer names it.
pub const TABLE: &[Row] = &[
    Row {
        label: "Enter",
        help: "run the selected step (and what it needs), then move on",
        footer: Some("run"),
        keys: &[(Code(KeyCode::Enter), A::RunCurrent)],
    },
    Row {
        label: "a",
        help: "run all remaining steps",
        footer: Some("all"),
        keys: &[(Code(Char('a')), A::RunAll)],
    },
    Row {
        label: "r",
        help: "re-run the selected step (and the steps after it)",
        footer: Some("rerun"),
        keys: &[(Code(Char('r')), A::Rerun)],
    },
    Row {
        label: "↑ / k",
        help: "select the previous step",
        footer: None,
        keys: &[(Code(KeyCode::Up), A::Up), (Code(Char('k')), A::Up)],
    },
    Row {
        label: "↓ / j",
        help: "select the next step",
        footer: None,
        keys: &[(Code(KeyCode::Down), A::Down), (Code(Char('j')), A::Down)],
    },
    Row {
        label: "PgUp / PgDn",
        help: "scroll the details or the policy",
        footer: None,
        keys: &[
            (Code(KeyCode::PageUp), A::PageUp),
            (Code(KeyCode::PageDown), A::PageDown),
            (Code(Char(' ')), A::PageDown),
        ],
    },
    Row {
        label: "f",
        help: "open the remedy, once the run has finished",
        footer: Some("fix"),
        keys: &[(Code(Char('f')), A::Remedy)],
    },
    Row {
        label: "y",
        help: "confirm (in a confirmation)",
        footer: None,
        keys: &[(Code(Char('y')), A::Confirm)],
    },
    Row {
        label: "n / Esc",
        help: "cancel, close",
        footer: None,
        keys: &[
            (Code(Char('n')), A::Cancel),
            (Code(KeyCode::Esc), A::Cancel),
        ],
    },
    Row {
        label: "e",
        help: "export the report as Markdown",
        footer: Some("export"),
        keys: &[(Code(Char('e')), A::Export)],
    },
    Row {
        label: "u",
        help: "paste a presigned URL and read it (nothing is sent)",
        footer: None,
        keys: &[(Code(Char('u')), A::PasteUrl)],
    },
    Row {
        label: "?",
        help: "show or hide this help",
        footer: Some("help"),
        keys: &[(Code(Char('?')), A::Help)],
    },
    Row {
        label: "q / Ctrl-C",
        help: "quit",
        footer: Some("quit"),
        keys: &[
            (Code(Char('q')), A::Quit),
            (Ctrl('c'), A::Quit),
            (Ctrl('d'), A::Quit),
        ],
    },
];

/// Where quitting the wizard leads: out of s3doctor, or (in the demo) back to the gallery.
/// Only the words for `Quit` differ; the keys are the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QuitTo {
    #[default]
    Exit,
    Gallery,
}

/// The row's help text and footer word, with `Quit` worded for where it leads.
fn words(row: &Row, quit: QuitTo) -> (&'static str, Option<&'static str>) {
    let quits = row.keys.iter().any(|(_, a)| *a == Action::Quit);
    match (quits, quit) {
        (true, QuitTo::Gallery) => ("back to the gallery", Some("back")),
        _ => (row.help, row.footer),
    }
}

/// Maps a key press to an action.
pub fn action(key: KeyEvent) -> Option<Action> {
    TABLE
        .iter()
        .flat_map(|row| row.keys)
        .find(|(k, _)| k.matches(key))
        .map(|(_, action)| *action)
}

/// Ctrl-C or Ctrl-D: quits from everywhere, also where letters are text (prompts).
pub fn is_interrupt(key: KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && action(key) == Some(Action::Quit)
}

/// The help overlay's rows: the keys as shown and what they do.
pub fn help(quit: QuitTo) -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE.iter().map(move |row| (row.label, words(row, quit).0))
}

/// The footer: the first key of each row the footer names, and its word.
pub fn footer(quit: QuitTo) -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE.iter().filter_map(move |row| {
        let first = row.label.split(" / ").next().unwrap_or(row.label);
        words(row, quit).1.map(|word| (first, word))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> Option<Action> {
        action(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn ctrl_c_quits_and_plain_c_does_nothing() {
        let ctrl_c = KeyEvent::new(Char('c'), KeyModifiers::CONTROL);
        assert_eq!(action(ctrl_c), Some(Action::Quit));
        assert!(is_interrupt(ctrl_c));
        assert_eq!(press(Char('c')), None);
        // q quits from the main screen but is a letter in a prompt.
        assert!(!is_interrupt(KeyEvent::new(Char('q'), KeyModifiers::NONE)));
        // Ctrl and a bound letter is not that letter.
        assert_eq!(
            action(KeyEvent::new(Char('a'), KeyModifiers::CONTROL)),
            None
        );
    }

    #[test]
    fn vim_keys_and_arrows_agree() {
        assert_eq!(press(Char('j')), Some(Action::Down));
        assert_eq!(press(KeyCode::Down), Some(Action::Down));
        assert_eq!(press(Char('k')), Some(Action::Up));
        assert_eq!(press(KeyCode::Up), Some(Action::Up));
    }

    /// The keys a label names: "↑ / k" → Up and k, "q / Ctrl-C" → q and Ctrl-C.
    fn named(label: &str) -> Vec<KeyEvent> {
        label
            .split(" / ")
            .map(|name| {
                let (code, modifiers) = match name {
                    "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
                    "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
                    "↑" => (KeyCode::Up, KeyModifiers::NONE),
                    "↓" => (KeyCode::Down, KeyModifiers::NONE),
                    "PgUp" => (KeyCode::PageUp, KeyModifiers::NONE),
                    "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
                    ctrl if ctrl.starts_with("Ctrl-") => {
                        let c = ctrl["Ctrl-".len()..].to_lowercase();
                        let c = c.chars().next().expect("a letter after Ctrl-");
                        (Char(c), KeyModifiers::CONTROL)
                    }
                    one if one.chars().count() == 1 => {
                        (Char(one.chars().next().unwrap()), KeyModifiers::NONE)
                    }
                    other => panic!("the test cannot read the key name {other:?}"),
                };
                KeyEvent::new(code, modifiers)
            })
            .collect()
    }

    /// What the help overlay says about a key is what the key does: every key a row names
    /// maps to one of that row's actions, and no key is bound twice.
    #[test]
    fn every_key_the_help_names_does_what_its_row_says() {
        for row in TABLE {
            for event in named(row.label) {
                let got = action(event);
                assert!(
                    row.keys.iter().any(|(_, a)| Some(*a) == got),
                    "{:?} is listed under {:?} but does {got:?}",
                    event.code,
                    row.label
                );
            }
        }
        let all: Vec<Key> = TABLE
            .iter()
            .flat_map(|r| r.keys.iter().map(|(k, _)| *k))
            .collect();
        for (i, k) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(k), "{k:?} is bound twice");
        }
    }

    /// The README's key table (section "The wizard") names the same keys as this table:
    /// a key added here and not documented there, or documented and not bound, is red.
    #[test]
    fn the_readme_documents_every_key_and_no_other() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n## The wizard")
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .expect("README has a section \"The wizard\"");
        let mut documented: Vec<&str> = section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('|').nth(1))
            .flat_map(|cell| cell.split('`').skip(1).step_by(2))
            .collect();
        let mut bound: Vec<&str> = TABLE.iter().flat_map(|r| r.label.split(" / ")).collect();
        documented.sort_unstable();
        bound.sort_unstable();
        assert_eq!(
            documented, bound,
            "README's key table and keys::TABLE differ"
        );
    }

    #[test]
    fn the_footer_names_the_main_keys_and_quit_says_where_it_leads() {
        let exit: Vec<_> = footer(QuitTo::Exit).collect();
        assert_eq!(
            exit,
            [
                ("Enter", "run"),
                ("a", "all"),
                ("r", "rerun"),
                ("f", "fix"),
                ("e", "export"),
                ("?", "help"),
                ("q", "quit"),
            ]
        );
        let gallery: Vec<_> = footer(QuitTo::Gallery).collect();
        assert_eq!(gallery.last(), Some(&("q", "back")));
        assert_eq!(gallery[..gallery.len() - 1], exit[..exit.len() - 1]);
        let help: Vec<_> = help(QuitTo::Gallery).collect();
        assert_eq!(help.last(), Some(&("q / Ctrl-C", "back to the gallery")));
        assert_eq!(help.len(), TABLE.len());
    }
}
