//! Terminal lifecycle: a panic hook that restores the terminal before the report and exits
//! (a panic in a background task must not leave the UI drawing into a normal terminal),
//! and the TERM/HUP signals the loop quits on.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Restores the terminal, prints the panic report (color-eyre's hook, already installed by
/// `main`), and exits with 3 (an internal error).
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        ratatui::restore();
        previous(info);
        std::process::exit(i32::from(crate::exit::INTERNAL));
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
