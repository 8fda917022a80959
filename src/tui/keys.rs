//! The wizard's key tables: which keys do what. The main screen's `TABLE` drives key handling
//! (`action`), the help overlay (`help`) and the footer (`footer`); each overlay (remedy, bucket
//! prompt, presigned URL, pasted error) and the demo's gallery chooser has a small `ScreenKeys` table that its
//! key handler and its hint both read. So a key cannot do one thing and be documented as
//! another, nor work where no hint names it.

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
    AddKey,
    PasteError,
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
        help: "read a pasted presigned URL (nothing sent)",
        footer: None,
        keys: &[(Code(Char('u')), A::PasteUrl)],
    },
    Row {
        label: "o",
        help: "read the app's own object that fails (its key)",
        footer: None,
        keys: &[(Code(Char('o')), A::AddKey)],
    },
    Row {
        label: "p",
        help: "read the app's pasted error (nothing sent)",
        footer: None,
        keys: &[(Code(Char('p')), A::PasteError)],
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

/// One row of a screen's hint: how it names the keys, its word, the action that decides
/// whether the row is shown (and its keys work), and every key of the row with its action. The
/// label names the row's main keys; the others are aliases (j/k for the arrows, Space for PgDn).
/// A row without keys describes typing (`type to read another`): letters are text there.
#[derive(Debug)]
pub struct HintRow<A: 'static> {
    pub label: &'static str,
    pub word: &'static str,
    pub shown_by: A,
    pub keys: &'static [(Key, A)],
}

/// The keys of one overlay or chooser screen. `allowed` says which actions do something in
/// the screen's current state; the handler (`action`) and the hint (`hint`) are both given it,
/// so a row is shown exactly when its keys are handled.
#[derive(Debug)]
pub struct ScreenKeys<A: 'static>(pub &'static [HintRow<A>]);

impl<A: Copy + PartialEq + std::fmt::Debug> ScreenKeys<A> {
    /// The rows shown (and handled) in a state.
    pub fn shown(&self, allowed: impl Fn(A) -> bool) -> impl Iterator<Item = &HintRow<A>> {
        self.0.iter().filter(move |row| allowed(row.shown_by))
    }

    /// What a key does in a state, if a row shown in that state binds it.
    pub fn action(&self, key: KeyEvent, allowed: impl Fn(A) -> bool) -> Option<A> {
        self.shown(allowed)
            .flat_map(|row| row.keys)
            .find(|(k, _)| k.matches(key))
            .map(|(_, a)| *a)
    }

    /// The hint of a state: `label word` of each row shown, joined by `sep`.
    pub fn hint(&self, allowed: impl Fn(A) -> bool, sep: &str) -> String {
        self.shown(allowed)
            .map(|row| format!("{} {}", row.label, row.word))
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// The row shown by an action (for a hint worded into a sentence).
    pub fn row(&self, shown_by: A) -> &HintRow<A> {
        self.0
            .iter()
            .find(|row| row.shown_by == shown_by)
            .unwrap_or_else(|| panic!("no row is shown by {shown_by:?}"))
    }
}

/// What a key does on the help overlay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelpKey {
    Close,
}

/// The help overlay's keys, named in its title (`Keys (? or Esc closes)`); n closes it too,
/// as it cancels everywhere.
pub const HELP: ScreenKeys<HelpKey> = ScreenKeys(&[HintRow {
    label: "? or Esc",
    word: "closes",
    shown_by: HelpKey::Close,
    keys: &[
        (Code(Char('?')), HelpKey::Close),
        (Code(KeyCode::Esc), HelpKey::Close),
        (Code(Char('n')), HelpKey::Close),
    ],
}]);

/// What a key does on the remedy screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemedyKey {
    Apply,
    /// Closes the screen before anything was applied.
    Cancel,
    /// Closes the screen when there is nothing to cancel.
    Close,
    Export,
    Up,
    Down,
    PageUp,
    PageDown,
}

/// The arrows and page keys that scroll an overlay, with the main screen's aliases.
const SCROLL: &[(Key, RemedyKey)] = &[
    (Code(KeyCode::Up), RemedyKey::Up),
    (Code(KeyCode::Down), RemedyKey::Down),
    (Code(Char('k')), RemedyKey::Up),
    (Code(Char('j')), RemedyKey::Down),
    (Code(KeyCode::PageUp), RemedyKey::PageUp),
    (Code(KeyCode::PageDown), RemedyKey::PageDown),
    (Code(Char(' ')), RemedyKey::PageDown),
];

/// The remedy screen's keys, in the order its hint names them.
pub const REMEDY: ScreenKeys<RemedyKey> = ScreenKeys(&[
    HintRow {
        label: "y",
        word: "apply",
        shown_by: RemedyKey::Apply,
        keys: &[(Code(Char('y')), RemedyKey::Apply)],
    },
    HintRow {
        label: "n/Esc",
        word: "cancel",
        shown_by: RemedyKey::Cancel,
        keys: &[
            (Code(Char('n')), RemedyKey::Cancel),
            (Code(KeyCode::Esc), RemedyKey::Cancel),
        ],
    },
    HintRow {
        label: "e",
        word: "export",
        shown_by: RemedyKey::Export,
        keys: &[(Code(Char('e')), RemedyKey::Export)],
    },
    HintRow {
        label: "n/Esc",
        word: "close",
        shown_by: RemedyKey::Close,
        keys: &[
            (Code(Char('n')), RemedyKey::Close),
            (Code(KeyCode::Esc), RemedyKey::Close),
        ],
    },
    HintRow {
        label: "↑↓",
        word: "scroll",
        shown_by: RemedyKey::Down,
        keys: SCROLL,
    },
]);

/// What a key does in the bucket prompt (letters and Backspace are the name typed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BucketKey {
    Confirm,
    Quit,
    /// Puts the next suggestion into the prompt.
    Next,
    /// Puts the previous suggestion into the prompt.
    Previous,
}

/// The bucket prompt's keys: Enter and Esc in its footer, the pick row in the line over the
/// suggestions (shown with them).
pub const BUCKET: ScreenKeys<BucketKey> = ScreenKeys(&[
    HintRow {
        label: "Enter",
        word: "confirm",
        shown_by: BucketKey::Confirm,
        keys: &[(Code(KeyCode::Enter), BucketKey::Confirm)],
    },
    HintRow {
        label: "Esc",
        word: "quit",
        shown_by: BucketKey::Quit,
        keys: &[(Code(KeyCode::Esc), BucketKey::Quit)],
    },
    HintRow {
        label: "Tab/↓",
        word: "to pick",
        shown_by: BucketKey::Next,
        keys: &[
            (Code(KeyCode::Tab), BucketKey::Next),
            (Code(KeyCode::Down), BucketKey::Next),
            (Code(KeyCode::Up), BucketKey::Previous),
        ],
    },
]);

/// What a key does in the object prompt (`o`; letters and Backspace are the key typed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKey {
    Confirm,
    Cancel,
}

/// The object prompt's keys, named in its last line.
pub const OBJECT: ScreenKeys<ObjectKey> = ScreenKeys(&[
    HintRow {
        label: "Enter",
        word: "read it",
        shown_by: ObjectKey::Confirm,
        keys: &[(Code(KeyCode::Enter), ObjectKey::Confirm)],
    },
    HintRow {
        label: "Esc",
        word: "cancel",
        shown_by: ObjectKey::Cancel,
        keys: &[(Code(KeyCode::Esc), ObjectKey::Cancel)],
    },
]);

/// What a key does on the presigned-URL screen (letters and Backspace are the URL typed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlKey {
    Read,
    Up,
    Down,
    PageUp,
    PageDown,
    /// Typing after a result starts a new URL (no key of its own: letters are text).
    Retype,
    Close,
}

/// The presigned-URL screen's keys, in the order its hint names them.
pub const URL: ScreenKeys<UrlKey> = ScreenKeys(&[
    HintRow {
        label: "Enter",
        word: "read",
        shown_by: UrlKey::Read,
        keys: &[(Code(KeyCode::Enter), UrlKey::Read)],
    },
    HintRow {
        label: "↑↓",
        word: "scroll",
        shown_by: UrlKey::Down,
        keys: &[
            (Code(KeyCode::Up), UrlKey::Up),
            (Code(KeyCode::Down), UrlKey::Down),
            (Code(KeyCode::PageUp), UrlKey::PageUp),
            (Code(KeyCode::PageDown), UrlKey::PageDown),
        ],
    },
    HintRow {
        label: "type",
        word: "to read another",
        shown_by: UrlKey::Retype,
        keys: &[],
    },
    HintRow {
        label: "Esc",
        word: "close",
        shown_by: UrlKey::Close,
        keys: &[(Code(KeyCode::Esc), UrlKey::Close)],
    },
]);

/// What a key does on the pasted-error screen (letters, Backspace and Ctrl-J, a new line,
/// are the text typed; a bracketed paste arrives whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKey {
    Read,
    /// On a reading: run the checklist filled from it.
    Run,
    Up,
    Down,
    PageUp,
    PageDown,
    /// Typing after a reading starts a new text (no key of its own: letters are text).
    Retype,
    Close,
}

/// The pasted-error screen's keys, in the order its hint names them.
pub const ERROR: ScreenKeys<ErrorKey> = ScreenKeys(&[
    HintRow {
        label: "Enter",
        word: "read",
        shown_by: ErrorKey::Read,
        keys: &[(Code(KeyCode::Enter), ErrorKey::Read)],
    },
    HintRow {
        label: "Enter",
        word: "run the checklist",
        shown_by: ErrorKey::Run,
        keys: &[(Code(KeyCode::Enter), ErrorKey::Run)],
    },
    HintRow {
        label: "↑↓",
        word: "scroll",
        shown_by: ErrorKey::Down,
        keys: &[
            (Code(KeyCode::Up), ErrorKey::Up),
            (Code(KeyCode::Down), ErrorKey::Down),
            (Code(KeyCode::PageUp), ErrorKey::PageUp),
            (Code(KeyCode::PageDown), ErrorKey::PageDown),
        ],
    },
    HintRow {
        label: "type",
        word: "to read another",
        shown_by: ErrorKey::Retype,
        keys: &[],
    },
    HintRow {
        label: "Esc",
        word: "close",
        shown_by: ErrorKey::Close,
        keys: &[(Code(KeyCode::Esc), ErrorKey::Close)],
    },
]);

/// What a key does on the demo's gallery chooser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChooserKey {
    Up,
    Down,
    Pick,
    Wizard,
    MakeFix,
    /// Back to the list from an outcome.
    Gallery,
    /// Back to the list from "what you learned".
    Back,
    Quit,
}

/// The gallery chooser's keys, in the order its footer names them.
pub const CHOOSER: ScreenKeys<ChooserKey> = ScreenKeys(&[
    HintRow {
        label: "Enter",
        word: "pick",
        shown_by: ChooserKey::Pick,
        keys: &[(Code(KeyCode::Enter), ChooserKey::Pick)],
    },
    HintRow {
        label: "↑↓",
        word: "choose",
        shown_by: ChooserKey::Down,
        keys: &[
            (Code(KeyCode::Up), ChooserKey::Up),
            (Code(KeyCode::Down), ChooserKey::Down),
            (Code(Char('k')), ChooserKey::Up),
            (Code(Char('j')), ChooserKey::Down),
        ],
    },
    HintRow {
        label: "y",
        word: "make the fix",
        shown_by: ChooserKey::MakeFix,
        keys: &[(Code(Char('y')), ChooserKey::MakeFix)],
    },
    HintRow {
        label: "w",
        word: "wizard",
        shown_by: ChooserKey::Wizard,
        keys: &[(Code(Char('w')), ChooserKey::Wizard)],
    },
    HintRow {
        label: "Esc",
        word: "gallery",
        shown_by: ChooserKey::Gallery,
        keys: &[
            (Code(KeyCode::Esc), ChooserKey::Gallery),
            (Code(KeyCode::Enter), ChooserKey::Gallery),
        ],
    },
    HintRow {
        label: "Enter",
        word: "back to the gallery",
        shown_by: ChooserKey::Back,
        keys: &[
            (Code(KeyCode::Enter), ChooserKey::Back),
            (Code(KeyCode::Esc), ChooserKey::Back),
        ],
    },
    HintRow {
        label: "q",
        word: "quit",
        shown_by: ChooserKey::Quit,
        keys: &[(Code(Char('q')), ChooserKey::Quit)],
    },
]);

/// For the tests of every screen: the keys a hint's label names, and every key a test presses.
#[cfg(test)]
pub(crate) mod names {
    use super::*;

    /// The keys a label names: "↑ / k" → Up and k, "n/Esc" → n and Esc, "↑↓" → Up and Down,
    /// "q / Ctrl-C" → q and Ctrl-C, "? or Esc" → ? and Esc.
    pub(crate) fn named(label: &str) -> Vec<KeyEvent> {
        label
            .split(" or ")
            .flat_map(|part| part.split('/'))
            .map(str::trim)
            .flat_map(|name| match name {
                "↑↓" => vec!["↑", "↓"],
                one => vec![one],
            })
            .map(|name| {
                let (code, modifiers) = match name {
                    "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
                    "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
                    "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
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

    /// Every key the screen tests press: letters, digits, the signs, and the named keys.
    pub(crate) fn every_key() -> Vec<KeyEvent> {
        let chars = ('a'..='z')
            .chain('A'..='Z')
            .chain('0'..='9')
            .chain(" ?/-.:".chars());
        let codes = [
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Home,
            KeyCode::End,
        ];
        chars
            .map(Char)
            .chain(codes)
            .map(|code| KeyEvent::new(code, KeyModifiers::NONE))
            .collect()
    }

    /// Presses each key of `every_key()` on a fresh copy of one state of a screen. Every key
    /// the rows shown in that state bind (the keys their labels name, and their aliases) must
    /// change what `look` sees or give a command; every other key must do neither, bar the
    /// `exempt` ones (keys that work everywhere, letters where they are text).
    /// `press` returns the commands it gave, in words.
    pub(crate) fn press_every_key<A, S>(
        table: &ScreenKeys<A>,
        allowed: impl Fn(A) -> bool,
        fresh: impl Fn() -> S,
        look: impl Fn(&S) -> String,
        press: impl Fn(&mut S, KeyEvent) -> String,
        exempt: impl Fn(KeyEvent) -> bool,
    ) where
        A: Copy + PartialEq + std::fmt::Debug,
    {
        let bound = bound(table, &allowed);
        // A row without keys is typing: letters are text there.
        for row in table.shown(&allowed).filter(|row| !row.keys.is_empty()) {
            for key in named(row.label) {
                assert!(bound.contains(&key), "{key:?}: named, not bound");
            }
        }
        let before = look(&fresh());
        for key in every_key().into_iter().chain(bound.iter().copied()) {
            if exempt(key) {
                continue;
            }
            let mut state = fresh();
            let commands = press(&mut state, key);
            let did = look(&state) != before || !commands.is_empty();
            if bound.contains(&key) {
                assert!(did, "{key:?} is shown in the hint but does nothing");
            } else {
                assert!(
                    !did,
                    "{key:?} is not in the hint but does something {commands}"
                );
            }
        }
    }

    /// The keys the rows shown in a state bind (named or alias), each once: a key bound by
    /// two rows shown at once is an error.
    pub(crate) fn bound<A: Copy + PartialEq + std::fmt::Debug>(
        table: &ScreenKeys<A>,
        allowed: impl Fn(A) -> bool,
    ) -> Vec<KeyEvent> {
        let mut keys: Vec<KeyEvent> = Vec::new();
        for (key, _) in table.shown(allowed).flat_map(|row| row.keys) {
            let event = match *key {
                Key::Code(code) => KeyEvent::new(code, KeyModifiers::NONE),
                Key::Ctrl(c) => KeyEvent::new(Char(c), KeyModifiers::CONTROL),
            };
            assert!(!keys.contains(&event), "{key:?} is bound twice");
            keys.push(event);
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::names::named;
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

    /// Each screen's hint names keys its row binds: a label naming a key the row does not
    /// handle is red (the screens' own tests press them in every state).
    #[test]
    fn every_key_a_screen_hint_names_is_bound_in_its_row() {
        fn check<A: Copy + PartialEq + std::fmt::Debug>(table: &ScreenKeys<A>) {
            for row in table.0 {
                if row.keys.is_empty() {
                    // Typing: letters are text on that screen.
                    assert_eq!(row.label, "type", "{row:?}");
                    continue;
                }
                assert!(
                    row.keys.iter().any(|(_, a)| *a == row.shown_by),
                    "{row:?} is shown by an action none of its keys has"
                );
                for event in named(row.label) {
                    assert!(
                        row.keys.iter().any(|(k, _)| k.matches(event)),
                        "{:?} is named by {:?} but not bound in its row",
                        event.code,
                        row.label
                    );
                }
            }
        }
        check(&HELP);
        check(&REMEDY);
        check(&BUCKET);
        check(&URL);
        check(&ERROR);
        check(&CHOOSER);
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
