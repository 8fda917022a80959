//! `s3doctor fix`: check, show the plan, apply it only with `--yes` (or a typed `y` on a
//! terminal), verify, and list what changed; `--undo` detaches; `--export` hands it over.
//! The work is the remedy service's (`remedy::Remedy`); this module asks and prints.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::Result;
use tokio::sync::mpsc::{self, UnboundedSender};

use crate::cli::{BadInput, Config};
use crate::engine::{Engine, EngineEvent};
use crate::exit::{self, bad_input, emit};
use crate::remedy::cors::CorsChange;
use crate::remedy::{
    self, AttachTarget, ConfirmedCors, ConfirmedPlan, ConfirmedUndo, Event, Outcome, Plan, Remedy,
    RemedyError, RemedyOptions,
};
use crate::report::{self, Report};

/// What `s3doctor fix` was asked to do.
pub struct FixOptions {
    pub yes: bool,
    pub policy_name: Option<String>,
    pub undo: bool,
    pub export: Option<PathBuf>,
    pub verify_deadline: Duration,
}

pub async fn fix(config: Config, options: FixOptions) -> Result<ExitCode> {
    if let Err(bad) = refuse(&config, &options) {
        return Ok(bad_input(&bad));
    }
    let engine = Engine::new(config.settings, config.run).with_admin(config.admin.clone());
    let remedy_options = RemedyOptions {
        admin: config.admin,
        policy_name: options.policy_name.clone(),
        verify_deadline: options.verify_deadline,
    };
    let remedy = match Remedy::connect(engine.clone(), remedy_options).await {
        Ok(r) => r,
        Err(e) => {
            crate::say!("s3doctor: {e}");
            return Ok(ExitCode::from(exit::FINDINGS));
        }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let code = if options.undo {
        Ok(undo(&remedy, options.yes, &tx).await)
    } else {
        check_and_fix(&engine, &remedy, &options, &tx).await
    };
    drop(tx);
    let _ = drain.await;
    code
}

/// Bad input: no bucket, or a change that nobody can confirm (no `--yes`, no terminal).
fn refuse(config: &Config, options: &FixOptions) -> Result<(), BadInput> {
    if config.run.buckets.is_empty() {
        return Err(BadInput(
            "fix needs --bucket (or S3_BUCKET in the --env-file)".into(),
        ));
    }
    if let Some(path) = &options.export {
        // --export promises that nothing changes; an undo changes IAM and writes no file.
        if options.undo {
            return Err(BadInput(
                "--undo changes IAM and has nothing to export: drop --export (and confirm with --yes or y)".into(),
            ));
        }
        crate::cli::writable_file("--export", path)?;
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !options.yes && options.undo && !interactive {
        return Err(BadInput(
            "fix --undo changes IAM: pass --yes to confirm".into(),
        ));
    }
    if !options.yes && options.export.is_none() && !interactive {
        return Err(BadInput(
            "fix changes IAM: pass --yes to confirm, or --export FILE to write the fix for whoever owns IAM".into(),
        ));
    }
    Ok(())
}

/// Runs every check, fixes CORS first (a bucket setting, not a policy), then shows the plan
/// and applies it once confirmed.
async fn check_and_fix(
    engine: &Engine,
    remedy: &Remedy,
    options: &FixOptions,
    tx: &UnboundedSender<EngineEvent>,
) -> Result<ExitCode> {
    crate::say!("s3doctor: checking…");
    engine.run_all(tx).await;
    let before = Report::from_engine(engine).await;
    if before.diagnosis().ok() {
        crate::say!("s3doctor: nothing to fix: every check passes");
        emit(&report::to_text(&before, false), None)?;
        return Ok(ExitCode::from(exit::OK));
    }
    let (before, cors_md) = match fix_cors(engine, remedy, options, before, tx).await? {
        Cors::Done(code) => return Ok(code),
        Cors::Left { report, export } => (*report, export),
    };
    let plan = match remedy.plan(before.diagnosis()).await {
        Ok(p) => p,
        Err(why) => return no_plan(&why, options, &cors_md, &before),
    };
    crate::say!("{}", describe_plan(&plan));
    if let Some(path) = &options.export {
        std::fs::write(path, format!("{}{cors_md}", plan.export_markdown()))?;
        crate::say!(
            "s3doctor: the fix is written to {} (nothing was changed)",
            path.display()
        );
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    if let Some(why) = &plan.blocked {
        crate::say!("s3doctor: nothing was changed: {why}");
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    let Some(confirmed) = confirm(&plan, options.yes).await else {
        crate::say!("s3doctor: cancelled; nothing was changed");
        return Ok(ExitCode::from(exit::FINDINGS));
    };
    let print = |ev: Event| {
        if let Event::Progress(line) = ev {
            crate::say!("  {line}");
        }
    };
    match remedy.apply(confirmed, tx, &print).await {
        Ok(outcome) => after_apply(engine, remedy, &plan, &outcome).await,
        Err(RemedyError::NoCredentials) => Ok(ExitCode::from(exit::FINDINGS)),
        Err(why) => {
            crate::say!("s3doctor: {why}");
            Ok(ExitCode::from(exit::FINDINGS))
        }
    }
}

/// The person's yes (or `--yes`) for the plan shown: the CLI's one confirmation.
async fn confirm(plan: &Plan, yes: bool) -> Option<ConfirmedPlan> {
    if yes || ask_yes("Apply this plan? [y/N] ").await {
        Some(plan.clone().confirm())
    } else {
        None
    }
}

/// The person's yes (or `--yes`) to `--undo`: the one confirmation of an undo.
async fn confirm_undo(yes: bool) -> Option<ConfirmedUndo> {
    let question =
        "Undo s3doctor's fix (detach its policy, or remove its bucket-policy statements)? [y/N] ";
    (yes || ask_yes(question).await).then(ConfirmedUndo::confirm)
}

/// The person's yes (or `--yes`) for the CORS rule shown: the one confirmation of a CORS
/// change.
async fn confirm_cors(change: CorsChange, yes: bool) -> Option<ConfirmedCors> {
    if yes || ask_yes("Apply the CORS rule? [y/N] ").await {
        Some(change.confirm())
    } else {
        None
    }
}

/// Where the CORS step left the run.
enum Cors {
    /// The run ends here with this code (the CORS rule was the only problem, or no credentials).
    Done(ExitCode),
    /// Problems remain; `export` is the CORS section of the hand-over (with `--export`).
    Left { report: Box<Report>, export: String },
}

/// The CORS rule for `--origin`: exported, or applied after a yes, then re-checked.
async fn fix_cors(
    engine: &Engine,
    remedy: &Remedy,
    options: &FixOptions,
    before: Report,
    tx: &UnboundedSender<EngineEvent>,
) -> Result<Cors> {
    let Some(change) = remedy.cors_change(before.diagnosis()) else {
        return Ok(Cors::Left {
            report: Box::new(before),
            export: String::new(),
        });
    };
    crate::say!("{}", remedy::cors::describe(&change));
    if options.export.is_some() {
        let endpoint = engine.settings().endpoint.as_deref();
        let export = remedy::cors::export_markdown(&change, endpoint);
        return Ok(Cors::Left {
            report: Box::new(before),
            export,
        });
    }
    let Some(confirmed) = confirm_cors(change, options.yes).await else {
        crate::say!("s3doctor: CORS rule not applied");
        return Ok(Cors::Left {
            report: Box::new(before),
            export: String::new(),
        });
    };
    let lines = match remedy.apply_cors(&confirmed, tx).await {
        Ok(lines) => lines,
        Err(_) => return Ok(Cors::Done(ExitCode::from(exit::FINDINGS))),
    };
    for line in lines {
        match line {
            Ok(done) => crate::say!("  {done}"),
            Err(why) => crate::say!("s3doctor: {why}"),
        }
    }
    let after = Report::from_engine(engine).await;
    if after.diagnosis().ok() {
        emit(&report::to_text(&after, false), None)?;
        return Ok(Cors::Done(ExitCode::from(exit::OK)));
    }
    Ok(Cors::Left {
        report: Box::new(after),
        export: String::new(),
    })
}

/// No plan: say why (or write the CORS hand-over, when that is all there is), and report.
fn no_plan(
    why: &RemedyError,
    options: &FixOptions,
    cors_md: &str,
    before: &Report,
) -> Result<ExitCode> {
    if let Some(path) = options.export.as_ref().filter(|_| !cors_md.is_empty()) {
        std::fs::write(path, format!("# Fix S3 access\n\n{cors_md}"))?;
        crate::say!(
            "s3doctor: the fix is written to {} (nothing was changed)",
            path.display()
        );
    } else if let Some(path) = &options.export {
        // Asked for a hand-over and there is none to write: say so, or the file that is (or
        // is not) there passes for one.
        crate::say!("s3doctor: nothing written to {}: {why}", path.display());
    } else {
        crate::say!("s3doctor: {why}");
    }
    emit(&report::to_text(before, false), None)?;
    Ok(ExitCode::from(exit::FINDINGS))
}

/// The report after the change, what changed, and how to undo it.
async fn after_apply(
    engine: &Engine,
    remedy: &Remedy,
    plan: &Plan,
    outcome: &Outcome,
) -> Result<ExitCode> {
    let after = Report::from_engine(engine).await;
    emit(&report::to_text(&after, false), None)?;
    crate::say!("Changed:");
    if outcome.applied.changes.is_empty() {
        crate::say!("  nothing (the policy was already in place and attached)");
    }
    for c in &outcome.applied.changes {
        crate::say!("  - {c}");
    }
    let buckets = engine.run_settings().buckets.join(" --bucket ");
    // The same keys (whose policy to detach), server and admin profile as this fix: without
    // them the command works on whoever the reader's shell is, or not at all.
    let target = format!(
        "{}{}",
        engine.settings().target_flags(),
        remedy
            .admin_profile()
            .map(|p| format!(" --admin-profile {}", crate::aws::shell_word(p)))
            .unwrap_or_default()
    );
    if plan.trust.is_some() {
        crate::say!(
            "Undo with: s3doctor fix --undo --yes --bucket {buckets}{target} (removes only s3doctor's trust statement)"
        );
    } else if plan.bucket_policies.is_empty() {
        crate::say!(
            "Undo with: s3doctor fix --undo --bucket {buckets} --policy-name {}{target}",
            crate::aws::shell_word(&plan.policy_name)
        );
    } else {
        crate::say!(
            "Undo with: s3doctor fix --undo --yes --bucket {buckets}{target} (removes only s3doctor's statements)"
        );
    }
    Ok(ExitCode::from(
        if outcome.verified && after.diagnosis().ok() {
            exit::OK
        } else {
            exit::FINDINGS
        },
    ))
}

/// The plan as text, for standard error.
pub fn describe_plan(plan: &Plan) -> String {
    if !plan.bucket_policies.is_empty() {
        let mut s = format!(
            "\nPlan ({} has no IAM managed policies: the fix is in the bucket policy)\n",
            plan.server.unwrap_or("this server")
        );
        s.push_str(&format!("  acting as  {}\n  calls\n", plan.acting_as));
        for line in plan.call_lines() {
            s.push_str(&format!("    - {line}\n"));
        }
        for c in &plan.caveats {
            s.push_str(&format!("  note: {c}\n"));
        }
        s.push_str(&format!(
            "  statements to add (merged: every statement there is kept)\n{}\n",
            indent(&plan.json, 4)
        ));
        return s;
    }
    let mut s = String::from("\nPlan\n");
    s.push_str(&format!(
        "  policy     {} ({})\n",
        plan.policy_name, plan.policy_arn
    ));
    s.push_str(&format!(
        "  attach to  {}\n",
        plan.target
            .as_ref()
            .map(AttachTarget::describe)
            .unwrap_or_else(|| "nobody (see below)".into())
    ));
    s.push_str(&format!("  acting as  {}\n", plan.acting_as));
    s.push_str("  IAM calls\n");
    for line in plan.call_lines() {
        s.push_str(&format!("    - {line}\n"));
    }
    for c in &plan.caveats {
        s.push_str(&format!("  note: {c}\n"));
    }
    s.push_str(&format!("  policy document\n{}\n", indent(&plan.json, 4)));
    s
}

fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn ask_yes(prompt: &str) -> bool {
    crate::exit::ask(prompt);
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map(|_| line.trim().eq_ignore_ascii_case("y"))
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// `--undo`: after a yes (or `--yes`), what the remedy removed, one line each. Undoing
/// changes IAM (or a bucket policy) too, so it is confirmed like the fix.
async fn undo(remedy: &Remedy, yes: bool, tx: &UnboundedSender<EngineEvent>) -> ExitCode {
    let Some(confirmed) = confirm_undo(yes).await else {
        crate::say!("s3doctor: cancelled; nothing was changed");
        return ExitCode::from(exit::FINDINGS);
    };
    let lines = match remedy.undo(&confirmed, tx).await {
        Ok(lines) => lines,
        Err(RemedyError::NoCredentials) => return ExitCode::from(exit::FINDINGS),
        Err(why) => {
            crate::say!("s3doctor: {why}");
            return ExitCode::from(exit::FINDINGS);
        }
    };
    let mut code = ExitCode::from(exit::OK);
    for line in lines {
        match line {
            Ok(done) => crate::say!("s3doctor: {done}"),
            Err(why) => {
                crate::say!("s3doctor: {why}");
                code = ExitCode::from(exit::FINDINGS);
            }
        }
    }
    code
}
