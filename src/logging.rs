//! The debug log (`--log FILE`): every AWS call with operation, status, request id and
//! latency (see `aws::call_log`), and s3doctor's own events, for support tickets. Never
//! secrets: the SDK's own request/response tracing is left out, so no header is logged.

use std::path::Path;

use color_eyre::eyre::{Context, Result};
use tracing_subscriber::EnvFilter;

/// Starts the log when `--log` is given; otherwise nothing is recorded.
pub fn init(path: Option<&Path>) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let file = std::fs::File::create(path)
        .wrap_err_with(|| format!("cannot write log {}", path.display()))?;
    // Only s3doctor's own events: aws_config's INFO lines name full access key ids.
    let filter = EnvFilter::new("s3doctor=debug");
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .map_err(|e| color_eyre::eyre::eyre!("cannot start the log: {e}"))?;
    Ok(())
}
