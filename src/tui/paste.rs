//! The wizard's pasted-error screen (`p`): the app's error, pasted or typed, read as
//! `s3doctor why` reads it (nothing is sent). On a reading, Enter runs the checklist filled
//! from it: the bucket and the object the text names (its `app-object` row, as `o` adds one),
//! as the role it names (a CloudTrail event's session issuer, an assumed-role ARN in the
//! message), assumed with the wizard's credentials as `--role-arn` is; the network it names is
//! in the printed command (the wizard does not know the app's network).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keys::{self, ErrorKey};
use crate::why::{self, Reading};

/// The screen's state.
#[derive(Debug, Default)]
pub struct ErrorScreen {
    pub input: String,
    /// After Enter: the reading, or why the text holds no AWS error.
    pub reading: Option<Result<Box<Reading>, String>>,
    pub scroll: u16,
}

/// What a key on the screen leads to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Stay,
    Close,
    /// Run the checklist on this bucket (`None`: the text names none; the wizard's own), with
    /// the object the text names, as the role it names.
    Run {
        bucket: Option<String>,
        key: Option<String>,
        role: Option<PastedRole>,
        /// The network it came from (CloudTrail's `sourceIPAddress`, `vpcEndpointId`): the
        /// conditions are judged for it.
        network: Option<crate::policy::AppNetwork>,
    },
}

/// The role a reading names, and whether its ARN is the role's real one: one made from a
/// session's ARN lacks the role's path, which the session ARN does not carry.
#[derive(Debug, PartialEq, Eq)]
pub struct PastedRole {
    pub arn: String,
    pub path_known: bool,
}

/// The most text the screen keeps (a pasted log can be long; the error is near its start).
const MAX_INPUT: usize = 256 * 1024;

impl ErrorScreen {
    /// Which of its keys (`keys::ERROR`) the screen handles, and so names: Enter reads a text
    /// not read yet, and runs the checklist from a reading; a result scrolls and typing starts
    /// another; Esc always closes.
    pub fn allows(&self, key: ErrorKey) -> bool {
        match key {
            ErrorKey::Read => self.reading.is_none(),
            ErrorKey::Run => matches!(self.reading, Some(Ok(_))),
            ErrorKey::Up
            | ErrorKey::Down
            | ErrorKey::PageUp
            | ErrorKey::PageDown
            | ErrorKey::Retype => self.reading.is_some(),
            ErrorKey::Close => true,
        }
    }

    /// A key pressed on the screen.
    pub fn on_key(&mut self, key: KeyEvent) -> Outcome {
        let Some(action) = keys::ERROR.action(key, |a| self.allows(a)) else {
            self.type_key(key);
            return Outcome::Stay;
        };
        match action {
            ErrorKey::Close => return Outcome::Close,
            ErrorKey::Read => self.read(),
            ErrorKey::Run => {
                if let Some(Ok(reading)) = &self.reading {
                    return Outcome::Run {
                        bucket: reading.bucket.clone(),
                        key: reading.key.clone(),
                        role: reading.role_arn.clone().map(|arn| PastedRole {
                            arn,
                            path_known: reading.role_path_known != Some(false),
                        }),
                        network: network_of(reading),
                    };
                }
            }
            ErrorKey::Down => self.scroll = self.scroll.saturating_add(1),
            ErrorKey::Up => self.scroll = self.scroll.saturating_sub(1),
            ErrorKey::PageDown => self.scroll = self.scroll.saturating_add(10),
            ErrorKey::PageUp => self.scroll = self.scroll.saturating_sub(10),
            ErrorKey::Retype => {}
        }
        Outcome::Stay
    }

    /// A bracketed paste: the whole text at once, new lines included.
    pub fn paste(&mut self, text: &str) {
        self.start_over_if_read();
        for c in text.chars() {
            self.push(c);
        }
    }

    fn read(&mut self) {
        self.scroll = 0;
        self.reading = Some(match crate::answers::pasted::read(&self.input) {
            Some(pasted) => Ok(Box::new(why::read(&pasted))),
            None => Err("no AWS error in this text (no error code, HTTP status or AWS refusal): paste the whole error or the CloudTrail event".to_owned()),
        });
    }

    /// Typing: the text, edited (Ctrl-J is a new line, as terminals send it in raw mode).
    fn type_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('j') if ctrl => {
                self.start_over_if_read();
                self.push('\n');
            }
            KeyCode::Char(c) if !ctrl => {
                self.start_over_if_read();
                self.push(c);
            }
            KeyCode::Backspace => {
                self.reading = None;
                self.input.pop();
            }
            _ => {}
        }
    }

    fn start_over_if_read(&mut self) {
        if self.reading.take().is_some() {
            self.input.clear();
            self.scroll = 0;
        }
    }

    fn push(&mut self, c: char) {
        let keep = c == '\n' || c == '\t' || !c.is_control();
        if keep && self.input.len() < MAX_INPUT {
            self.input.push(if c == '\r' { '\n' } else { c });
        }
    }

    /// What Enter on the reading does, in words: the bucket it checks, and what stays in the
    /// printed command.
    pub fn run_words(&self, current: &[String]) -> Option<String> {
        let Some(Ok(r)) = &self.reading else {
            return None;
        };
        let bucket = match (&r.bucket, current.first()) {
            (Some(b), _) => format!("checks {b}, the bucket the error names"),
            (None, Some(b)) => format!("checks {b} (the error names no bucket)"),
            (None, None) => "needs a bucket: the error names none".to_owned(),
        };
        let object = match &r.key {
            Some(k) if r.bucket.is_some() || !current.is_empty() => format!(" and its object {k}"),
            _ => String::new(),
        };
        let role = match &r.role_arn {
            Some(role) if r.role_path_known == Some(false) => format!(
                " as role {} ({}; if STS refuses {role}, iam:GetRole names the real ARN), \
                 assumed with your credentials",
                role.rsplit('/').next().unwrap_or(role),
                crate::arn::PATH_NOT_KNOWN
            ),
            Some(role) => format!(" as role {role}, assumed with your credentials"),
            None => String::new(),
        };
        let network = match network_of(r) {
            Some(n) => format!(" from the app's network ({})", n.describe()),
            None => String::new(),
        };
        Some(format!("Enter {bucket}{object}{role}{network}"))
    }
}

/// The app's network a reading names: the address its request came from (a VPC's private
/// one when it went through an endpoint) and the endpoint; `None` when it names neither.
pub fn network_of(r: &Reading) -> Option<crate::policy::AppNetwork> {
    let source_ip = r.source_ip.as_deref().and_then(|ip| ip.parse().ok());
    let vpce = r.vpce.clone();
    (source_ip.is_some() || vpce.is_some()).then(|| crate::policy::AppNetwork {
        source_ip,
        vpce,
        ..crate::policy::AppNetwork::default()
    })
}
