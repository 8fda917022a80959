//! Gets the keys from the provider the plan chose, as the app's SDK would: static keys as they
//! are, a role profile's chain hop by hop and web identity through the chain's own STS calls
//! (so that `--endpoint-url` reaches them), SSO and credential processes through aws-config's
//! own providers, the container endpoint and instance metadata with short timeouts. Each
//! failure is said in the words of [`CredentialsFailure`], never as an SDK debug dump.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;

use super::assume::{RoleAsk, WebIdentityAsk, assume_role, assume_with_web_identity};
use super::chain::{Origin, Plan, ProfileBy, Source};
use super::failure::CredentialsFailure;
use super::profiles::{Base, ChainError, ProfileChain};
use crate::aws::{AssumedRole, Settings, error_chain, fast_imds, key_hint};
use crate::finding::FindingCode;

/// Credentials that resolved, where they came from, and the roles assumed on the way.
pub struct Resolved {
    pub creds: Credentials,
    pub source: String,
    pub assumed: Vec<AssumedRole>,
}

/// Credentials, and who they are in words (what the next hop names as the one who asked).
type Got = (Credentials, String);

/// Resolves the plan's chosen provider.
pub async fn resolve(
    plan: &Plan,
    settings: &Settings,
    region: Option<&str>,
) -> Result<Resolved, CredentialsFailure> {
    let Some(source) = plan.chosen() else {
        return Err(nothing_configured(plan));
    };
    let done = |creds, assumed| Resolved {
        creds,
        source: source.short(),
        assumed,
    };
    match source {
        Source::EnvKeys {
            key_id,
            secret,
            token,
            origin,
        } => {
            let provider = match origin {
                Origin::Environment => "EnvironmentVariable",
                Origin::EnvFile(_) => "EnvFile",
            };
            let token = token.as_ref().map(|t| t.expose().to_owned());
            let creds = Credentials::new(key_id, secret.expose(), token, None, provider);
            Ok(done(creds, Vec::new()))
        }
        Source::Profile { name, by, chain } => {
            let chain = usable_chain(plan, name, by, chain)?;
            let (creds, assumed) = profile_chain(plan, settings, region, chain).await?;
            Ok(done(creds, assumed))
        }
        Source::WebIdentity {
            role_arn,
            token_file,
            session_name,
            origin,
        } => {
            let ask = WebIdentityAsk {
                role_arn: role_arn.clone(),
                token_file: token_file.clone(),
                session_name: session_name
                    .clone()
                    .unwrap_or_else(|| default_session_name("web-identity-token")),
                via: format!("AWS_ROLE_ARN in {}", origin.describe()),
            };
            let (creds, assumed) = assume_with_web_identity(settings, region, &ask).await?;
            Ok(done(creds, vec![assumed]))
        }
        Source::Container { var, uri, origin } => {
            let creds = container(var, uri, origin, settings).await?;
            Ok(done(creds, Vec::new()))
        }
        Source::Instance => {
            let creds = instance()
                .await
                .map_err(|why| instance_missing(plan, &why))?;
            Ok(done(creds, Vec::new()))
        }
    }
}

/// The profile's chain, or why it cannot give one.
fn usable_chain<'a>(
    plan: &Plan,
    name: &str,
    by: &ProfileBy,
    chain: &'a Result<ProfileChain, ChainError>,
) -> Result<&'a ProfileChain, CredentialsFailure> {
    let provider = format!("profile {name} ({})", by.describe());
    match chain {
        Ok(c) => Ok(c),
        Err(ChainError::Missing(_)) => Err(CredentialsFailure::provider(
            provider,
            plan.files.not_found(name, &by.describe()),
            "Name a profile that exists (`aws configure list-profiles`), or create it with `aws configure --profile NAME`.",
        )),
        Err(e) => Err(CredentialsFailure::provider(
            provider,
            e.to_string(),
            format!(
                "Fix the profile in {} or {}.",
                plan.files.config.path.display(),
                plan.files.credentials.path.display()
            ),
        )),
    }
}

/// The base, then each role on top of it.
async fn profile_chain(
    plan: &Plan,
    settings: &Settings,
    region: Option<&str>,
    chain: &ProfileChain,
) -> Result<(Credentials, Vec<AssumedRole>), CredentialsFailure> {
    let (mut creds, mut who, mut assumed) = base(plan, settings, region, &chain.base).await?;
    for hop in &chain.roles {
        let ask = RoleAsk {
            role_arn: hop.role_arn.clone(),
            external_id: hop.external_id.clone(),
            session_name: hop
                .session_name
                .clone()
                .unwrap_or_else(|| default_session_name("assume-role-from-profile")),
            via: format!("profile {}", hop.profile),
            by: who,
        };
        let (next, role) = assume_role(settings, region, creds, &ask).await?;
        who = format!("session {} of {}", role.session_name, role.role_arn);
        creds = next;
        assumed.push(role);
    }
    Ok((creds, assumed))
}

/// A chain's base: its credentials, who they are, and the role of a web identity base.
async fn base(
    plan: &Plan,
    settings: &Settings,
    region: Option<&str>,
    base: &Base,
) -> Result<(Credentials, String, Vec<AssumedRole>), CredentialsFailure> {
    let got: Got = match base {
        Base::Keys { keys, .. } => (
            Credentials::new(
                &keys.access_key_id,
                keys.secret_access_key.expose(),
                keys.session_token.as_ref().map(|t| t.expose().to_owned()),
                None,
                "ProfileFile",
            ),
            base.describe(),
        ),
        Base::Named { profile, source } => named_source(plan, settings, profile, source).await?,
        Base::WebIdentity {
            profile,
            role_arn,
            token_file,
            session_name,
        } => {
            let ask = WebIdentityAsk {
                role_arn: role_arn.clone(),
                token_file: token_file.clone(),
                session_name: session_name
                    .clone()
                    .unwrap_or_else(|| default_session_name("web-identity-token")),
                via: format!("profile {profile}"),
            };
            let (creds, role) = assume_with_web_identity(settings, region, &ask).await?;
            let who = format!("session {} of {}", role.session_name, role.role_arn);
            return Ok((creds, who, vec![role]));
        }
        Base::Sso { profile } | Base::Process { profile } => sdk_profile(base, profile).await?,
    };
    Ok((got.0, got.1, Vec::new()))
}

/// `credential_source = Environment | Ec2InstanceMetadata | EcsContainer`.
async fn named_source(
    plan: &Plan,
    settings: &Settings,
    profile: &str,
    source: &str,
) -> Result<Got, CredentialsFailure> {
    let provider = format!("credential_source {source} of profile {profile}");
    match source {
        "Environment" => {
            let (Some(id), Some(secret)) = (
                plan.vars.get("AWS_ACCESS_KEY_ID"),
                plan.vars.get("AWS_SECRET_ACCESS_KEY"),
            ) else {
                return Err(CredentialsFailure::provider(
                    provider,
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
                    "Set the keys the role is assumed with in the environment, or use source_profile instead.",
                ));
            };
            let token = plan.vars.get("AWS_SESSION_TOKEN").map(str::to_owned);
            let creds = Credentials::new(id, secret, token, None, "EnvironmentVariable");
            Ok((creds, format!("the environment's keys ({})", key_hint(id))))
        }
        "Ec2InstanceMetadata" => instance()
            .await
            .map(|c| (c, "the instance role".to_owned()))
            .map_err(|why| {
                CredentialsFailure::provider(
                    provider,
                    format!("instance metadata (169.254.169.254) did not answer: {why}"),
                    "Instance metadata answers only on EC2: run s3doctor there, or use source_profile.",
                )
            }),
        "EcsContainer" => {
            let Some(Source::Container { var, uri, origin }) = super::chain::container_of(&plan.vars)
            else {
                return Err(CredentialsFailure::provider(
                    provider,
                    "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor …_FULL_URI is set",
                    "It answers only inside an ECS task or an EKS pod with Pod Identity: run s3doctor there.",
                ));
            };
            container(var, &uri, &origin, settings)
                .await
                .map(|c| (c, "the container's role".to_owned()))
        }
        other => Err(CredentialsFailure::provider(
            provider,
            format!("{other} is not a credential source (Environment, Ec2InstanceMetadata or EcsContainer)"),
            "Fix credential_source in the profile.",
        )),
    }
}

/// SSO and credential processes, through aws-config's profile provider for that profile.
async fn sdk_profile(base: &Base, profile: &str) -> Result<Got, CredentialsFailure> {
    let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
        .profile_name(profile)
        .build();
    match provider.provide_credentials().await {
        Ok(creds) => Ok((creds, base.describe())),
        Err(err) => {
            let why = error_chain(&err);
            Err(match base {
                Base::Sso { .. } => CredentialsFailure::provider(
                    format!("SSO (profile {profile})"),
                    why,
                    format!(
                        "Sign in again: `aws sso login --profile {profile}` (an IAM Identity Center session lasts 8 hours by default), then check again."
                    ),
                ),
                _ => CredentialsFailure::provider(
                    format!("credential_process of profile {profile}"),
                    why,
                    "Run the profile's credential_process command by hand: it must print the keys as JSON (Version 1) and exit 0.",
                ),
            })
        }
    }
}

/// The container credentials endpoint (ECS task role, EKS Pod Identity).
async fn container(
    var: &str,
    uri: &str,
    origin: &Origin,
    settings: &Settings,
) -> Result<Credentials, CredentialsFailure> {
    let provider = format!("the container credentials endpoint {uri} ({var})");
    let only_there = "It answers only inside an ECS task (the task role) or an EKS pod with Pod Identity: run s3doctor there, or check as the task's role from here with --role-arn and your own credentials.";
    if let Origin::EnvFile(path) = origin {
        return Err(CredentialsFailure::provider(
            provider,
            format!(
                "{var} comes from env file {}, and this machine is not that container",
                path.display()
            ),
            only_there,
        ));
    }
    let timeout = settings.attempt_timeout().min(Duration::from_secs(3));
    let ecs = aws_config::ecs::EcsCredentialsProvider::builder()
        .connect_timeout(timeout)
        .read_timeout(timeout)
        .build();
    ecs.provide_credentials().await.map_err(|err| {
        CredentialsFailure::provider(
            provider,
            format!("no credentials: {}", error_chain(&err)),
            only_there,
        )
    })
}

/// The instance role, from instance metadata (a quick give-up off EC2).
async fn instance() -> Result<Credentials, String> {
    let imds = aws_config::imds::credentials::ImdsCredentialsProvider::builder()
        .imds_client(fast_imds())
        .build();
    imds.provide_credentials()
        .await
        .map_err(|err| error_chain(&err))
}

/// Nothing configured, and instance metadata did not answer either.
fn instance_missing(plan: &Plan, why: &str) -> CredentialsFailure {
    let mut failure = nothing_configured(plan);
    failure.detail = format!(
        "{}; instance metadata (169.254.169.254) did not answer: {why} (it answers only on EC2)",
        failure.detail
    );
    failure.why = failure.detail.clone();
    failure
}

/// `credentials.missing`: no provider of the chain is configured.
fn nothing_configured(plan: &Plan) -> CredentialsFailure {
    let mut detail =
        "no credentials configured: no AWS_ACCESS_KEY_ID in the environment".to_owned();
    match plan.missing_var_profile() {
        Some((name, by)) => detail.push_str(&format!(
            ", {} (set by {})",
            plan.files.not_found(name, &by.describe()),
            by.describe()
        )),
        None => detail.push_str(&format!(
            ", no profile in {} or {}",
            plan.files.config.path.display(),
            plan.files.credentials.path.display()
        )),
    }
    detail.push_str(
        ", no AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, no AWS_CONTAINER_CREDENTIALS_*",
    );
    CredentialsFailure::plain(FindingCode::CredentialsMissing, detail)
}

/// `PREFIX-MILLIS`, the SDKs' default session names when the profile names none.
fn default_session_name(prefix: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    format!("{prefix}-{millis}")
}
