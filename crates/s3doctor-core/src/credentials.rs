//! The credential chain as the app's SDK walks it: which provider supplies the keys and why
//! (`chain`, from the environment, the `--env-file` and the shared files of `profiles`), getting
//! them (`resolve`) with the chain's own STS calls sent where the run's are — `--endpoint-url`
//! reaches a role profile's AssumeRole, web identity and `--role-arn` too (`assume`) — and every
//! way it fails, each with its finding code and AWS's words in fields (`failure`).

pub mod assume;
pub mod chain;
mod failure;
pub mod profiles;
mod resolve;

use std::time::Duration;

pub use chain::Plan;
pub use failure::{CredentialsFailure, Refusal};

use crate::aws::{self, Session, Settings};
use crate::finding::FindingCode;

/// The session name of `--role-arn` unless `--role-session-name` gives one.
pub use crate::aws::ROLE_SESSION_NAME;

/// Reads the plan, resolves the credentials and builds the clients, within a deadline.
pub async fn connect(settings: &Settings) -> Result<Session, CredentialsFailure> {
    let plan = Plan::read(settings).await;
    connect_planned(settings, &plan, None).await
}

/// [`connect`] with the plan already read (the credentials step explains it too); `admin`
/// (`--admin-profile`) reads a refused `--role-arn`'s real ARN when the credentials may not.
pub async fn connect_planned(
    settings: &Settings,
    plan: &Plan,
    admin: Option<&Settings>,
) -> Result<Session, CredentialsFailure> {
    let deadline = settings
        .attempt_timeout()
        .saturating_mul(3)
        .max(Duration::from_secs(5));
    match tokio::time::timeout(deadline, connect_inner(settings, plan, admin)).await {
        Ok(result) => result,
        Err(_) => Err(CredentialsFailure::plain(
            FindingCode::ProviderFailed,
            format!(
                "resolving credentials took longer than {}s",
                deadline.as_secs()
            ),
        )),
    }
}

async fn connect_inner(
    settings: &Settings,
    plan: &Plan,
    admin: Option<&Settings>,
) -> Result<Session, CredentialsFailure> {
    let region = aws::resolve_region(settings).await;
    let resolved = resolve::resolve(plan, settings, region.0.as_deref()).await?;
    let mut assumed = resolved.assumed;
    let mut creds = resolved.creds;
    let mut source = resolved.source;
    if let Some(role) = &settings.role {
        let by = match assumed.last() {
            Some(last) => format!("session {} of {}", last.session_name, last.role_arn),
            None => format!("{} ({})", source, aws::key_hint(creds.access_key_id())),
        };
        let ask = assume::RoleAsk {
            role_arn: role.role_arn.clone(),
            external_id: role.external_id.clone(),
            session_name: role.session_name.clone(),
            via: "--role-arn".to_owned(),
            by,
        };
        let (next, role) =
            assume::assume_role_reading(settings, region.0.as_deref(), creds, &ask, admin).await?;
        source = format!("{source}, then --role-arn");
        creds = next;
        assumed.push(role);
    }
    Ok(aws::session(settings, region, creds, source, assumed).await)
}

/// The profiles named for this run that neither file defines, each as one line for exit 2:
/// `--profile`, `--admin-profile`, and `AWS_PROFILE` when the SDK would use it (no keys in the
/// environment before it).
pub async fn missing_profiles(app: &Settings, admin: Option<&Settings>) -> Vec<String> {
    let mut lines = Vec::new();
    let plan = Plan::read(app).await;
    if app.profile_only
        && let Some(p) = &app.profile
        && !plan.files.has(p)
    {
        lines.push(plan.files.not_found(p, "--profile"));
    }
    if !app.profile_only
        && matches!(
            plan.chosen(),
            Some(chain::Source::Profile { .. }) | Some(chain::Source::Instance) | None
        )
        && let Some((name, by)) = plan.missing_var_profile()
    {
        lines.push(plan.files.not_found(name, &by.describe()));
    }
    if let Some(admin) = admin
        && let Some(p) = &admin.profile
        && !plan.files.has(p)
    {
        lines.push(plan.files.not_found(p, "--admin-profile"));
    }
    lines
}

/// The roles the chain assumes for these settings, in order: a role profile's `role_arn`s,
/// then `--role-arn` (what `fix --undo` looks at for s3doctor's trust statements).
pub async fn assumed_roles(settings: &Settings) -> Vec<String> {
    let plan = Plan::read(settings).await;
    let mut roles: Vec<String> = match plan.chosen() {
        Some(chain::Source::Profile { chain: Ok(c), .. }) => {
            c.roles.iter().map(|r| r.role_arn.clone()).collect()
        }
        _ => Vec::new(),
    };
    roles.extend(settings.role.iter().map(|r| r.role_arn.clone()));
    roles
}
