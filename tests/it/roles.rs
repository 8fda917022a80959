//! Running as the app runs, against the emulator (moto, IAM enforcement on; moto decides every
//! AssumeRole by the role's trust policy): profiles as the AWS CLI reads them, a role through a
//! profile, `--role-arn` with and without trust, every way the chain fails, and an `.env` whose
//! static keys shadow the pod's role.

use serde_json::{Value, json};

use crate::peer::{
    ACCOUNT, Keys, Output, Peer, READ_WRITE, Run, codes, detail, finding, s3_allow, status, unique,
};

/// A role (at `path`) whose trust policy trusts `trusted` (an ARN), with `inline` as its
/// policy; its ARN.
pub async fn role(peer: &Peer, path: &str, trusted: &str, inline: Option<Value>) -> String {
    let name = unique("r");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]});
    let out = peer
        .iam
        .create_role()
        .role_name(&name)
        .path(path)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("create role");
    if let Some(doc) = inline {
        peer.iam
            .put_role_policy()
            .role_name(&name)
            .policy_name("app")
            .policy_document(doc.to_string())
            .send()
            .await
            .expect("put role policy");
    }
    out.role().expect("role").arn().to_owned()
}

/// A user allowed to call sts:AssumeRole (moto asks the caller's policies too).
pub async fn assumer(peer: &Peer) -> Keys {
    peer.user(Some(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})))
        .await
}

fn user_arn(keys: &Keys) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{}", keys.name)
}

/// `check --format json` against the emulator, nothing in the environment but what `f` adds.
fn check(peer: &Peer, bucket: &str) -> Run {
    Run::new(&["check", "--format", "json", "--bucket", bucket])
        .arg("--endpoint-url")
        .arg(&peer.url)
}

/// These keys in the standard variables (the endpoint is already `check`'s).
fn env_keys(run: Run, keys: &Keys) -> Run {
    let run = run
        .env("AWS_ACCESS_KEY_ID", &keys.id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret);
    match &keys.token {
        Some(t) => run.env("AWS_SESSION_TOKEN", t),
        None => run,
    }
}

pub fn with_config(run: Run, text: &str) -> Run {
    std::fs::write(run.file("aws-config"), text).expect("config file");
    run
}

/// Nothing of the SDK's debug dump in what a run printed.
fn no_debug_dump(out: &Output) {
    for text in [&out.stdout, &out.stderr] {
        for dump in [
            "DispatchFailure",
            "ServiceError {",
            "SdkError",
            "Unhandled",
            "source: ",
            "raw: Response",
        ] {
            assert!(!text.contains(dump), "{dump} in:\n{text}");
        }
    }
}

#[tokio::test]
async fn profile_on_the_command_line_wins_over_keys_in_the_environment() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let app = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let shell = peer.user(None).await;
    let out = check(&peer, &bucket)
        .env("AWS_ACCESS_KEY_ID", &shell.id)
        .env("AWS_SECRET_ACCESS_KEY", &shell.secret)
        .profiles(&[("app", &app)])
        .arg("--profile")
        .arg("app")
        .output()
        .await;
    let report = out.json();
    assert_eq!(out.code, 0, "{report:#}");
    assert_eq!(report["identity"]["principal_name"], app.name.as_str());
    let said = detail(&report, "credentials", None);
    assert!(
        said.contains("the keys in the environment are not used: --profile wins"),
        "{said}"
    );
    assert_eq!(status(&report, "credentials", None), "pass");
}

#[tokio::test]
async fn aws_profile_from_the_environment_keeps_the_sdks_order_and_says_so() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let app = peer.user(None).await;
    let shell = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let out = check(&peer, &bucket)
        .env("AWS_ACCESS_KEY_ID", &shell.id)
        .env("AWS_SECRET_ACCESS_KEY", &shell.secret)
        .env("AWS_PROFILE", "app")
        .profiles(&[("app", &app)])
        .output()
        .await;
    let report = out.json();
    assert_eq!(report["identity"]["principal_name"], shell.name.as_str());
    assert_eq!(status(&report, "credentials", None), "warn");
    let said = detail(&report, "credentials", None);
    assert!(
        said.contains("profile app (AWS_PROFILE in the environment) is not used: keys in the environment come first"),
        "{said}"
    );
    assert!(said.contains("`--profile app`"), "{said}");
}

#[tokio::test]
async fn a_profile_in_neither_file_is_bad_input_naming_the_files_and_their_profiles() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let app = peer.user(None).await;
    let flagged = check(&peer, &bucket).profiles(&[("app", &app)]);
    let files = (flagged.file("aws-config"), flagged.file("aws-credentials"));
    let out = flagged.arg("--profile").arg("prod").output().await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let line = out.stderr.trim_end();
    assert!(!line.contains('\n'), "{line}");
    assert!(
        line.contains("profile prod (--profile) is not defined in"),
        "{line}"
    );
    assert!(
        line.contains(&format!("{} (missing)", files.0.display())),
        "{line}"
    );
    assert!(
        line.contains(&format!("{} (profiles: app)", files.1.display())),
        "{line}"
    );

    // AWS_PROFILE naming it, nothing before it in the order: the same.
    let out = check(&peer, &bucket)
        .profiles(&[("app", &app)])
        .env("AWS_PROFILE", "prod")
        .output()
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("profile prod (AWS_PROFILE in the environment)"),
        "{}",
        out.stderr
    );

    // Under keys in the environment the SDK never reads it: the run goes on and says so.
    let out = env_keys(check(&peer, &bucket), &app)
        .env("AWS_PROFILE", "prod")
        .output()
        .await;
    let report = out.json();
    assert_eq!(status(&report, "credentials", None), "warn");
    assert!(
        detail(&report, "credentials", None)
            .contains("profile prod (AWS_PROFILE in the environment) is not defined")
    );

    // --admin-profile too.
    let out = env_keys(check(&peer, &bucket), &app)
        .arg("--admin-profile")
        .arg("root")
        .output()
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("profile root (--admin-profile)"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_role_profile_assumes_its_role_at_the_endpoint_given() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let ci = assumer(&peer).await;
    let role_arn = role(
        &peer,
        "/svc/",
        &user_arn(&ci),
        Some(s3_allow(&[&bucket], READ_WRITE)),
    )
    .await;
    let config = format!("[profile app]\nrole_arn = {role_arn}\nsource_profile = ci\n");
    // --endpoint-url, and AWS_ENDPOINT_URL as the SDK reads it: the AssumeRole goes to the
    // emulator both ways (AWS's own STS does not know these keys, nor is it reachable here).
    for how in ["flag", "variable"] {
        let run = with_config(
            Run::new(&["check", "--format", "json", "--bucket", &bucket]),
            &config,
        )
        .profiles(&[("ci", &ci)])
        .arg("--profile")
        .arg("app");
        let log = run.file("calls.log");
        let run = run.arg("--log").arg(&log.display().to_string());
        let run = match how {
            "flag" => run.arg("--endpoint-url").arg(&peer.url),
            _ => run.env("AWS_ENDPOINT_URL", &peer.url),
        };
        let out = run.output().await;
        let report = out.json();
        assert_eq!(out.code, 0, "{how}: {report:#}");
        assert_eq!(report["identity"]["principal_type"], "assumed-role");
        assert_eq!(report["target"]["credential_source"], "profile app");
        let said = detail(&report, "credentials", None);
        assert!(said.contains("the keys of profile ci (AKIA"), "{said}");
        assert!(
            said.contains(&format!(
                "assumed {role_arn} (session assume-role-from-profile-"
            )),
            "{said}"
        );
        let log = out.read("calls.log");
        let assumed: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("operation=\"AssumeRole\""))
            .collect();
        assert_eq!(assumed.len(), 1, "{log}");
        assert!(assumed[0].contains("status=200"), "{log}");
    }
}

#[tokio::test]
async fn a_refused_assume_role_in_the_chain_names_who_asked_which_role_and_aws_words() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let ci = assumer(&peer).await;
    let role_arn = role(
        &peer,
        "/",
        &format!("arn:aws:iam::{ACCOUNT}:user/someone-else"),
        None,
    )
    .await;
    let out = with_config(
        check(&peer, &bucket),
        &format!("[profile deploy]\nrole_arn = {role_arn}\nsource_profile = ci\n"),
    )
    .profiles(&[("ci", &ci)])
    .arg("--profile")
    .arg("deploy")
    .output()
    .await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(codes(&report), ["credentials.assume-role-refused"]);
    let f = finding(&report, "credentials.assume-role-refused", None);
    let summary = f["summary"].as_str().unwrap();
    // The role's ARN names no path and the caller may not read IAM: it may be the path's.
    assert!(
        summary.starts_with(&format!(
            "{} asked to assume {role_arn} (path not known: the ARN names none and IAM could \
             not be read;",
            user_arn(&ci)
        )) && summary.contains(") (profile deploy), and STS refused."),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "AWS says: \"User: {} is not authorized to perform: sts:AssumeRole",
            user_arn(&ci)
        )),
        "{summary}"
    );
    assert_eq!(f["basis"], "aws-message");
    assert_eq!(f["evidence"]["operation"], "AssumeRole");
    assert_eq!(f["evidence"]["http_status"], 403);
    assert_eq!(f["evidence"]["error_code"], "AccessDenied");
    assert!(
        f["remedy"].as_str().unwrap().contains("trust policy"),
        "{f:#}"
    );
    assert_ne!(f["code"], "credentials.missing");
    no_debug_dump(&out);
    // The text report says the same, in one line per fact.
    let text = with_config(
        Run::new(&["check", "--bucket", &bucket])
            .arg("--endpoint-url")
            .arg(&peer.url),
        &format!("[profile deploy]\nrole_arn = {role_arn}\nsource_profile = ci\n"),
    )
    .profiles(&[("ci", &ci)])
    .arg("--profile")
    .arg("deploy")
    .output()
    .await;
    assert!(
        text.stdout.contains("credentials.assume-role-refused"),
        "{}",
        text.stdout
    );
    no_debug_dump(&text);
}

#[tokio::test]
async fn role_arn_checks_as_the_role_with_exactly_one_more_call() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = assumer(&peer).await;
    let role_arn = role(
        &peer,
        "/",
        &user_arn(&engineer),
        Some(s3_allow(&[&bucket], READ_WRITE)),
    )
    .await;
    let run = env_keys(check(&peer, &bucket), &engineer);
    let log = run.file("calls.log");
    let out = run
        .arg("--role-arn")
        .arg(&role_arn)
        .arg("--log")
        .arg(&log.display().to_string())
        .output()
        .await;
    let report = out.json();
    assert_eq!(out.code, 0, "{report:#}");
    let role_name = role_arn.rsplit('/').next().unwrap();
    assert_eq!(
        report["identity"]["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role_name}/s3doctor")
    );
    assert_eq!(
        report["target"]["credential_source"],
        "environment, then --role-arn"
    );
    let said = detail(&report, "credentials", None);
    assert!(
        said.contains(&format!(
            "assumed {role_arn} (session s3doctor, --role-arn)"
        )),
        "{said}"
    );
    let log = out.read("calls.log");
    let sts: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("service=\"STS\"") || l.contains("AssumeRole"))
        .collect();
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("operation=\"AssumeRole\""))
            .count(),
        1,
        "{sts:#?}"
    );

    // Without the engineer's own S3 rights: the checks are the role's, not the engineer's.
    let (_, without) = {
        let out = env_keys(check(&peer, &bucket), &engineer).output().await;
        (out.code, out.json())
    };
    assert!(
        codes(&without).iter().any(|c| c == "permission.missing"),
        "{without:#}"
    );
}

#[tokio::test]
async fn role_arn_without_trust_is_refused_by_name() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = assumer(&peer).await;
    let role_arn = role(
        &peer,
        "/",
        &format!("arn:aws:iam::{ACCOUNT}:user/someone-else"),
        None,
    )
    .await;
    let out = env_keys(check(&peer, &bucket), &engineer)
        .arg("--role-arn")
        .arg(&role_arn)
        .arg("--external-id")
        .arg("abc-123")
        .output()
        .await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(codes(&report), ["credentials.assume-role-refused"]);
    let f = finding(&report, "credentials.assume-role-refused", None);
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!(
            "{} asked to assume {role_arn} (path not known: the ARN names none",
            user_arn(&engineer)
        )) && summary.contains(") (--role-arn), and STS refused."),
        "{summary}"
    );
    no_debug_dump(&out);
}

#[tokio::test]
async fn session_keys_in_the_environment_are_the_roles_session() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let session = peer
        .role_session(Some(s3_allow(&[&bucket], READ_WRITE)))
        .await;
    let out = env_keys(check(&peer, &bucket), &session).output().await;
    let report = out.json();
    assert_eq!(out.code, 0, "{report:#}");
    assert_eq!(report["identity"]["principal_type"], "assumed-role");
    assert!(
        detail(&report, "credentials", None).starts_with("key ASIA"),
        "{report:#}"
    );
}

/// Temporary keys whose session token is not theirs (a token from another session, or one
/// left behind): STS refuses the key id (moto: InvalidClientTokenId, as AWS answers "The
/// security token included in the request is invalid"), and the finding says the session token
/// is the problem and where the keys came from, not that the key id is unknown.
#[tokio::test]
async fn temporary_keys_with_a_token_that_is_not_theirs_are_the_tokens_finding() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let session = peer
        .role_session(Some(s3_allow(&[&bucket], READ_WRITE)))
        .await;
    let other = peer.role_session(None).await;
    let mixed = Keys {
        token: other.token.clone(),
        ..session.clone()
    };
    let out = env_keys(check(&peer, &bucket), &mixed).output().await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    assert_eq!(codes(&report), ["credentials.expired"], "{report:#}");
    let f = finding(&report, "credentials.expired", None);
    assert_eq!(f["basis"], "aws-message", "{f:#}");
    assert_eq!(f["evidence"]["error_code"], "InvalidClientTokenId", "{f:#}");
    let summary = f["summary"].as_str().expect("summary");
    assert!(summary.contains("session token"), "{summary}");
    assert!(summary.contains("from environment"), "{summary}");
    assert!(!summary.contains("access key id"), "{summary}");
    let remedy = f["remedy"].as_str().expect("remedy");
    assert!(remedy.contains("AWS_SESSION_TOKEN"), "{remedy}");
}

/// A role at `/svc/` that `engineer` may assume, without any S3 grant, and its name.
async fn bare_role(peer: &Peer, engineer: &Keys) -> (String, String) {
    let arn = role(peer, "/svc/", &user_arn(engineer), None).await;
    let name = arn.rsplit('/').next().expect("a name").to_owned();
    (arn, name)
}

#[tokio::test]
async fn a_roles_session_is_named_as_its_role_where_a_person_acts() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = assumer(&peer).await;
    let (role_arn, name) = bare_role(&peer, &engineer).await;
    let out = env_keys(check(&peer, &bucket), &engineer)
        .arg("--role-arn")
        .arg(&role_arn)
        .output()
        .await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    // The JSON identity: the session, and the role with its path.
    assert_eq!(report["identity"]["principal_type"], "assumed-role");
    assert_eq!(report["identity"]["role_arn"], role_arn.as_str());
    // Every finding a person acts on names the role, not the session.
    let missing = finding(&report, "permission.missing", Some("s3:PutObject"));
    let summary = missing["summary"].as_str().unwrap();
    assert!(summary.contains(&role_arn), "{summary}");
    assert!(!summary.contains("assumed-role"), "{summary}");
    // The identity step says role and session.
    let said = detail(&report, "identity", None);
    assert!(
        said.contains(&format!("role {name} ({role_arn}), session s3doctor")),
        "{said}"
    );
    // The text report's header too.
    let text = env_keys(
        Run::new(&["check", "--bucket", &bucket])
            .arg("--endpoint-url")
            .arg(&peer.url),
        &engineer,
    )
    .arg("--role-arn")
    .arg(&role_arn)
    .output()
    .await;
    assert!(
        text.stdout.contains(&format!(
            "  role         role {name} ({role_arn}), session s3doctor"
        )),
        "{}",
        text.stdout
    );
    // The fix's hand-over is for the role.
    let run = env_keys(
        Run::new(&["fix", "--bucket", &bucket])
            .arg("--endpoint-url")
            .arg(&peer.url),
        &engineer,
    )
    .arg("--role-arn")
    .arg(&role_arn);
    let export = run.file("fix.md");
    let out = run
        .arg("--export")
        .arg(&export.display().to_string())
        .output()
        .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let md = out.read("fix.md");
    assert!(
        md.starts_with(&format!("# Fix S3 access for {role_arn}\n")),
        "{md}"
    );
    assert!(
        md.contains(&format!("--role-name {name}")) && md.contains("attach-role-policy"),
        "{md}"
    );
}

#[tokio::test]
async fn a_sessions_role_gets_its_path_from_iam_when_iam_is_readable() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = assumer(&peer).await;
    let (role_arn, name) = bare_role(&peer, &engineer).await;
    let session = peer
        .sts_as(&engineer)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("worker")
        .send()
        .await
        .expect("assume role");
    let c = session.credentials().expect("credentials");
    let keys = Keys {
        name: name.clone(),
        id: c.access_key_id().to_owned(),
        secret: c.secret_access_key().to_owned(),
        token: Some(c.session_token().to_owned()),
    };
    // The session's ARN carries no path: without IAM the role is named as the session names
    // it, and the report says that the path is not known, in the JSON and in every finding.
    let out = env_keys(check(&peer, &bucket), &keys).output().await;
    let report = out.json();
    let pathless = format!("arn:aws:iam::{ACCOUNT}:role/{name}");
    assert_eq!(
        report["identity"]["role_arn"],
        pathless.as_str(),
        "{report:#}"
    );
    assert_eq!(report["identity"]["role_path_known"], false, "{report:#}");
    let missing = finding(&report, "permission.missing", Some("s3:PutObject"));
    let summary = missing["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "role {name} in account {ACCOUNT} (path not known: the session ARN does not carry it)"
        )) && !summary.contains(&pathless),
        "{summary}"
    );
    // The fix's hand-over says so where it writes the role's ARN.
    let run = env_keys(
        Run::new(&["fix", "--bucket", &bucket])
            .arg("--endpoint-url")
            .arg(&peer.url),
        &keys,
    );
    let export = run.file("fix.md");
    let out = run
        .arg("--export")
        .arg(&export.display().to_string())
        .output()
        .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let md = out.read("fix.md");
    assert!(
        md.contains(&format!(
            "> **Note:** The role's path is not known (the session ARN does not carry it, and \
             IAM could not be read to learn it): the IAM calls name the role {name} by its name"
        )) && md.contains(&format!("--role-name {name}")),
        "{md}"
    );
    // With IAM readable (--admin-profile), GetRole names it with its path.
    let out = env_keys(check(&peer, &bucket), &keys)
        .profiles(&[("admin", &peer.admin)])
        .arg("--admin-profile")
        .arg("admin")
        .output()
        .await;
    let report = out.json();
    assert_eq!(
        report["identity"]["role_arn"],
        role_arn.as_str(),
        "{report:#}"
    );
    assert_eq!(report["identity"]["role_path_known"], true, "{report:#}");
    assert_eq!(
        report["identity"]["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{name}/worker")
    );
    // Learned by the identity step, before the upload's finding named the role.
    let missing = finding(&report, "permission.missing", Some("s3:PutObject"));
    let summary = missing["summary"].as_str().unwrap();
    assert!(summary.contains(&role_arn), "{summary}");
}

#[tokio::test]
async fn an_env_file_with_irsa_variables_next_to_static_keys_is_the_role_shadowed_trap() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/app");
    let run = check(&peer, &bucket);
    let env = run.file("app.env");
    std::fs::write(
        &env,
        format!(
            "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\nAWS_REGION=us-east-1\n\
             AWS_ROLE_ARN={role_arn}\n\
             AWS_WEB_IDENTITY_TOKEN_FILE=/var/run/secrets/eks.amazonaws.com/serviceaccount/token\n",
            user.id, user.secret
        ),
    )
    .expect("env file");
    let out = run
        .arg("--env-file")
        .arg(&env.display().to_string())
        .output()
        .await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    // The keys win, as in the app's SDK: the run goes on as the user, and every check passes.
    assert_eq!(report["identity"]["principal_name"], user.name.as_str());
    assert_eq!(codes(&report), ["credentials.role-shadowed"]);
    assert_eq!(status(&report, "credentials", None), "fail");
    assert_eq!(status(&report, "put-object", Some(&bucket)), "pass");
    let f = finding(&report, "credentials.role-shadowed", None);
    let (summary, remedy) = (
        f["summary"].as_str().unwrap(),
        f["remedy"].as_str().unwrap(),
    );
    let key = format!("{}…{}", &user.id[..4], &user.id[user.id.len() - 4..]);
    // Both named, which one wins, and the order's source.
    assert!(
        summary.contains(&format!(
            "takes static keys {key} (AWS_ACCESS_KEY_ID in env file {})",
            env.display()
        )),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("not as web identity: role {role_arn}")),
        "{summary}"
    );
    assert!(
        summary.contains("docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html"),
        "{summary}"
    );
    // What to remove.
    assert!(
        remedy.starts_with(&format!(
            "Remove the keys (the access key id, secret and session token variables) from {}",
            env.display()
        )),
        "{remedy}"
    );
    assert!(
        remedy.contains(&format!("--role-arn {role_arn}")),
        "{remedy}"
    );
    // The step explains the pick.
    let said = detail(&report, "credentials", None);
    assert!(said.contains("the app's SDK picks static keys"), "{said}");
    assert!(
        said.contains("configured too, and not used: web identity"),
        "{said}"
    );
}

#[tokio::test]
async fn an_env_files_pod_variables_alone_say_the_provider_cannot_work_here() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/app");
    let token_file = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";
    for (vars, provider, why) in [
        (
            format!("AWS_ROLE_ARN={role_arn}\nAWS_WEB_IDENTITY_TOKEN_FILE={token_file}\n"),
            "web identity (AWS_ROLE_ARN in env file",
            format!("the token file {token_file} does not exist here"),
        ),
        (
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc\n".to_owned(),
            "the container credentials endpoint http://169.254.170.2/v2/credentials/abc",
            "this machine is not that container".to_owned(),
        ),
    ] {
        let run = check(&peer, &bucket).env("AWS_EC2_METADATA_DISABLED", "true");
        let env = run.file("app.env");
        std::fs::write(&env, format!("AWS_REGION=us-east-1\n{vars}")).expect("env file");
        let out = run
            .arg("--env-file")
            .arg(&env.display().to_string())
            .output()
            .await;
        let report = out.json();
        assert_eq!(out.code, 1, "{report:#}");
        assert_eq!(
            codes(&report),
            ["credentials.provider-failed"],
            "{report:#}"
        );
        let f = finding(&report, "credentials.provider-failed", None);
        let summary = f["summary"].as_str().unwrap();
        assert!(summary.contains(provider), "{summary}");
        assert!(summary.contains(&why), "{summary}");
        assert!(
            f["remedy"].as_str().unwrap().contains("--role-arn"),
            "{f:#}"
        );
        no_debug_dump(&out);
    }
}

/// A role profile whose `credential_source` is the platform's (EC2 instance metadata, an ECS
/// container) run where that platform is not: provider-failed, naming which source and that it
/// answers only there. Instance metadata is pointed at a port where nothing listens.
#[tokio::test]
async fn a_credential_source_off_its_platform_says_which_and_where_it_answers() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let imds = format!("http://127.0.0.1:{}", crate::peer::closed_port());
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/app");
    let config = format!(
        "[profile ec2]\nrole_arn = {role_arn}\ncredential_source = Ec2InstanceMetadata\n\
         [profile ecs]\nrole_arn = {role_arn}\ncredential_source = EcsContainer\n"
    );
    for (profile, provider, why, next) in [
        (
            "ec2",
            "credential_source Ec2InstanceMetadata of profile ec2",
            "instance metadata (169.254.169.254) did not answer",
            "Instance metadata answers only on EC2",
        ),
        (
            "ecs",
            "credential_source EcsContainer of profile ecs",
            "neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor",
            "only inside an ECS task or an EKS pod",
        ),
    ] {
        let out = with_config(check(&peer, &bucket), &config)
            .unset("AWS_EC2_METADATA_DISABLED")
            .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds)
            .arg("--profile")
            .arg(profile)
            .output()
            .await;
        let report = out.json();
        assert_eq!(out.code, 1, "{report:#}");
        assert_eq!(
            codes(&report),
            ["credentials.provider-failed"],
            "{report:#}"
        );
        let f = finding(&report, "credentials.provider-failed", None);
        let summary = f["summary"].as_str().expect("summary");
        assert!(summary.contains(provider), "{summary}");
        assert!(summary.contains(why), "{summary}");
        let remedy = f["remedy"].as_str().expect("remedy");
        assert!(remedy.contains(next), "{remedy}");
        no_debug_dump(&out);
    }
}

#[tokio::test]
async fn nothing_configured_at_all_is_the_only_credentials_missing() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let out = check(&peer, &bucket).output().await;
    let report = out.json();
    assert_eq!(codes(&report), ["credentials.missing"], "{report:#}");
    let f = finding(&report, "credentials.missing", None);
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.contains("no AWS_ACCESS_KEY_ID in the environment"),
        "{summary}"
    );
    assert!(
        summary.contains("no AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE"),
        "{summary}"
    );
    no_debug_dump(&out);
}

/// The trust policy of `role_name`, as IAM has it now.
async fn trust_policy(peer: &Peer, role_name: &str) -> Value {
    let out = peer
        .iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .expect("get role");
    let text = out
        .role()
        .expect("role")
        .assume_role_policy_document()
        .expect("trust");
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .expect("utf-8");
    serde_json::from_str(&decoded).expect("trust JSON")
}

/// `s3doctor ARGS… --profile deploy --admin-profile admin` with `ci`'s keys as the source of
/// profile deploy (the role).
fn as_deploy(peer: &Peer, args: &[&str], ci: &Keys, role_arn: &str) -> Run {
    let mut run = with_config(
        Run::new(args).arg("--endpoint-url").arg(&peer.url),
        &format!("[profile deploy]\nrole_arn = {role_arn}\nsource_profile = ci\n"),
    )
    .profiles(&[("ci", ci), ("admin", &peer.admin)]);
    for a in ["--profile", "deploy", "--admin-profile", "admin"] {
        run = run.arg(a);
    }
    run
}

#[tokio::test]
async fn a_refused_roles_trust_policy_is_read_and_the_statement_to_add_named() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let ci = assumer(&peer).await;
    let someone = format!("arn:aws:iam::{ACCOUNT}:user/someone-else");
    let role_arn = role(&peer, "/", &someone, Some(s3_allow(&[&bucket], READ_WRITE))).await;
    let name = role_arn.rsplit('/').next().expect("name").to_owned();
    let before = trust_policy(&peer, &name).await;

    // check: the trust policy is read and judged; the statement to add is named.
    let out = as_deploy(
        &peer,
        &["check", "--format", "json", "--bucket", &bucket],
        &ci,
        &role_arn,
    )
    .output()
    .await;
    let report = out.json();
    let f = finding(&report, "credentials.assume-role-refused", None);
    assert_eq!(f["basis"], "policies", "{f:#}");
    let summary = f["summary"].as_str().expect("summary");
    assert!(
        summary.contains(&format!(
            "No statement of the trust policy of {role_arn} trusts {}: it trusts AWS {someone}",
            user_arn(&ci)
        )),
        "{summary}"
    );
    let remedy = f["remedy"].as_str().expect("remedy");
    assert!(
        remedy.contains(&format!(r#""Principal":{{"AWS":"{}"}}"#, user_arn(&ci))),
        "{remedy}"
    );
    assert!(remedy.contains("\"Sid\":\"S3doctorTrusts3du"), "{remedy}");

    // fix --export: the hand-over, and IAM unchanged.
    let run = as_deploy(&peer, &["fix", "--bucket", &bucket], &ci, &role_arn);
    let file = run.file("trust.md");
    let out = run
        .arg("--export")
        .arg(&file.display().to_string())
        .output()
        .await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let md = out.read("trust.md");
    assert!(
        md.starts_with(&format!("# Let {} assume {role_arn}", user_arn(&ci))),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "aws iam update-assume-role-policy --endpoint-url {} --role-name {name}",
            peer.url
        )),
        "{md}"
    );
    assert_eq!(
        trust_policy(&peer, &name).await,
        before,
        "--export changed IAM"
    );

    // Without a yes, nothing changes either (not interactive: refused, exit 2).
    let out = as_deploy(&peer, &["fix", "--bucket", &bucket], &ci, &role_arn)
        .output()
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(trust_policy(&peer, &name).await, before);
}

/// A role with read-write on `bucket` whose trust policy names `trustee` for
/// sts:AssumeRoleWithWebIdentity only (an EKS template's statement): AssumeRole is refused, and
/// the fix is the statement that trusts `trustee`. Its name and ARN.
async fn web_identity_only_role(peer: &Peer, trustee: &Keys, bucket: &str) -> (String, String) {
    let name = unique("r");
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": user_arn(trustee)}, "Action": "sts:AssumeRoleWithWebIdentity"}]});
    let out = peer
        .iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("create role");
    let role_arn = out.role().expect("role").arn().to_owned();
    peer.iam
        .put_role_policy()
        .role_name(&name)
        .policy_name("app")
        .policy_document(s3_allow(&[bucket], READ_WRITE).to_string())
        .send()
        .await
        .expect("put role policy");
    (name, role_arn)
}

/// moto judges a trust policy statement by statement, and one naming another principal denies
/// (AWS: it does not apply): the flow below starts from a statement that names the caller for
/// another action (a web identity template's), which moto leaves neutral as AWS does.
#[tokio::test]
async fn the_trust_statement_goes_through_the_gate_is_verified_and_undone() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let ci = assumer(&peer).await;
    let (name, role_arn) = web_identity_only_role(&peer, &ci, &bucket).await;
    let before = trust_policy(&peer, &name).await;
    let out = as_deploy(
        &peer,
        &["check", "--format", "json", "--bucket", &bucket],
        &ci,
        &role_arn,
    )
    .output()
    .await;
    let report = out.json();
    let summary = finding(&report, "credentials.assume-role-refused", None)["summary"]
        .as_str()
        .expect("summary")
        .to_owned();
    assert!(
        summary.contains("but for sts:AssumeRoleWithWebIdentity only, not sts:AssumeRole"),
        "{summary}"
    );

    // fix --yes: the statement is added, verified, and the role's checklist runs and passes.
    let out = as_deploy(
        &peer,
        &["fix", "--yes", "--bucket", &bucket],
        &ci,
        &role_arn,
    )
    .output()
    .await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("(removes only s3doctor's trust statement)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("iam:UpdateAssumeRolePolicy"),
        "{}",
        out.stderr
    );
    let after = trust_policy(&peer, &name).await;
    let statements = after["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2, "{after:#}");
    assert_eq!(
        statements[0], before["Statement"][0],
        "the role's own statement is kept"
    );
    assert_eq!(statements[1]["Principal"]["AWS"], user_arn(&ci).as_str());
    let out = as_deploy(
        &peer,
        &["check", "--format", "json", "--bucket", &bucket],
        &ci,
        &role_arn,
    )
    .output()
    .await;
    assert_eq!(out.code, 0, "{}", out.stdout);

    // fix --undo --yes: s3doctor's statement goes, the rest stays.
    let out = as_deploy(
        &peer,
        &["fix", "--undo", "--yes", "--bucket", &bucket],
        &ci,
        &role_arn,
    )
    .output()
    .await;
    assert!(
        out.stderr.contains(&format!(
            "trust policy of role {name}: removed s3doctor's statement"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(trust_policy(&peer, &name).await, before);
}

#[tokio::test]
async fn an_sso_session_never_logged_in_and_a_failing_credential_process_say_the_next_step() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let config = "[profile sso-dev]\nsso_start_url = https://example.awsapps.com/start\n\
                  sso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Dev\n\
                  [profile proc]\ncredential_process = /bin/false\n";
    for (profile, provider, next) in [
        (
            "sso-dev",
            "SSO (profile sso-dev)",
            "`aws sso login --profile sso-dev`",
        ),
        (
            "proc",
            "credential_process of profile proc",
            "credential_process command by hand",
        ),
    ] {
        let out = with_config(check(&peer, &bucket), config)
            .arg("--profile")
            .arg(profile)
            .output()
            .await;
        let report = out.json();
        assert_eq!(
            codes(&report),
            ["credentials.provider-failed"],
            "{report:#}"
        );
        let f = finding(&report, "credentials.provider-failed", None);
        assert!(
            f["summary"].as_str().expect("summary").contains(provider),
            "{f:#}"
        );
        assert!(
            f["remedy"].as_str().expect("remedy").contains(next),
            "{f:#}"
        );
        no_debug_dump(&out);
    }
}

/// A CloudTrail event of the app's refused request, its session issuer a role.
fn role_event(bucket: &str, role_arn: &str) -> String {
    let name = role_arn.rsplit('/').next().expect("name");
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{name}/i-0abc"),
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role_arn}}
        },
        "eventSource": "s3.amazonaws.com",
        "eventName": "PutObject",
        "awsRegion": "us-east-1",
        "errorCode": "AccessDenied",
        "errorMessage": "Access Denied",
        "requestParameters": {"bucketName": bucket, "key": "uploads/a.jpg"}
    })
    .to_string()
}

/// In the wizard, `p` with the app's error that names its role: Enter runs the checklist as
/// that role, assumed with the engineer's keys (which have no S3 grant, so a passing upload
/// is the role's); a role that does not trust the engineer is said plainly on the credentials
/// row.
#[tokio::test(flavor = "multi_thread")]
async fn p_with_the_apps_role_checks_as_that_role_or_says_it_cannot_be_assumed() {
    use crate::terminal::{Tmux, all_done, assert_terminal_restored, overlay, row};
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = assumer(&peer).await;
    let trusted = role(
        &peer,
        "/",
        &user_arn(&engineer),
        Some(s3_allow(&[&bucket], READ_WRITE)),
    )
    .await;
    let someone = format!("arn:aws:iam::{ACCOUNT}:user/someone-else");
    let untrusted = role(&peer, "/", &someone, None).await;
    let tmux = Tmux::start(&peer, &engineer, &["--bucket", &bucket], false);
    tmux.wait_for("the wizard", |s| s.contains("Checklist"));
    let paste_and_run = |role_arn: &str| {
        tmux.keys("p");
        tmux.wait_for("the error screen", |s| s.contains("Pasted error"));
        tmux.paste(&role_event(&bucket, role_arn));
        tmux.keys("Enter");
        let screen = tmux.wait_for("the reading", |s| overlay(s).contains("What was refused"));
        assert!(
            overlay(&screen).contains(&format!("as role {role_arn}, assumed with your")),
            "{screen}"
        );
        tmux.keys("Enter");
    };
    paste_and_run(&trusted);
    let screen = tmux.wait_for("the checklist as the role", |s| {
        !s.contains("Pasted error") && all_done(s) && row(s, "put-object").contains('✓')
    });
    assert!(
        screen.contains(&trusted),
        "the header names the role:\n{screen}"
    );
    assert!(row(&screen, "credentials").contains('✓'), "{screen}");

    paste_and_run(&untrusted);
    let screen = tmux.wait_for("the refusal on the credentials row", |s| {
        !s.contains("Pasted error") && all_done(s) && row(s, "credentials").contains('✗')
    });
    assert!(
        screen.contains("credentials.assume-role-refused") || screen.contains("AssumeRole"),
        "{screen}"
    );
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert_terminal_restored(&screen);
}

/// The wizard takes --role-arn as check does: the engineer's keys (no S3 grant) assume the role,
/// every row runs as it, and the header names the role and its session.
#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_with_role_arn_runs_every_row_as_the_role() {
    use crate::terminal::{Tmux, all_done, assert_terminal_restored, row};
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = assumer(&peer).await;
    let trusted = role(
        &peer,
        "/",
        &user_arn(&engineer),
        Some(s3_allow(&[&bucket], READ_WRITE)),
    )
    .await;
    let tmux = Tmux::start(
        &peer,
        &engineer,
        &["--bucket", &bucket, "--role-arn", &trusted, "--auto"],
        false,
    );
    let screen = tmux.wait_for("the checklist as the role", |s| {
        all_done(s) && row(s, "delete-object").contains('✓')
    });
    for step in ["credentials", "identity", "put-object", "get-object"] {
        assert!(row(&screen, step).contains('✓'), "{step}:\n{screen}");
    }
    assert!(
        screen.contains(&trusted) && screen.contains("session s3doctor"),
        "the header names the role and the session:\n{screen}"
    );
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_terminal_restored(&screen);
}

/// The trust statement through the wizard's gate: with --role-arn of a role whose trust policy
/// names the engineer for web identity only, the credentials row fails; `f` shows the statement
/// and the IAM call and changes nothing; `y` adds it, the role is assumed again and every row
/// passes as the role. (moto judges a statement for another principal as a denial, so the role
/// starts from a statement for another action, as in the CLI's gate test.)
#[tokio::test(flavor = "multi_thread")]
async fn in_the_wizard_f_then_y_adds_the_trust_statement_and_the_role_runs() {
    use crate::terminal::{Tmux, all_done, row};
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let engineer = assumer(&peer).await;
    let (name, role_arn) = web_identity_only_role(&peer, &engineer, &bucket).await;
    let before = trust_policy(&peer, &name).await;
    let tmux = Tmux::start(
        &peer,
        &engineer,
        &[
            "--bucket",
            &bucket,
            "--role-arn",
            &role_arn,
            "--auto",
            "--admin-profile",
            "admin",
        ],
        true,
    );
    tmux.wait_for("the refusal", |s| {
        row(s, "credentials").contains('✗') && all_done(s)
    });
    tmux.keys("f");
    tmux.wait_for("the trust plan", |s| s.contains("UpdateAssumeRolePolicy"));
    assert_eq!(trust_policy(&peer, &name).await, before, "f changed IAM");
    tmux.keys("y");
    tmux.wait_for("the verification", |s| s.contains("Fixed and verified"));
    tmux.keys("Escape");
    let screen = tmux.wait_for("every row as the role", |s| {
        row(s, "put-object").contains('✓') && all_done(s) && !s.contains('✗')
    });
    assert!(row(&screen, "credentials").contains('✓'), "{screen}");
    assert!(
        screen.contains(&role_arn),
        "the header names the role:\n{screen}"
    );
    let after = trust_policy(&peer, &name).await;
    let statements = after["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2, "{after:#}");
    assert_eq!(
        statements[0], before["Statement"][0],
        "the role's own statement is kept"
    );
    assert_eq!(
        statements[1]["Principal"]["AWS"],
        user_arn(&engineer).as_str()
    );
    tmux.keys("q");
    let screen = tmux.wait_for("the exit", |s| s.contains("MODES-DONE"));
    assert!(screen.contains("EXIT=0"), "{screen}");
}

/// A role profile whose `role_arn` leaves out the role's path: moto refuses it as AWS does when
/// the caller may assume `role/service/*` only; the caller may not read IAM, so the refusal says
/// the path is not known, and `--admin-profile` names the role's real ARN and the one to write.
#[tokio::test]
async fn a_role_profile_without_the_roles_path_is_told_the_real_arn_by_the_admin() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let ci = peer
        .user(Some(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "sts:AssumeRole", "Resource": format!("arn:aws:iam::{ACCOUNT}:role/service/*")}]})))
        .await;
    let role_arn = role(&peer, "/service/", &user_arn(&ci), None).await;
    let name = role_arn.rsplit('/').next().expect("name");
    let pathless = format!("arn:aws:iam::{ACCOUNT}:role/{name}");
    let run = || {
        with_config(
            check(&peer, &bucket),
            &format!("[profile deploy]\nrole_arn = {pathless}\nsource_profile = ci\n"),
        )
        .profiles(&[("ci", &ci), ("admin", &peer.admin)])
        .arg("--profile")
        .arg("deploy")
    };
    let report = run().output().await.json();
    let f = finding(&report, "credentials.assume-role-refused", None);
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("{pathless} (path not known: the ARN names none")),
        "{summary}"
    );
    let report = run()
        .arg("--admin-profile")
        .arg("admin")
        .output()
        .await
        .json();
    let f = finding(&report, "credentials.assume-role-refused", None);
    let summary = f["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "Read with --admin-profile (iam:GetRole): the role's ARN is {role_arn}, so {pathless} \
             names no role"
        )),
        "{summary}"
    );
    assert_eq!(f["basis"], "policies");
    assert!(
        f["remedy"].as_str().unwrap().starts_with(&format!(
            "Assume the role by its real ARN: --role-arn {role_arn}"
        )),
        "{f:#}"
    );
}
