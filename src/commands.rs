//! What each subcommand does, on top of the engine: `check` (headless report), `policy`
//! (the JSON), `fix` (the remedy) and the wizard. Returns the process exit code.

pub mod fix;

use std::io::IsTerminal;
use std::process::ExitCode;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use crate::cli::{BadInput, Cli, Command, Config, Format};
use crate::engine::{Engine, EngineEvent};
use crate::exit::{self, bad_input, emit};
use crate::policy;
use crate::report::{self, Report};

/// Parses nothing; runs the parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode> {
    // explain, completions, man: no AWS, no configuration to validate.
    if let Some(done) = crate::docs::run(cli.command.as_ref()) {
        return done;
    }
    // why: reads text only; no configuration, no credentials, no client, nothing sent.
    if let Some(done) = why(&cli) {
        return done;
    }
    let config = match cli.common.config() {
        Ok(c) => c,
        Err(bad) => return Ok(bad_input(&bad)),
    };
    crate::logging::init(cli.common.log.as_deref())?;
    if matches!(
        cli.command,
        None | Some(Command::Check { .. } | Command::Fix { .. })
    ) && let Some(line) =
        crate::credentials::missing_profiles(&config.settings, config.admin.as_ref())
            .await
            .into_iter()
            .next()
    {
        return Ok(bad_input(&BadInput(line)));
    }
    let output = cli.common.output;
    match cli.command {
        Some(Command::Check { format }) => check(config, format, output.as_deref()).await,
        Some(Command::Policy) => print_policy(&config, output.as_deref()),
        Some(Command::Fix {
            yes,
            policy_name,
            undo,
            export,
            verify_timeout,
        }) => {
            let options = fix::FixOptions {
                yes,
                policy_name,
                undo,
                export,
                verify_deadline: std::time::Duration::from_secs(verify_timeout),
            };
            fix::fix(config, options).await
        }
        Some(Command::Demo(options)) => crate::demo::run(config, options).await,
        Some(Command::Url {
            url,
            format,
            try_get,
            method,
            offline,
        }) => {
            let options = crate::url_command::UrlOptions {
                url,
                format,
                try_get,
                method: method.as_deref().and_then(crate::presigned::Method::parse),
                offline,
            };
            crate::url_command::run(&config, options, output.as_deref()).await
        }
        Some(doc @ (Command::Explain { .. } | Command::Completions { .. } | Command::Man)) => {
            crate::docs::run(Some(&doc)).unwrap_or(Ok(ExitCode::from(exit::INTERNAL)))
        }
        // Answered by `why` above, before any configuration is read.
        Some(Command::Why { .. }) => Ok(ExitCode::from(exit::INTERNAL)),
        None => wizard(config, cli.auto, output).await,
    }
}

/// `s3doctor why`, when that is the command: it reads no configuration (no env file, no
/// profile) and builds no client, so it can send nothing.
fn why(cli: &Cli) -> Option<Result<ExitCode>> {
    let Some(Command::Why { text, file, format }) = &cli.command else {
        return None;
    };
    let options = crate::why_command::WhyOptions {
        text: text.clone(),
        file: file.clone(),
        format: *format,
    };
    Some(crate::why_command::run(
        &options,
        cli.common.output.as_deref(),
    ))
}

/// `s3doctor` alone: the wizard, then one line of summary once the terminal is restored.
async fn wizard(
    config: Config,
    auto: bool,
    output: Option<std::path::PathBuf>,
) -> Result<ExitCode> {
    let setup = crate::tui::Setup {
        settings: config.settings,
        run: config.run,
        admin: config.admin,
    };
    let report = match crate::tui::wizard(setup, auto, output).await? {
        Err(bad) => return Ok(bad_input(&bad)),
        Ok(report) => report,
    };
    let diagnosis = report.diagnosis();
    // The check that runs what the wizard ran: its buckets, keys and endpoint.
    let check = report::verify_command(&report);
    match (diagnosis.error_count(), diagnosis.complete()) {
        (0, true) => crate::say!("s3doctor: no problems found"),
        (0, false) => crate::say!(
            "s3doctor: the check did not finish ({}); `{check}` runs every step",
            diagnosis.progress()
        ),
        (n, complete) => crate::say!(
            "s3doctor: {n} problem(s) found{}; `{check} --format markdown` writes them up",
            if complete {
                String::new()
            } else {
                format!(" ({})", diagnosis.progress())
            }
        ),
    }
    Ok(ExitCode::from(if diagnosis.ok() {
        exit::OK
    } else {
        exit::FINDINGS
    }))
}

fn require_buckets(config: &Config, what: &str) -> Result<(), BadInput> {
    if config.run.buckets.is_empty() {
        return Err(BadInput(format!(
            "{what} needs --bucket (or S3_BUCKET in the --env-file)"
        )));
    }
    Ok(())
}

async fn check(
    config: Config,
    format: Format,
    output: Option<&std::path::Path>,
) -> Result<ExitCode> {
    if let Err(bad) = require_buckets(&config, "check") {
        return Ok(bad_input(&bad));
    }
    let engine = Engine::new(config.settings, config.run).with_admin(config.admin);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let progress = tokio::spawn(async move {
        let verbose = std::io::stderr().is_terminal();
        while let Some(ev) = rx.recv().await {
            if let (true, EngineEvent::Finished(r)) = (verbose, &ev) {
                let bucket = r
                    .bucket
                    .as_deref()
                    .map(|b| format!(" [{b}]"))
                    .unwrap_or_default();
                crate::say!("  {:<4} {}{bucket}", r.status.as_str(), r.id);
            }
        }
    });
    engine.run_all(&tx).await;
    drop(tx);
    let _ = progress.await;
    let report = Report::from_engine(&engine).await;
    let color = output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = match format {
        Format::Text => report::to_text(&report, color),
        Format::Json => report::to_json(&report),
        Format::Markdown => report::to_markdown(&report),
    };
    emit(&text, output)?;
    Ok(ExitCode::from(if report.diagnosis().ok() {
        exit::OK
    } else {
        exit::FINDINGS
    }))
}

fn print_policy(config: &Config, output: Option<&std::path::Path>) -> Result<ExitCode> {
    if let Err(bad) = require_buckets(config, "policy") {
        return Ok(bad_input(&bad));
    }
    let run = &config.run;
    let extra = run.extra_object_actions();
    // Offline: the partition is the region's (`--region cn-north-1` writes `arn:aws-cn:`).
    let partition = crate::arn::partition_of_region(config.settings.region.as_deref());
    let doc = policy::generate_with(
        partition,
        &run.buckets,
        run.access,
        run.prefix_scoped.then_some(run.prefix.as_str()),
        extra,
    );
    match policy::validate(&doc) {
        Ok(json) => {
            emit(&json, output)?;
            Ok(ExitCode::from(exit::OK))
        }
        Err(e) => Ok(bad_input(&BadInput(e.to_string()))),
    }
}
