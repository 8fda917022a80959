//! `s3doctor fix` against the emulator: the plan, the confirmation, the change through an admin
//! profile, verification, idempotency, policy versions, roles, undo and the export.

use crate::peer::{ACCOUNT, Keys, Peer, Run, s3_allow, write_env_file};

/// `s3doctor fix --bucket B ARGS…` as `keys`, with `admin` available as profile `admin`.
async fn fix(peer: &Peer, keys: &Keys, bucket: &str, args: &[&str]) -> crate::peer::Output {
    let mut run = Run::new(&["fix", "--bucket", bucket])
        .keys(peer, keys)
        .profiles(&[("admin", &peer.admin)]);
    for a in args {
        run = run.arg(a);
    }
    run.output().await
}

/// A bucket and a user without policies that `s3doctor fix --yes` (through the admin profile)
/// has fixed, and the name of the policy it attached.
async fn fixed_user(peer: &Peer) -> (String, Keys, String) {
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let fixed = fix(peer, &user, &bucket, &["--yes", "--admin-profile", "admin"]).await;
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    let name = format!("s3doctor-{bucket}-read-write");
    (bucket, user, name)
}

async fn check_code(peer: &Peer, keys: &Keys, bucket: &str) -> i32 {
    Run::new(&["check", "--bucket", bucket])
        .keys(peer, keys)
        .output()
        .await
        .code
}

fn policy_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

#[tokio::test]
async fn incident_1_is_fixed_through_an_admin_profile_and_verified() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    assert_eq!(check_code(&peer, &user, &bucket).await, 1);

    let out = fix(
        &peer,
        &user,
        &bucket,
        &["--yes", "--admin-profile", "admin"],
    )
    .await;

    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let name = format!("s3doctor-{bucket}-read-write");
    assert_eq!(peer.attached_to_user(&user.name).await, vec![name.clone()]);
    // The plan came first, and the end lists every change so it can be undone.
    let plan_at = out.stderr.find("Plan").expect("plan shown");
    let changed_at = out.stderr.find("Changed:").expect("changes listed");
    assert!(plan_at < changed_at);
    assert!(out.stderr.contains("AttachUserPolicy"), "{}", out.stderr);
    assert!(out.stderr.contains(&policy_arn(&name)), "{}", out.stderr);
    assert!(out.stderr.contains("--undo"), "{}", out.stderr);
    assert_eq!(check_code(&peer, &user, &bucket).await, 0);
    // The probes of the checks and of the verification are all gone.
    assert!(peer.keys(&bucket).await.is_empty());
}

#[tokio::test]
async fn without_yes_fix_refuses_and_changes_nothing() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;

    let out = fix(&peer, &user, &bucket, &["--admin-profile", "admin"]).await;

    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    assert!(peer.attached_to_user(&user.name).await.is_empty());
    let name = format!("s3doctor-{bucket}-read-write");
    assert!(
        peer.iam
            .get_policy()
            .policy_arn(policy_arn(&name))
            .send()
            .await
            .is_err(),
        "a policy was created"
    );
}

#[tokio::test]
async fn the_broken_users_own_keys_cannot_change_iam_and_it_says_what_to_do() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;

    let out = fix(&peer, &user, &bucket, &["--yes"]).await;

    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("--admin-profile"), "{}", out.stderr);
    assert!(out.stderr.contains("--export"), "{}", out.stderr);
    assert!(peer.attached_to_user(&user.name).await.is_empty());
}

#[tokio::test]
async fn the_same_document_twice_creates_nothing_new() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let first = peer.user(None).await;
    let second = peer.user(None).await;
    let name = format!("s3doctor-{bucket}-read-write");

    assert_eq!(
        fix(
            &peer,
            &first,
            &bucket,
            &["--yes", "--admin-profile", "admin"]
        )
        .await
        .code,
        0
    );
    let out = fix(
        &peer,
        &second,
        &bucket,
        &["--yes", "--admin-profile", "admin"],
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The second user got the existing policy: no new version, one attachment each.
    assert_eq!(
        peer.versions(&policy_arn(&name)).await,
        (vec!["v1".to_owned()], "v1".to_owned())
    );
    assert_eq!(
        peer.attached_to_user(&second.name).await,
        vec![name.clone()]
    );
    assert_eq!(peer.attached_to_user(&first.name).await, vec![name.clone()]);
    assert!(!out.stderr.contains("created policy"), "{}", out.stderr);

    // Fixing a user that is already fine changes nothing at all.
    let again = fix(
        &peer,
        &first,
        &bucket,
        &["--yes", "--admin-profile", "admin"],
    )
    .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("nothing to fix"), "{}", again.stderr);
    assert_eq!(peer.versions(&policy_arn(&name)).await.0.len(), 1);
}

#[tokio::test]
async fn a_changed_access_level_becomes_a_new_default_version() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let reader = peer.user(None).await;
    let writer = peer.user(None).await;
    let name = format!("shared-{bucket}");
    let common = [
        "--yes",
        "--admin-profile",
        "admin",
        "--policy-name",
        name.as_str(),
    ];

    let mut args = common.to_vec();
    args.extend(["--access", "read"]);
    assert_eq!(fix(&peer, &reader, &bucket, &args).await.code, 0);
    assert_eq!(peer.versions(&policy_arn(&name)).await.1, "v1");

    let out = fix(&peer, &writer, &bucket, &common).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (versions, default) = peer.versions(&policy_arn(&name)).await;
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(default, "v2");
    assert_eq!(check_code(&peer, &writer, &bucket).await, 0);
}

#[tokio::test]
async fn with_five_versions_the_oldest_non_default_is_removed_after_saying_so() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let name = format!("full-{bucket}");
    let arn = policy_arn(&name);
    let doc = |n: u32| s3_allow(&[&format!("other-{n}-{bucket}")], &["s3:GetObject"]).to_string();
    peer.iam
        .create_policy()
        .policy_name(&name)
        .policy_document(doc(1))
        .send()
        .await
        .expect("create policy");
    for n in 2..=5 {
        peer.iam
            .create_policy_version()
            .policy_arn(&arn)
            .policy_document(doc(n))
            .set_as_default(n == 5)
            .send()
            .await
            .expect("create policy version");
    }
    assert_eq!(peer.versions(&arn).await.0.len(), 5);

    let out = fix(
        &peer,
        &user,
        &bucket,
        &["--yes", "--admin-profile", "admin", "--policy-name", &name],
    )
    .await;

    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan_end = out.stderr.find("Changed:").expect("changes");
    let said = out.stderr[..plan_end]
        .find("v1")
        .expect("the plan names the version it removes");
    assert!(said < plan_end);
    let (versions, default) = peer.versions(&arn).await;
    assert_eq!(versions.len(), 5, "{versions:?}");
    assert!(!versions.contains(&"v1".to_owned()), "{versions:?}");
    assert!(
        versions.contains(&"v5".to_owned()),
        "the old default stays: {versions:?}"
    );
    assert_eq!(default, "v6");
    assert_eq!(check_code(&peer, &user, &bucket).await, 0);
}

#[tokio::test]
async fn an_assumed_role_is_fixed_through_its_role() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let session = peer.role_session(None).await;

    let out = fix(
        &peer,
        &session,
        &bucket,
        &["--yes", "--admin-profile", "admin"],
    )
    .await;

    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("AttachRolePolicy"), "{}", out.stderr);
    let attached = peer
        .iam
        .list_attached_role_policies()
        .role_name(&session.name)
        .send()
        .await
        .expect("list attached role policies");
    let names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert_eq!(names, vec![format!("s3doctor-{bucket}-read-write")]);
    assert_eq!(check_code(&peer, &session, &bucket).await, 0);
}

#[tokio::test]
async fn undo_detaches_what_fix_attached() {
    let peer = Peer::get();
    let (bucket, user, _) = fixed_user(&peer).await;

    let out = fix(
        &peer,
        &user,
        &bucket,
        &["--undo", "--yes", "--admin-profile", "admin"],
    )
    .await;

    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("detached"), "{}", out.stderr);
    assert!(peer.attached_to_user(&user.name).await.is_empty());
    assert_eq!(check_code(&peer, &user, &bucket).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn undo_without_yes_asks_first_and_no_answer_detaches_nothing() {
    let peer = Peer::get();
    let (bucket, user, name) = fixed_user(&peer).await;

    // Without a terminal to ask on, and without --yes: refused, nothing detached.
    let refused = fix(
        &peer,
        &user,
        &bucket,
        &["--undo", "--admin-profile", "admin"],
    )
    .await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--undo"), "{}", refused.stderr);
    assert!(!refused.stderr.contains("--export"), "{}", refused.stderr);

    // On a terminal it asks; n detaches nothing.
    let tmux = crate::terminal::Tmux::start_with(
        &peer.url,
        Some(&peer.admin),
        &user,
        &[
            "fix",
            "--undo",
            "--bucket",
            &bucket,
            "--admin-profile",
            "admin",
        ],
    );
    tmux.wait_for("the question", |s| s.contains("Undo s3doctor's fix"));
    tmux.keys("n");
    tmux.keys("Enter");
    let screen = tmux.wait_for("the exit", |s| s.contains("EXIT="));
    assert!(
        screen.contains("cancelled; nothing was changed"),
        "{screen}"
    );
    assert!(screen.contains("EXIT=1"), "{screen}");
    assert_eq!(peer.attached_to_user(&user.name).await, vec![name]);
}

/// On a terminal, a plan that could be applied is applied only on `y`: any other answer
/// (just Enter, or a word such as "yes") changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn any_answer_but_y_to_a_plan_that_could_be_applied_changes_nothing() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    for answer in ["", "yes"] {
        let tmux = crate::terminal::Tmux::start_with(
            &peer.url,
            Some(&peer.admin),
            &user,
            &["fix", "--bucket", &bucket, "--admin-profile", "admin"],
        );
        // Asked only for a plan that is not blocked: one that could be applied.
        tmux.wait_for("the question", |s| s.contains("Apply this plan? [y/N]"));
        if !answer.is_empty() {
            tmux.keys(answer);
        }
        tmux.keys("Enter");
        let screen = tmux.wait_for("the exit", |s| s.contains("EXIT="));
        assert!(
            screen.contains("cancelled; nothing was changed"),
            "{answer:?}: {screen}"
        );
        assert!(screen.contains("EXIT=1"), "{screen}");
        assert!(
            peer.attached_to_user(&user.name).await.is_empty(),
            "{answer:?}"
        );
    }
    assert_eq!(check_code(&peer, &user, &bucket).await, 1, "still refused");
}

#[tokio::test]
async fn undo_with_export_is_refused_and_changes_nothing() {
    let peer = Peer::get();
    let (bucket, user, name) = fixed_user(&peer).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("undo.md");

    // --export's help says "change nothing": with --undo (even with --yes) it must not detach.
    let out = fix(
        &peer,
        &user,
        &bucket,
        &[
            "--undo",
            "--yes",
            "--export",
            export.to_str().expect("utf-8 path"),
            "--admin-profile",
            "admin",
        ],
    )
    .await;

    assert_eq!(out.code, 2, "{}", out.stderr);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{:?}", out.stderr);
    assert_eq!(peer.attached_to_user(&user.name).await, vec![name]);
}

#[tokio::test]
async fn the_export_is_a_ticket_for_whoever_owns_iam_and_changes_nothing() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let run = Run::new(&["fix", "--bucket", &bucket]);
    let path = run.file("fix.md");
    let out = run
        .keys(&peer, &user)
        .arg("--export")
        .arg(&path.display().to_string())
        .output()
        .await;

    assert_eq!(out.code, 1, "{}", out.stderr);
    let md = out.read("fix.md");
    let name = format!("s3doctor-{bucket}-read-write");
    // The commands are wrapped with `\` continuations; read them as one line each.
    let flat = md.replace(" \\\n    ", " ");
    let create = flat
        .lines()
        .find(|l| l.starts_with("aws iam create-policy"))
        .unwrap_or_else(|| panic!("no create-policy command: {md}"));
    assert!(
        create.contains(&format!("--policy-name {name}")),
        "{create}"
    );
    assert!(
        create.contains(&format!("--endpoint-url {}", peer.url)),
        "{create}"
    );
    let attach = flat
        .lines()
        .find(|l| l.starts_with("aws iam attach-user-policy"))
        .unwrap_or_else(|| panic!("no attach-user-policy command: {md}"));
    assert!(
        attach.contains(&format!("--user-name {}", user.name)),
        "{attach}"
    );
    assert!(
        attach.contains(&format!("--policy-arn {}", policy_arn(&name))),
        "{attach}"
    );
    assert!(md.contains("```json"), "{md}");
    assert!(!md.contains(&user.secret));
    assert!(peer.attached_to_user(&user.name).await.is_empty());
}

#[tokio::test]
async fn a_fix_that_does_not_cure_everything_is_not_called_verified() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    // A bucket policy that refuses every upload: no Allow can cure that.
    let deny = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoUploads", "Effect": "Deny", "Principal": "*",
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]});
    peer.s3("us-east-1")
        .put_bucket_policy()
        .bucket(&bucket)
        .policy(deny.to_string())
        .send()
        .await
        .expect("put bucket policy");

    let out = fix(
        &peer,
        &user,
        &bucket,
        &["--yes", "--admin-profile", "admin", "--verify-timeout", "2"],
    )
    .await;

    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    // The plan warned that the deny stays, the listing was fixed, the upload was not.
    assert!(out.stderr.contains("NoUploads"), "{}", out.stderr);
    assert!(out.stderr.contains("still failing"), "{}", out.stderr);
    assert!(out.stderr.contains("put-object"), "{}", out.stderr);
    assert_eq!(
        peer.attached_to_user(&user.name).await,
        vec![format!("s3doctor-{bucket}-read-write")]
    );
}

/// The arguments of the `s3doctor` command under `## Verify` (the paths here need no quotes).
fn verify_args(md: &str) -> Vec<String> {
    let section = md
        .split("## Verify")
        .nth(1)
        .unwrap_or_else(|| panic!("no Verify section:\n{md}"));
    let line = section
        .lines()
        .find(|l| l.starts_with("s3doctor "))
        .unwrap_or_else(|| panic!("no s3doctor command under Verify:\n{md}"));
    line.split_whitespace().skip(1).map(str::to_owned).collect()
}

#[tokio::test]
async fn the_printed_verify_commands_check_the_apps_keys_not_the_readers() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let env = write_env_file(dir.path(), &user);
    let env = env.to_str().expect("utf-8 path");
    let export = dir.path().join("fix.md");
    let target = ["--env-file", env, "--endpoint-url", peer.url.as_str()];

    let report = Run::new(&["check", "--bucket", &bucket, "--format", "markdown"])
        .arg(target[0])
        .arg(target[1])
        .arg(target[2])
        .arg(target[3])
        .output()
        .await;
    assert_eq!(report.code, 1, "{}", report.stderr);
    let handover = Run::new(&["fix", "--bucket", &bucket, "--export"])
        .arg(export.to_str().expect("utf-8 path"))
        .arg(target[0])
        .arg(target[1])
        .arg(target[2])
        .arg(target[3])
        .output()
        .await;
    assert_eq!(handover.code, 1, "{}", handover.stderr);
    let handover = std::fs::read_to_string(&export).expect("the hand-over");

    for md in [&report.stdout, &handover] {
        let args = verify_args(md);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Run by someone whose own keys are an administrator's (the IAM owner the hand-over
        // goes to): it must still check the app's keys, and still find the problem.
        let out = Run::new(&args)
            .env("AWS_ACCESS_KEY_ID", &peer.admin.id)
            .env("AWS_SECRET_ACCESS_KEY", &peer.admin.secret)
            .output()
            .await;
        assert_eq!(out.code, 1, "{args:?}\n{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains(&format!("user/{} ", user.name)),
            "{args:?}\n{}",
            out.stdout
        );
    }
}

#[tokio::test]
async fn the_printed_undo_command_undoes_the_fix_it_follows() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = peer.user(None).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let env = write_env_file(dir.path(), &user);
    let env = env.to_str().expect("utf-8 path");
    let fixed = Run::new(&["fix", "--bucket", &bucket, "--env-file", env, "--yes"])
        .arg("--endpoint-url")
        .arg(&peer.url)
        .arg("--admin-profile")
        .arg("admin")
        .profiles(&[("admin", &peer.admin)])
        .output()
        .await;
    assert_eq!(fixed.code, 0, "{}", fixed.stderr);
    assert!(!peer.attached_to_user(&user.name).await.is_empty());
    let line = fixed
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("Undo with: s3doctor "))
        .unwrap_or_else(|| panic!("no undo command:\n{}", fixed.stderr));
    let args: Vec<&str> = line.split_whitespace().collect();

    // As printed (plus --yes: no terminal here), in a shell with the admin profile and no
    // keys of its own.
    let out = Run::new(&args)
        .arg("--yes")
        .profiles(&[("admin", &peer.admin)])
        .output()
        .await;

    assert_eq!(out.code, 0, "{args:?}\n{}", out.stderr);
    assert!(peer.attached_to_user(&user.name).await.is_empty());
}

#[tokio::test]
async fn an_export_with_nothing_to_hand_over_says_no_file_was_written() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    // Incident 2: an explicit Deny, which no generated policy fixes.
    let policy = crate::peer::incident_2_policy(&bucket);
    let user = peer.user(Some(policy)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("fix.md");
    let export_arg = export.to_str().expect("utf-8 path");

    let out = fix(
        &peer,
        &user,
        &bucket,
        &["--export", export_arg, "--admin-profile", "admin"],
    )
    .await;

    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!export.exists(), "a hand-over was written");
    assert!(
        out.stderr
            .contains(&format!("nothing written to {export_arg}")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("DenyDelete"), "{}", out.stderr);
}
