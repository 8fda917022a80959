//! `s3doctor fix`: check, show the plan, apply it only with `--yes` (or a typed `y` on a
//! terminal), verify, and list what changed; `--undo` detaches; `--export` hands it over.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use crate::arn::PrincipalKind;
use crate::aws::{self, Session};
use crate::cli::{BadInput, Config};
use crate::engine::{Engine, Unit};
use crate::exit::{self, bad_input, emit};
use crate::policy;
use crate::remedy::{AttachTarget, Plan, apply, bucket_policy, plan};
use crate::report::{self, Report};
use crate::runbook::StepId;

/// How long verification keeps trying by default (IAM is eventually consistent).
pub const VERIFY_DEADLINE: Duration = Duration::from_secs(60);

/// What `s3doctor fix` was asked to do.
pub struct FixOptions {
    pub yes: bool,
    pub policy_name: Option<String>,
    pub undo: bool,
    pub export: Option<PathBuf>,
    pub verify_deadline: Duration,
}

pub async fn fix(config: Config, options: FixOptions) -> Result<ExitCode> {
    let FixOptions {
        yes,
        policy_name,
        undo,
        export,
        verify_deadline,
    } = options;
    if config.run.buckets.is_empty() {
        return Ok(bad_input(&BadInput(
            "fix needs --bucket (or S3_BUCKET in the --env-file)".into(),
        )));
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !yes && export.is_none() && !interactive {
        return Ok(bad_input(&BadInput(
            "fix changes IAM: pass --yes to confirm, or --export FILE to write the fix for whoever owns IAM".into(),
        )));
    }
    let admin = match &config.admin {
        Some(settings) => match aws::connect(settings).await {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!(
                    "s3doctor: the admin profile has no usable credentials: {}",
                    e.detail
                );
                return Ok(ExitCode::from(exit::FINDINGS));
            }
        },
        None => None,
    };
    let admin_profile = config.admin.as_ref().and_then(|a| a.profile.clone());
    let engine = Engine::new(config.settings, config.run).with_admin(config.admin.clone());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    if undo {
        let code = undo_fix(&engine, admin.as_ref(), policy_name, &tx).await;
        drop(tx);
        let _ = drain.await;
        return Ok(code);
    }
    eprintln!("s3doctor: checking…");
    engine.run_all(&tx).await;
    let results = engine.results().await;
    let session = engine.session().await;
    let info = engine.session_info().await;
    let before = Report::from_engine(&engine).await;
    if before.ok {
        eprintln!("s3doctor: nothing to fix: every check passes");
        emit(&report::to_text(&before, false), None)?;
        return Ok(ExitCode::from(exit::OK));
    }
    // CORS first: its fix is a bucket setting, not an IAM policy.
    let cors_buckets = crate::remedy::cors::pending(&before);
    let run = engine.run_settings().clone();
    let mut cors_md = String::new();
    let (results, before) = match (&run.origin, cors_buckets.is_empty()) {
        (Some(origin), false) => {
            eprintln!(
                "{}",
                crate::remedy::cors::describe(&cors_buckets, origin, run.acl.as_deref())
            );
            if export.is_some() {
                cors_md = crate::remedy::cors::export_markdown(
                    &cors_buckets,
                    origin,
                    run.acl.as_deref(),
                    engine.settings().endpoint.as_deref(),
                );
                (results, before)
            } else if yes || ask_yes("Apply the CORS rule? [y/N] ").await {
                let s3 = match (&admin, &session) {
                    (Some(a), _) => a.clients.s3.clone(),
                    (None, Some(s)) => s.clients.s3.clone(),
                    (None, None) => return Ok(ExitCode::from(exit::FINDINGS)),
                };
                for b in &cors_buckets {
                    match crate::remedy::cors::apply(&s3, b, origin, run.acl.as_deref()).await {
                        Ok(done) => eprintln!("  {done}"),
                        Err(why) => eprintln!("s3doctor: {why}"),
                    }
                }
                let units: Vec<Unit> = cors_buckets
                    .iter()
                    .map(|b| Unit::for_bucket(StepId::Cors, b))
                    .collect();
                engine.run(&units, &tx).await;
                let after = Report::from_engine(&engine).await;
                if after.ok {
                    emit(&report::to_text(&after, false), None)?;
                    return Ok(ExitCode::from(exit::OK));
                }
                (engine.results().await, after)
            } else {
                eprintln!("s3doctor: CORS rule not applied");
                (results, before)
            }
        }
        _ => (results, before),
    };
    let prepared = plan::prepare(plan::Inputs {
        engine: &engine,
        results: &results,
        identity: info.identity.as_ref(),
        session: session.as_deref(),
        admin: admin_profile.as_deref().zip(admin.as_ref()),
        policy_name,
    })
    .await;
    let plan = match prepared {
        Ok(p) => p,
        Err(why) => {
            if let Some(path) = export.as_ref().filter(|_| !cors_md.is_empty()) {
                std::fs::write(path, format!("# Fix S3 access\n\n{cors_md}"))?;
                eprintln!(
                    "s3doctor: the fix is written to {} (nothing was changed)",
                    path.display()
                );
            } else {
                eprintln!("s3doctor: {why}");
            }
            emit(&report::to_text(&before, false), None)?;
            return Ok(ExitCode::from(exit::FINDINGS));
        }
    };
    eprintln!("{}", describe_plan(&plan));
    if let Some(path) = &export {
        std::fs::write(path, format!("{}{cors_md}", plan.export_markdown()))?;
        eprintln!(
            "s3doctor: the fix is written to {} (nothing was changed)",
            path.display()
        );
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    if let Some(why) = &plan.blocked {
        eprintln!("s3doctor: nothing was changed: {why}");
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    let confirmed = if yes || ask_yes("Apply this plan? [y/N] ").await {
        plan.clone().confirm()
    } else {
        eprintln!("s3doctor: cancelled; nothing was changed");
        return Ok(ExitCode::from(exit::FINDINGS));
    };
    let Some(writer) = admin.as_ref().or(session.as_deref()) else {
        return Ok(ExitCode::from(exit::FINDINGS));
    };
    let progress = |line: String| eprintln!("  {line}");
    let applying = if plan.bucket_policies.is_empty() {
        apply::apply(confirmed, &writer.clients.iam, &progress).await
    } else {
        apply::apply_bucket_policies(confirmed, &writer.clients.s3, &progress).await
    };
    let applied = match applying {
        Ok(a) => a,
        Err(why) => {
            eprintln!("s3doctor: {why}");
            return Ok(ExitCode::from(exit::FINDINGS));
        }
    };
    let verified = apply::verify(&engine, &plan.verify, verify_deadline, &tx, &progress).await;
    drop(tx);
    let _ = drain.await;
    let after = Report::from_engine(&engine).await;
    emit(&report::to_text(&after, false), None)?;
    eprintln!("Changed:");
    if applied.changes.is_empty() {
        eprintln!("  nothing (the policy was already in place and attached)");
    }
    for c in &applied.changes {
        eprintln!("  - {c}");
    }
    if plan.bucket_policies.is_empty() {
        eprintln!(
            "Undo with: s3doctor fix --undo --bucket {} --policy-name {}",
            after.target.buckets.join(" --bucket "),
            plan.policy_name
        );
    } else {
        eprintln!(
            "Undo with: s3doctor fix --undo --yes --bucket {}{} (removes only s3doctor's statements)",
            after.target.buckets.join(" --bucket "),
            admin_profile
                .as_deref()
                .map(|p| format!(" --admin-profile {p}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::from(if verified && after.ok {
        exit::OK
    } else {
        exit::FINDINGS
    }))
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
        s.push_str(&format!("  statements\n{}\n", indent(&plan.json, 4)));
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
    eprint!("{prompt}");
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

async fn undo_fix(
    engine: &Engine,
    admin: Option<&Session>,
    policy_name: Option<String>,
    tx: &mpsc::UnboundedSender<crate::engine::EngineEvent>,
) -> ExitCode {
    engine.run(&[Unit::global(StepId::Identity)], tx).await;
    let info = engine.session_info().await;
    let Some(identity) = info.identity else {
        eprintln!(
            "s3doctor: cannot undo: the principal is unknown (the identity step did not pass)"
        );
        return ExitCode::from(exit::FINDINGS);
    };
    let p = &identity.principal;
    if let Some(caps) = info.endpoint.as_ref().filter(|c| c.s3_only()) {
        let session = engine.session().await;
        let Some(s3) = admin
            .map(|a| a.clients.s3.clone())
            .or_else(|| session.as_ref().map(|s| s.clients.s3.clone()))
        else {
            return ExitCode::from(exit::FINDINGS);
        };
        let mut code = ExitCode::from(exit::OK);
        for bucket in &engine.run_settings().buckets {
            match bucket_policy::undo(&s3, bucket, &p.name).await {
                Ok(done) => eprintln!("s3doctor: {done} ({})", caps.kind.label()),
                Err(why) => {
                    eprintln!("s3doctor: {why}");
                    code = ExitCode::from(exit::FINDINGS);
                }
            }
        }
        return code;
    }
    let target = match p.kind {
        PrincipalKind::User => AttachTarget::User(p.name.clone()),
        PrincipalKind::AssumedRole | PrincipalKind::Role => AttachTarget::Role(p.name.clone()),
        _ => {
            eprintln!("s3doctor: {} cannot carry a policy; nothing to undo", p.arn);
            return ExitCode::from(exit::FINDINGS);
        }
    };
    let run = engine.run_settings();
    let name = policy_name.unwrap_or_else(|| policy::default_policy_name(&run.buckets, run.access));
    let arn = p.policy_arn(&name);
    let session = engine.session().await;
    let iam = match (admin, session.as_deref()) {
        (Some(a), _) => a.clients.iam.clone(),
        (None, Some(s)) => s.clients.iam.clone(),
        (None, None) => return ExitCode::from(exit::FINDINGS),
    };
    match apply::undo(&iam, &target, &arn).await {
        Ok(done) => {
            eprintln!("s3doctor: {done}");
            ExitCode::from(exit::OK)
        }
        Err(why) => {
            eprintln!("s3doctor: {why}");
            ExitCode::from(exit::FINDINGS)
        }
    }
}
