//! `s3doctor fix`: check, show the plan, apply it only with `--yes` (or a typed `y` on a
//! terminal), verify, and list what changed; `--undo` detaches; `--export` hands it over.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::Result;
use tokio::sync::mpsc;

use super::{AttachTarget, Plan, apply, bucket_policy, plan};
use crate::arn::PrincipalKind;
use crate::aws::{self, Session};
use crate::cli::{BadInput, Config};
use crate::commands::{bad_input, emit, exit};
use crate::engine::{Engine, Unit};
use crate::policy;
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
    let cors_buckets = super::cors::pending(&before);
    let run = engine.run_settings().clone();
    let mut cors_md = String::new();
    let (results, before) = match (&run.origin, cors_buckets.is_empty()) {
        (Some(origin), false) => {
            eprintln!(
                "{}",
                super::cors::describe(&cors_buckets, origin, run.acl.as_deref())
            );
            if export.is_some() {
                cors_md = super::cors::export_markdown(
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
                    match super::cors::apply(&s3, b, origin, run.acl.as_deref()).await {
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
    if let Some(caps) = info.endpoint.as_ref().filter(|c| c.s3_only()) {
        let code = bucket_policy_fix(BucketFix {
            engine: &engine,
            before: &before,
            server: caps.kind.label(),
            admin: admin.as_ref().zip(admin_profile.as_deref()),
            session: session.as_deref(),
            yes,
            export: export.as_deref(),
            verify_deadline,
            tx: &tx,
        })
        .await?;
        drop(tx);
        let _ = drain.await;
        return Ok(code);
    }
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
    let iam = match (&admin, &session) {
        (Some(a), _) => a.clients.iam.clone(),
        (None, Some(s)) => s.clients.iam.clone(),
        (None, None) => return Ok(ExitCode::from(exit::FINDINGS)),
    };
    let progress = |line: String| eprintln!("  {line}");
    let applied = match apply::apply(confirmed, &iam, &progress).await {
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
    eprintln!(
        "Undo with: s3doctor fix --undo --bucket {} --policy-name {}",
        after.target.buckets.join(" --bucket "),
        plan.policy_name
    );
    Ok(ExitCode::from(if verified && after.ok {
        exit::OK
    } else {
        exit::FINDINGS
    }))
}

/// The plan as text, for standard error.
pub fn describe_plan(plan: &Plan) -> String {
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

/// What `fix` needs on a server without IAM managed policies.
struct BucketFix<'a> {
    engine: &'a Engine,
    before: &'a Report,
    server: &'static str,
    /// The admin session and its profile name (on RGW: the bucket owner's keys).
    admin: Option<(&'a Session, &'a str)>,
    session: Option<&'a Session>,
    yes: bool,
    export: Option<&'a std::path::Path>,
    verify_deadline: Duration,
    tx: &'a mpsc::UnboundedSender<crate::engine::EngineEvent>,
}

/// The fix on a server without IAM managed policies (Ceph RGW, R2, …): a statement pair in
/// each failing bucket's policy, shown, written only after confirmation, verified.
async fn bucket_policy_fix(f: BucketFix<'_>) -> Result<ExitCode> {
    let run = f.engine.run_settings();
    let mut buckets: Vec<String> = f
        .before
        .findings
        .iter()
        .filter(|x| x.code.is_fixable_by_policy())
        .filter_map(|x| x.bucket.clone())
        .collect();
    buckets.dedup();
    if buckets.is_empty() {
        eprintln!(
            "s3doctor: no missing permission to add: the failures are not fixed by a policy (see each finding's fix)"
        );
        emit(&report::to_text(f.before, false), None)?;
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    let Some(identity) = f.before.identity_full.as_ref() else {
        eprintln!(
            "s3doctor: the principal is unknown (the identity step did not pass), so there is no one to grant access to; --expect-principal NAME names it"
        );
        return Ok(ExitCode::from(exit::FINDINGS));
    };
    let p = &identity.principal;
    let (writer, acting_as) = match (f.admin, f.session) {
        (Some((s, profile)), _) => (s, format!("--admin-profile {profile}")),
        (None, Some(s)) => (s, format!("the diagnosed credentials ({})", p.arn)),
        (None, None) => return Ok(ExitCode::from(exit::FINDINGS)),
    };
    let prefix = run.prefix_scoped.then_some(run.prefix.as_str());
    let mut plans = Vec::new();
    let mut blocked = Vec::new();
    for bucket in &buckets {
        let statements =
            bucket_policy::statements(bucket, &p.arn, &p.name, run.access, run.read_only, prefix);
        let existing = match bucket_policy::read(&writer.clients.s3, bucket).await {
            Ok(current) => current.as_deref().map(bucket_policy::count).transpose(),
            Err(why) => Err(why),
        };
        match existing {
            Ok(n) => plans.push(bucket_policy::BucketPlan {
                bucket: bucket.clone(),
                principal_arn: p.arn.clone(),
                statements,
                existing: n.unwrap_or(0),
            }),
            Err(why) => {
                blocked.push(format!("{bucket}: {why}"));
                plans.push(bucket_policy::BucketPlan {
                    bucket: bucket.clone(),
                    principal_arn: p.arn.clone(),
                    statements,
                    existing: 0,
                });
            }
        }
    }
    let mut text = format!(
        "\nPlan ({} has no IAM managed policies: the fix is in the bucket policy)\n  acting as  {acting_as}\n",
        f.server
    );
    for plan in &plans {
        text.push_str(&plan.describe());
        text.push('\n');
    }
    eprintln!("{text}");
    if let Some(path) = f.export {
        std::fs::write(
            path,
            bucket_export(&plans, f.engine.settings().endpoint.as_deref(), f.server),
        )?;
        eprintln!(
            "s3doctor: the fix is written to {} (nothing was changed)",
            path.display()
        );
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    if !blocked.is_empty() {
        eprintln!(
            "s3doctor: nothing was changed: the bucket policy cannot be read with {acting_as} ({}). On {} the bucket owner's keys can: --admin-profile OWNER, or --export FILE for whoever owns the bucket",
            blocked.join("; "),
            f.server
        );
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    if !(f.yes || ask_yes("Apply this plan? [y/N] ").await) {
        eprintln!("s3doctor: cancelled; nothing was changed");
        return Ok(ExitCode::from(exit::FINDINGS));
    }
    let mut changes = Vec::new();
    for plan in plans {
        match bucket_policy::apply(plan.confirm(), &writer.clients.s3).await {
            Ok(c) => {
                eprintln!("  {c}");
                changes.push(c);
            }
            Err(why) => {
                eprintln!("s3doctor: {why}");
                for c in &changes {
                    eprintln!("  already done: {c}");
                }
                return Ok(ExitCode::from(exit::FINDINGS));
            }
        }
    }
    let results = f.engine.results().await;
    let rows = plan::verify_rows(f.engine, &results);
    let progress = |line: String| eprintln!("  {line}");
    let verified = apply::verify(f.engine, &rows, f.verify_deadline, f.tx, &progress).await;
    let after = Report::from_engine(f.engine).await;
    emit(&report::to_text(&after, false), None)?;
    eprintln!("Changed:");
    for c in &changes {
        eprintln!("  - {c}");
    }
    eprintln!(
        "Undo with: s3doctor fix --undo --bucket {}{} --endpoint-url {}",
        buckets.join(" --bucket "),
        f.admin
            .map(|(_, profile)| format!(" --admin-profile {profile}"))
            .unwrap_or_default(),
        f.engine.settings().endpoint.as_deref().unwrap_or_default()
    );
    Ok(ExitCode::from(if verified && after.ok {
        exit::OK
    } else {
        exit::FINDINGS
    }))
}

/// The hand-over for whoever owns the buckets, with the commands for that server.
fn bucket_export(
    plans: &[bucket_policy::BucketPlan],
    endpoint: Option<&str>,
    server: &str,
) -> String {
    let flag = endpoint
        .map(|e| format!(" --endpoint-url {e}"))
        .unwrap_or_default();
    let mut md = format!(
        "# Fix S3 access on {server}\n\n{server} has no IAM managed policies: access is granted with statements in the bucket policy, written with the bucket owner's keys. Keep every statement that is already there.\n\n"
    );
    for plan in plans {
        let statements =
            serde_json::to_string_pretty(&serde_json::Value::Array(plan.statements.clone()))
                .unwrap_or_default();
        md.push_str(&format!(
            "## Bucket {b}\n\nAdd these statements (for {who}) to the `Statement` list of the bucket's policy:\n\n```json\n{statements}\n```\n\n```bash\naws s3api get-bucket-policy --bucket {b}{flag} --query Policy --output text > policy.json   # none yet: start from {{\"Version\": \"2012-10-17\", \"Statement\": []}}\n# add the statements above to policy.json, then:\naws s3api put-bucket-policy --bucket {b} --policy file://policy.json{flag}\n```\n\n",
            b = plan.bucket,
            who = plan.principal_arn,
        ));
    }
    md.push_str("## Verify\n\n```bash\n");
    for plan in plans {
        md.push_str(&format!("s3doctor check --bucket {}{flag}\n", plan.bucket));
    }
    md.push_str("```\n");
    md
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
    let arn = format!("arn:{}:iam::{}:policy/{name}", p.partition, p.account);
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
