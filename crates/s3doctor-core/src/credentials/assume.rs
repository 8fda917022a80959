//! The chain's own STS calls, each one round trip to the run's endpoint: AssumeRole with the
//! credentials before it (a role profile's `role_arn`, `--role-arn`), and
//! AssumeRoleWithWebIdentity with a token file (EKS IRSA), whose token is read and checked
//! here first, so that a missing, unreadable or expired token is said as such.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use super::failure::{CredentialsFailure, StsAsk, from_sts};
use crate::answers;
use crate::arn::{self, PrincipalKind};
use crate::aws::{AssumedRole, Settings, chain_iam, chain_sts};
use crate::operation::Operation;

/// A role to assume and how it was named.
#[derive(Clone, Debug)]
pub struct RoleAsk {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
    /// `profile app`, `--role-arn`.
    pub via: String,
    /// The credentials it is assumed with, in words.
    pub by: String,
}

/// AssumeRole with `creds`: the role's session, and who assumed what.
///
/// A role with a path (`role/service/app`) has no other ARN: asked by one without it (as a
/// session's ARN names its role, `assumed-role/app/…`), STS refuses as if the caller were not
/// trusted. (The session ARN is `assumed-role/${RoleName}/${RoleSessionName}`, IAM's service
/// authorization reference, while AssumeRole needs the full ARN, path included: alphagov/gsp
/// pull request 336; kubernetes-sigs/aws-iam-authenticator pull request 144 learns it the same
/// way, with GetRole.) So a refusal asks IAM's GetRole for the role by its name, with the same
/// credentials, and assumes it again by the ARN IAM names when that is another; when IAM
/// cannot be read and the ARN names no path, the refusal says that the path is not known.
/// Only a refusal costs these calls: a role assumed at once is still one round trip.
pub async fn assume_role(
    settings: &Settings,
    region: Option<&str>,
    creds: Credentials,
    ask: &RoleAsk,
) -> Result<(Credentials, AssumedRole), CredentialsFailure> {
    assume_role_reading(settings, region, creds, ask, None).await
}

/// [`assume_role`], asking GetRole with `admin` (`--admin-profile`) too when the credentials
/// that asked may not read IAM.
pub async fn assume_role_reading(
    settings: &Settings,
    region: Option<&str>,
    creds: Credentials,
    ask: &RoleAsk,
    admin: Option<&Settings>,
) -> Result<(Credentials, AssumedRole), CredentialsFailure> {
    let sts = chain_sts(settings, region, Some(creds.clone())).await;
    let refusal = match assume_role_on(&sts, ask).await {
        Err(failure) if failure.refused.is_some() => failure,
        answer => return answer,
    };
    let Some(role) = arn::parse_principal(&ask.role_arn)
        .ok()
        .filter(|p| p.kind == PrincipalKind::Role)
    else {
        return Err(refusal);
    };
    let iam = chain_iam(settings, region, creds).await;
    match real_arn(&iam, &role.name, admin).await {
        Ok(Some(real)) if real != ask.role_arn => {
            let again = RoleAsk {
                role_arn: real,
                ..ask.clone()
            };
            let (creds, mut assumed) = assume_role_on(&sts, &again).await?;
            assumed.asked_as = Some(ask.role_arn.clone());
            Ok((creds, assumed))
        }
        Err(why) if role.path.is_none() => Err(refusal.path_not_known(&role.name, &why)),
        _ => Err(refusal),
    }
}

/// The role's ARN as IAM's GetRole names it: with `iam` (the credentials that asked), else
/// with the admin profile's; `Err` with how the last reader failed.
async fn real_arn(
    iam: &aws_sdk_iam::Client,
    name: &str,
    admin: Option<&Settings>,
) -> Result<Option<String>, String> {
    let own = role_arn_named(iam, name).await;
    let Some(admin) = admin.filter(|_| own.is_err()) else {
        return own;
    };
    match Box::pin(super::connect(admin)).await {
        Ok(session) => role_arn_named(&session.clients.iam, name).await,
        Err(_) => own,
    }
}

/// Role `name`'s ARN, with its path, as IAM's GetRole answers with `iam`'s credentials;
/// `Err` with how GetRole failed, in AWS's words.
pub async fn role_arn_named(
    iam: &aws_sdk_iam::Client,
    name: &str,
) -> Result<Option<String>, String> {
    match iam.get_role().role_name(name).send().await {
        Ok(out) => Ok(out.role().map(|r| r.arn().to_owned())),
        Err(err) => Err(answers::describe(Operation::GetRole, &err)),
    }
}

/// AssumeRole with the client given (signed with the credentials before it).
pub async fn assume_role_on(
    sts: &aws_sdk_sts::Client,
    ask: &RoleAsk,
) -> Result<(Credentials, AssumedRole), CredentialsFailure> {
    let answer = sts
        .assume_role()
        .role_arn(&ask.role_arn)
        .role_session_name(&ask.session_name)
        .set_external_id(ask.external_id.clone())
        .send()
        .await;
    let out = answer.map_err(|err| {
        from_sts(
            &StsAsk {
                operation: Operation::AssumeRole,
                role_arn: &ask.role_arn,
                via: &ask.via,
                by: &ask.by,
                external_id: ask.external_id.as_deref(),
                session_name: &ask.session_name,
            },
            &err,
        )
    })?;
    let session_arn = out.assumed_role_user().map(|u| u.arn().to_owned());
    let creds = session_credentials(out.credentials(), "AssumeRole")
        .ok_or_else(|| no_credentials(format!("AssumeRole of {} ({})", ask.role_arn, ask.via)))?;
    Ok((
        creds,
        AssumedRole {
            role_arn: ask.role_arn.clone(),
            session_name: ask.session_name.clone(),
            by: ask.by.clone(),
            via: ask.via.clone(),
            session_arn,
            asked_as: None,
        },
    ))
}

fn no_credentials(provider: String) -> CredentialsFailure {
    CredentialsFailure::provider(
        provider,
        "STS answered without credentials",
        "Try again; if it persists, the endpoint is not answering as STS does.",
    )
}

/// A web identity to exchange: the role, the token file, the session name and how it was
/// named.
#[derive(Clone, Debug)]
pub struct WebIdentityAsk {
    pub role_arn: String,
    pub token_file: String,
    pub session_name: String,
    pub via: String,
}

/// AssumeRoleWithWebIdentity with the token in the file (unsigned, as the SDKs send it).
pub async fn assume_with_web_identity(
    settings: &Settings,
    region: Option<&str>,
    ask: &WebIdentityAsk,
) -> Result<(Credentials, AssumedRole), CredentialsFailure> {
    let provider = format!("web identity ({})", ask.via);
    let token = read_token(&ask.token_file)
        .map_err(|(why, next)| CredentialsFailure::provider(&provider, why, next))?;
    let sts = chain_sts(settings, region, None).await;
    web_identity_on(&sts, ask, token).await
}

/// AssumeRoleWithWebIdentity with the client given and the token read.
pub async fn web_identity_on(
    sts: &aws_sdk_sts::Client,
    ask: &WebIdentityAsk,
    token: String,
) -> Result<(Credentials, AssumedRole), CredentialsFailure> {
    let by = format!("the web identity token in {}", ask.token_file);
    let answer = sts
        .assume_role_with_web_identity()
        .role_arn(&ask.role_arn)
        .role_session_name(&ask.session_name)
        .web_identity_token(token)
        .send()
        .await;
    let out = answer.map_err(|err| {
        from_sts(
            &StsAsk {
                operation: Operation::AssumeRoleWithWebIdentity,
                role_arn: &ask.role_arn,
                via: &ask.via,
                by: &by,
                external_id: None,
                session_name: &ask.session_name,
            },
            &err,
        )
    })?;
    let session_arn = out.assumed_role_user().map(|u| u.arn().to_owned());
    let creds = session_credentials(out.credentials(), "WebIdentityToken")
        .ok_or_else(|| no_credentials(format!("web identity ({})", ask.via)))?;
    Ok((
        creds,
        AssumedRole {
            role_arn: ask.role_arn.clone(),
            session_name: ask.session_name.clone(),
            by,
            via: ask.via.clone(),
            session_arn,
            asked_as: None,
        },
    ))
}

fn session_credentials(
    c: Option<&aws_sdk_sts::types::Credentials>,
    provider: &'static str,
) -> Option<Credentials> {
    let c = c?;
    let expiry = SystemTime::try_from(*c.expiration()).ok();
    Some(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        expiry,
        provider,
    ))
}

/// The token file's token, or why it cannot be used here (and what to do).
fn read_token(path: &str) -> Result<String, (String, String)> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => format!("the token file {path} does not exist here"),
            _ => format!("the token file {path} cannot be read: {e}"),
        };
        (
            why,
            "The platform mounts the token into the pod (EKS: the service account's projected \
             token): run s3doctor there, or check as the role from here with --role-arn and your \
             own credentials."
                .to_owned(),
        )
    })?;
    let token = text.trim().to_owned();
    if token.is_empty() {
        return Err((
            format!("the token file {path} is empty"),
            "The platform writes the token there: check the pod's service account and the \
             projected volume."
                .to_owned(),
        ));
    }
    if let Some(expired) = token_expiry(&token).filter(|e| *e < SystemTime::now()) {
        let ago = SystemTime::now()
            .duration_since(expired)
            .unwrap_or_default();
        return Err((
            format!("the token in {path} expired {} ago", human(ago)),
            "Web identity tokens are short-lived and refreshed by the platform (EKS rotates the \
             projected token): a copy taken out of the pod goes stale. Run s3doctor where the \
             token is kept fresh."
                .to_owned(),
        ));
    }
    Ok(token)
}

/// The `exp` claim of a JWT (its middle part, base64url JSON), if it has one.
fn token_expiry(token: &str) -> Option<SystemTime> {
    let payload = token.split('.').nth(1)?;
    let mut b64: String = payload
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !b64.len().is_multiple_of(4) {
        b64.push('=');
    }
    let bytes = aws_smithy_types::base64::decode(&b64).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?.as_u64()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(exp))
}

fn human(d: Duration) -> String {
    match d.as_secs() {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: u64) -> String {
        let claims = aws_smithy_types::base64::encode(format!(r#"{{"iss":"x","exp":{exp}}}"#));
        let claims = claims
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_");
        format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln")
    }

    #[test]
    fn a_token_is_read_and_checked_before_it_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none");
        let (why, next) = read_token(missing.to_str().unwrap()).unwrap_err();
        assert!(why.ends_with("does not exist here"), "{why}");
        assert!(next.contains("--role-arn"), "{next}");
        let file = dir.path().join("token");
        std::fs::write(&file, jwt(1_000_000_000)).unwrap();
        let (why, _) = read_token(file.to_str().unwrap()).unwrap_err();
        assert!(why.contains("expired") && why.ends_with(" h ago"), "{why}");
        let later = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        std::fs::write(&file, format!("{}\n", jwt(later))).unwrap();
        assert_eq!(read_token(file.to_str().unwrap()).unwrap(), jwt(later));
        // Not a JWT: no expiry to check, STS judges it.
        std::fs::write(&file, "opaque").unwrap();
        assert_eq!(read_token(file.to_str().unwrap()).unwrap(), "opaque");
        std::fs::write(&file, "\n").unwrap();
        assert!(
            read_token(file.to_str().unwrap())
                .unwrap_err()
                .0
                .ends_with("is empty")
        );
    }
}
