//! The demo's incident gallery on screen: the chooser (incidents on the left, the ticket on
//! the right, the scorecard below), the outcome of a pick, and "what you learned". State and
//! key handling are plain data; `demo` runs the loop, seeds and opens the wizard.

use std::time::Duration;

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::keys::{self, ChooserKey};
use super::theme::{RowState, Theme};
use crate::checks::Status;
use crate::gallery::{FixKind, Incident};
use crate::runbook::Runbook;

/// How one incident went in this session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    pub tried: bool,
    /// The wizard showed the finding the incident teaches.
    pub found: bool,
    /// Fixed, and verified by a fresh check.
    pub fixed: bool,
    /// From the pick to the verified fix (or the time spent so far).
    pub time: Duration,
}

/// What is on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Screen {
    Choose,
    /// Work in progress (seeding, checking): the line says what.
    Busy(String),
    /// Back from the wizard, not fixed yet.
    Outcome {
        note: Option<String>,
    },
    /// Fixed and verified.
    Learned,
}

/// What a key asks the demo to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// Seed the selected incident fresh and open the wizard on it.
    Start(usize),
    /// Open the wizard again on the incident as it is.
    Wizard,
    /// Make the person's fix (manual incidents), then check again.
    ApplyFix,
    Quit,
}

pub struct Chooser {
    pub incidents: &'static [Incident],
    pub selected: usize,
    pub scores: Vec<Score>,
    pub screen: Screen,
    /// The names as seeded (for "what the fix changed").
    pub names: std::collections::BTreeMap<String, String>,
    /// Why the last pick could not start (e.g. an RGW incident without RGW).
    pub message: Option<String>,
    pub theme: Theme,
}

impl Chooser {
    pub fn new(incidents: &'static [Incident], theme: Theme) -> Chooser {
        Chooser {
            incidents,
            selected: 0,
            scores: vec![Score::default(); incidents.len()],
            screen: Screen::Choose,
            names: Default::default(),
            message: None,
            theme,
        }
    }

    pub fn current(&self) -> Option<&'static Incident> {
        self.incidents.get(self.selected)
    }

    /// Found / fixed / time across the session.
    pub fn scorecard(&self) -> String {
        let n = self.scores.len();
        let found = self.scores.iter().filter(|s| s.found).count();
        let fixed = self.scores.iter().filter(|s| s.fixed).count();
        let time: Duration = self.scores.iter().map(|s| s.time).sum();
        format!(
            "found {found}/{n}  fixed {fixed}/{n}  time {}",
            duration(time)
        )
    }

    /// Which of its keys (`keys::CHOOSER`) the screen on show handles, and so names: none
    /// while busy (Ctrl-C still quits); y only for an incident a person fixes.
    pub fn allows(&self, key: ChooserKey) -> bool {
        let manual = self.current().is_some_and(|i| i.fix == FixKind::Manual);
        match (&self.screen, key) {
            (Screen::Busy(_), _) => false,
            (_, ChooserKey::Quit) => true,
            (Screen::Choose, ChooserKey::Up | ChooserKey::Down | ChooserKey::Pick) => true,
            (Screen::Outcome { .. }, ChooserKey::Wizard | ChooserKey::Gallery) => true,
            (Screen::Outcome { .. }, ChooserKey::MakeFix) => manual,
            (Screen::Learned, ChooserKey::Back) => true,
            _ => false,
        }
    }

    /// A key on the chooser's own screens: Ctrl-C (or Ctrl-D) quits everywhere, the others do
    /// what the footer says.
    pub fn key(&mut self, key: KeyEvent) -> Option<Pick> {
        if keys::is_interrupt(key) {
            return Some(Pick::Quit);
        }
        match keys::CHOOSER.action(key, |a| self.allows(a))? {
            ChooserKey::Quit => Some(Pick::Quit),
            ChooserKey::Up => {
                self.selected = self.selected.saturating_sub(1);
                self.message = None;
                None
            }
            ChooserKey::Down => {
                self.selected = (self.selected + 1).min(self.incidents.len().saturating_sub(1));
                self.message = None;
                None
            }
            ChooserKey::Pick => Some(Pick::Start(self.selected)),
            ChooserKey::Wizard => Some(Pick::Wizard),
            ChooserKey::MakeFix => Some(Pick::ApplyFix),
            ChooserKey::Gallery | ChooserKey::Back => {
                self.screen = Screen::Choose;
                None
            }
        }
    }
}

/// `1m 05s`, `42s`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

pub fn draw(c: &Chooser, f: &mut Frame) {
    let t = &c.theme;
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(5),
        Constraint::Length(1),
    ])
    .areas(f.area());
    let hint = match &c.screen {
        // The keys as the footer names them (`keys::CHOOSER`).
        Screen::Choose => format!(
            "Start here: {} choose an incident, {} seeds it fresh in the emulator and opens the wizard",
            keys::CHOOSER.row(ChooserKey::Down).label,
            keys::CHOOSER.row(ChooserKey::Pick).label
        ),
        Screen::Busy(_) => "Working…".to_owned(),
        Screen::Outcome { .. } => "Back from the wizard: see below what is left to do".to_owned(),
        Screen::Learned => "Fixed and verified".to_owned(),
    };
    let block = Block::default()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_type(BorderType::Rounded)
        .title(Span::styled(
            " s3doctor demo · incident gallery ",
            t.accent(),
        ));
    f.render_widget(
        Paragraph::new(Line::from(Span::styled(
            hint,
            t.accent().add_modifier(Modifier::BOLD),
        )))
        .block(block),
        header,
    );
    let [list, detail] =
        Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)]).areas(body);
    draw_list(c, f, list);
    match &c.screen {
        Screen::Choose | Screen::Busy(_) => draw_ticket(c, f, detail),
        Screen::Outcome { note } => draw_outcome(c, note.as_deref(), f, detail),
        Screen::Learned => draw_learned(c, f, detail),
    }
    let keys = match &c.screen {
        Screen::Busy(_) => "please wait".to_owned(),
        _ => keys::CHOOSER.hint(|a| c.allows(a), "  "),
    };
    let score = Span::styled(format!(" Scorecard: {} ", c.scorecard()), t.accent());
    let keys = Span::raw(format!(" {keys}"));
    // On a narrow terminal the keys come first: the edge cuts the scorecard, not `q quit`.
    let line = if score.width() + keys.width() <= usize::from(footer.width) {
        Line::from(vec![score, keys])
    } else {
        Line::from(vec![keys, Span::raw(" "), score])
    };
    f.render_widget(Paragraph::new(line), footer);
}

fn draw_list(c: &Chooser, f: &mut Frame, area: Rect) {
    let t = &c.theme;
    let mut lines = Vec::new();
    for (i, (incident, score)) in c.incidents.iter().zip(&c.scores).enumerate() {
        let state = if score.fixed {
            RowState::Done(Status::Pass)
        } else if score.found {
            RowState::Done(Status::Warn)
        } else if score.tried {
            RowState::Done(Status::Fail)
        } else {
            RowState::Pending
        };
        let mut line = Line::from(vec![
            Span::styled(format!("{} ", Theme::symbol(state, 0)), t.style(state)),
            Span::raw(format!("{}. {}", i + 1, incident.name)),
        ]);
        if score.fixed {
            line.push_span(Span::styled(format!("  {}", duration(score.time)), t.dim()));
        }
        if i == c.selected {
            line = line.style(t.selected());
        }
        lines.push(line);
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(" Incidents ");
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn titled(title: &str) -> Block<'_> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .title(format!(" {title} "))
}

fn code_title(i: &Incident) -> String {
    let title = Runbook::embedded()
        .finding(i.teaches)
        .map(|t| {
            crate::runbook::fill(
                &t.title,
                &[("action", i.action.as_deref().unwrap_or("an action"))],
            )
        })
        .unwrap_or_default();
    format!("{} ({title})", i.teaches)
}

fn draw_ticket(c: &Chooser, f: &mut Frame, area: Rect) {
    let t = &c.theme;
    let Some(i) = c.current() else {
        return;
    };
    let mut lines = vec![
        Line::from(Span::styled(
            i.title.clone(),
            ratatui::style::Style::new().add_modifier(Modifier::BOLD),
        )),
        Line::raw(""),
        Line::raw(i.ticket.trim().to_owned()),
        Line::raw(""),
        Line::from(vec![
            Span::styled("Teaches  ", t.dim()),
            // The answer waits until the wizard has found it: diagnosing is the lesson.
            Span::raw(if c.scores.get(c.selected).is_some_and(|s| s.found) {
                code_title(i)
            } else {
                "revealed once the wizard finds it".to_owned()
            }),
        ]),
        Line::from(vec![
            Span::styled("Runs on  ", t.dim()),
            Span::raw(match i.peer {
                crate::gallery::PeerKind::Moto => "the local AWS emulator (moto)",
                crate::gallery::PeerKind::Rgw => "Ceph RGW (start the demo with --rgw)",
            }),
        ]),
        Line::from(vec![
            Span::styled("Fixed by ", t.dim()),
            Span::raw(match (i.fix, i.peer) {
                (FixKind::Policy, crate::gallery::PeerKind::Moto) => {
                    "s3doctor's least-privilege policy (f, then y in the wizard)"
                }
                (FixKind::Policy, crate::gallery::PeerKind::Rgw) => {
                    "s3doctor's bucket-policy grant (f, then y in the wizard)"
                }
                (FixKind::Manual, _) => "a change a person makes; s3doctor names it",
                (FixKind::Trust, _) => {
                    "s3doctor's trust-policy statement (f, then y in the wizard)"
                }
            }),
        ]),
    ];
    if let Screen::Busy(what) = &c.screen {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(what.clone(), t.accent())));
    }
    if let (Screen::Choose, Some(message)) = (&c.screen, &c.message) {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            message.clone(),
            t.style(RowState::Done(Status::Fail)),
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(titled("The ticket"))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_outcome(c: &Chooser, note: Option<&str>, f: &mut Frame, area: Rect) {
    let t = &c.theme;
    let Some(i) = c.current() else {
        return;
    };
    let score = c.scores.get(c.selected).copied().unwrap_or_default();
    let mut lines = vec![if score.found {
        Line::from(Span::styled(
            format!("✓ Found: {}", code_title(i)),
            t.style(RowState::Done(Status::Pass)),
        ))
    } else {
        Line::from(Span::styled(
            format!(
                "✗ The wizard has not shown {} yet: run every step (a) and read the red ones",
                i.teaches
            ),
            t.style(RowState::Done(Status::Fail)),
        ))
    }];
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "✗ Not fixed yet: a fresh check still finds it.",
        t.style(RowState::Done(Status::Fail)),
    )));
    lines.push(Line::raw(""));
    match i.fix {
        FixKind::Policy => lines.push(Line::raw(match i.peer {
            crate::gallery::PeerKind::Moto => {
                "In the wizard (w), f shows the least-privilege policy and y attaches it; s3doctor then re-runs the failed steps."
            }
            crate::gallery::PeerKind::Rgw => {
                "In the wizard (w), f shows the bucket-policy grant and y writes it with the owner's keys; s3doctor then re-runs the failed steps."
            }
        })),
        FixKind::Trust => lines.push(Line::raw(
            "In the wizard (w), f shows the statement to add to the role's trust policy and y adds it; s3doctor then assumes the role again and runs the checklist as it.",
        )),
        FixKind::Manual => {
            lines.push(Line::raw(
                "The fix is a change a person makes (no IAM policy for s3doctor to attach):",
            ));
            lines.push(Line::from(Span::styled(
                format!("  {}", i.fix_by.as_deref().unwrap_or_default()),
                t.accent(),
            )));
            lines.push(Line::raw(""));
            lines.push(Line::raw(
                "Press y to make that change in the emulator; s3doctor then checks again.",
            ));
        }
    }
    if let Some(note) = note {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(note.to_owned(), t.accent())));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(titled(&i.title))
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_learned(c: &Chooser, f: &mut Frame, area: Rect) {
    let t = &c.theme;
    let Some(i) = c.current() else {
        return;
    };
    let score = c.scores.get(c.selected).copied().unwrap_or_default();
    let heading = |s: &str| Line::from(Span::styled(s.to_owned(), t.accent()));
    let lines = vec![
        Line::from(Span::styled(
            format!("✓ Fixed and verified in {}", duration(score.time)),
            t.style(RowState::Done(Status::Pass)),
        )),
        Line::raw(""),
        heading("What you learned"),
        Line::raw(crate::gallery::fill(i.learned.trim(), &c.names)),
        Line::raw(""),
        heading("What the fix changed"),
        Line::raw(crate::gallery::fill(i.changed.trim(), &c.names)),
        Line::raw(""),
        Line::from(vec![
            Span::styled("More: ", t.dim()),
            Span::raw(format!("s3doctor explain {}", i.teaches)),
        ]),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .block(titled(&i.title))
            .wrap(Wrap { trim: false }),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn arrows_choose_enter_picks_and_the_ends_hold() {
        let mut c = Chooser::new(crate::gallery::embedded(), Theme::from_env());
        assert_eq!(c.key(key(KeyCode::Up)), None);
        assert_eq!(c.selected, 0);
        for _ in 0..50 {
            c.key(key(KeyCode::Down));
        }
        assert_eq!(c.selected, c.incidents.len() - 1);
        assert_eq!(c.key(key(KeyCode::Enter)), Some(Pick::Start(c.selected)));
        assert_eq!(c.key(key(KeyCode::Char('q'))), Some(Pick::Quit));
    }

    #[test]
    fn y_makes_the_fix_only_for_manual_incidents() {
        let mut c = Chooser::new(crate::gallery::embedded(), Theme::from_env());
        c.screen = Screen::Outcome { note: None };
        let policy = c
            .incidents
            .iter()
            .position(|i| i.fix == FixKind::Policy)
            .unwrap();
        let manual = c
            .incidents
            .iter()
            .position(|i| i.fix == FixKind::Manual)
            .unwrap();
        c.selected = policy;
        assert_eq!(c.key(key(KeyCode::Char('y'))), None);
        c.selected = manual;
        assert_eq!(c.key(key(KeyCode::Char('y'))), Some(Pick::ApplyFix));
        assert_eq!(c.key(key(KeyCode::Char('w'))), Some(Pick::Wizard));
        assert_eq!(c.key(key(KeyCode::Esc)), None);
        assert_eq!(c.screen, Screen::Choose);
    }

    #[test]
    fn scorecard_counts_found_fixed_and_time() {
        let mut c = Chooser::new(crate::gallery::embedded(), Theme::from_env());
        let n = c.incidents.len();
        c.scores[0] = Score {
            tried: true,
            found: true,
            fixed: true,
            time: Duration::from_secs(75),
        };
        c.scores[1] = Score {
            tried: true,
            found: true,
            fixed: false,
            time: Duration::from_secs(5),
        };
        assert_eq!(
            c.scorecard(),
            format!("found 2/{n}  fixed 1/{n}  time 1m 20s")
        );
    }

    /// The chooser's footer, as drawn.
    fn footer(c: &Chooser) -> String {
        let mut term =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).expect("terminal");
        term.draw(|f| draw(c, f)).expect("draw");
        let buffer = term.backend().buffer();
        let y = buffer.area.height - 1;
        (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect::<String>()
            .trim_end()
            .to_owned()
    }

    /// Each of the chooser's screens: its footer names exactly the keys that do something
    /// there, and every other key does nothing (Ctrl-C quits everywhere).
    #[test]
    fn the_footer_names_the_keys_each_chooser_screen_handles() {
        let incidents = crate::gallery::embedded();
        let fix = |kind| incidents.iter().position(|i| i.fix == kind).unwrap();
        let outcome = Screen::Outcome { note: None };
        for (screen, selected, hint) in [
            (Screen::Choose, 1, "Enter pick  ↑↓ choose  q quit"),
            (Screen::Busy("seeding".into()), 1, "please wait"),
            (
                outcome.clone(),
                fix(FixKind::Policy),
                "w wizard  Esc gallery  q quit",
            ),
            (
                outcome,
                fix(FixKind::Manual),
                "y make the fix  w wizard  Esc gallery  q quit",
            ),
            (Screen::Learned, 1, "Enter back to the gallery  q quit"),
        ] {
            let fresh = || {
                let mut c = Chooser::new(incidents, Theme { color: false });
                c.screen = screen.clone();
                c.selected = selected;
                c
            };
            let shown = footer(&fresh());
            assert!(
                shown.ends_with(&format!("time 0s  {hint}")),
                "{hint:?}: {shown:?}"
            );
            let look = |c: &Chooser| format!("{:?} {} {:?}", c.screen, c.selected, c.message);
            let press = |c: &mut Chooser, k| c.key(k).map(|p| format!("{p:?}")).unwrap_or_default();
            let chooser = fresh();
            keys::names::press_every_key(
                &keys::CHOOSER,
                |a| chooser.allows(a),
                fresh,
                look,
                press,
                keys::is_interrupt,
            );
        }
    }
}
