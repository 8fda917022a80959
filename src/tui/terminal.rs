//! Terminal lifecycle: setting the terminal up and restoring it, a panic hook that restores
//! it before the report and exits when the wizard itself panics (the UI thread), and the
//! TERM/HUP signals the loop quits on. A panic in a background task leaves the terminal alone:
//! the loop turns the task's end into a failure the wizard shows (`Msg::TaskFailed`).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ThreadId;

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The thread that draws (set by the first `init`) and whether the wizard owns the terminal.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Raw mode and the alternate screen, with s3doctor's panic hook (ratatui's `init` would add a
/// hook of its own that restores the terminal on a background task's panic too, leaving the
/// wizard drawing into a normal terminal).
pub fn init() -> std::io::Result<DefaultTerminal> {
    install_panic_hook();
    ACTIVE.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    // Bracketed paste: a pasted error (`p`) arrives whole, its new lines not read as Enter.
    execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste
    )?;
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

/// Leaves raw mode and the alternate screen; a later panic is reported as usual.
pub fn restore() {
    ACTIVE.store(false, Ordering::SeqCst);
    leave();
}

/// Bracketed paste off, then ratatui's restore (raw mode off, main screen).
fn leave() {
    let _ = execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
}

/// Installed once per process. On the UI thread while the wizard owns the terminal: restores
/// it, prints the panic report (color-eyre's hook, already installed by `main`), and exits
/// with 3 (an internal error). On another thread while the wizard runs: nothing — the task's
/// panic reaches the loop as a `JoinError` and the wizard shows it. Otherwise: the previous
/// hook, as if none were installed.
pub fn install_panic_hook() {
    let ui = std::thread::current().id();
    if UI_THREAD.set(ui).is_err() {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !ACTIVE.load(Ordering::SeqCst) {
            previous(info);
        } else if std::thread::current().id() == ui {
            leave();
            previous(info);
            std::process::exit(i32::from(crate::exit::INTERNAL));
        }
    }));
}

/// SIGTERM and SIGHUP, as one future the loop can select on.
pub struct Signals {
    term: Option<Signal>,
    hup: Option<Signal>,
}

impl Signals {
    pub fn new() -> Self {
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            hup: signal(SignalKind::hangup()).ok(),
        }
    }

    /// Resolves when either signal arrives (never, if neither could be installed).
    pub async fn next(&mut self) {
        let term = async {
            match &mut self.term {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let hup = async {
            match &mut self.hup {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = term => {}
            () = hup => {}
        }
    }
}

impl Default for Signals {
    fn default() -> Self {
        Self::new()
    }
}
