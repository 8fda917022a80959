//! The demo's incident gallery against the emulator. Headless, each incident is seeded with
//! `s3doctor demo --seed`, diagnosed with `s3doctor check` (it must produce the finding it
//! teaches, and for deny/region/keys name the right non-policy remedy), fixed the way it
//! teaches (`s3doctor fix --yes`, or the person's change with `demo --apply-fix`) and checked
//! again. In tmux, the chooser and one full pick → diagnose → fix → "what you learned".

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::peer::{Keys, Peer, Run, codes, finding};
use crate::rgw::Rgw;
use crate::terminal::Tmux;

/// Every incident's names get this run's suffix: tests seed side by side on one emulator.
fn suffix() -> String {
    format!("-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// Where an incident runs: the emulator, or Ceph RGW (whose admin is the bucket owner).
struct Target {
    moto: Peer,
    rgw: Option<Rgw>,
}

impl Target {
    fn moto() -> Target {
        Target {
            moto: Peer::get(),
            rgw: None,
        }
    }

    /// The URL and admin keys s3doctor uses for the incident's checks and fix.
    fn server(&self) -> (&str, &Keys) {
        match &self.rgw {
            Some(rgw) => (&rgw.url, &rgw.owner),
            None => (&self.moto.url, &self.moto.admin),
        }
    }

    /// `s3doctor demo ARGS` with the emulator's admin as the profile `admin` (and on RGW the
    /// owner and the app as `owner` and `app`).
    fn demo(&self, dir: &Path, args: &[&str]) -> Run {
        let mut run = Run::new(&["demo"])
            .arg("--workdir")
            .arg(&dir.display().to_string())
            .arg("--endpoint-url")
            .arg(&self.moto.url)
            .arg("--admin-profile")
            .arg("admin");
        run = match &self.rgw {
            Some(rgw) => run
                .profiles(&[
                    ("admin", &self.moto.admin),
                    ("owner", &rgw.owner),
                    ("app", &rgw.user),
                ])
                .arg("--rgw-endpoint")
                .arg(&rgw.url)
                .arg("--rgw-owner-profile")
                .arg("owner")
                .arg("--rgw-app-profile")
                .arg("app"),
            None => run.profiles(&[("admin", &self.moto.admin)]),
        };
        for a in args {
            run = run.arg(a);
        }
        run
    }

    /// `s3doctor ARGS` on a seeded incident as its app sees it (its .env, its access), with
    /// the admin profile so that policies can be read (and the fix applied).
    fn app_run(&self, args: &[&str], seeded: &Value) -> Run {
        let (url, admin) = self.server();
        let mut run = Run::new(args)
            .profiles(&[("admin", admin)])
            .unset("AWS_REGION")
            .arg("--env-file")
            .arg(seeded["env_file"].as_str().expect("env_file"))
            .arg("--access")
            .arg(seeded["access"].as_str().expect("access"))
            .arg("--admin-profile")
            .arg("admin")
            .arg("--endpoint-url")
            .arg(url);
        // The role the app runs as, assumed with the .env's keys.
        if let Some(role) = seeded["role_arn"].as_str() {
            run = run.arg("--role-arn").arg(role);
        }
        // The objects the ticket names, as its reader passes them.
        for key in seeded["keys"].as_array().expect("keys") {
            run = run.arg("--key").arg(key.as_str().expect("key"));
        }
        // Where the app's requests come from, as the ticket says.
        for flag in ["source_ip", "vpce"] {
            if let Some(v) = seeded[flag].as_str() {
                run = run.arg(&format!("--{}", flag.replace('_', "-"))).arg(v);
            }
        }
        run
    }

    async fn check(&self, seeded: &Value) -> (i32, Value) {
        let out = self
            .app_run(&["check", "--format", "json"], seeded)
            .output()
            .await;
        (out.code, out.json())
    }
}

/// Seeds, diagnoses, fixes and re-checks one incident on the emulator.
async fn incident(name: &str) -> Value {
    incident_on(&Target::moto(), name).await
}

/// Seeds, diagnoses, fixes and re-checks one incident; returns the first report.
async fn incident_on(t: &Target, name: &str) -> Value {
    let spec = s3doctor::gallery::find(name).expect("incident in the gallery");
    let dir = tempfile::tempdir().expect("workdir");
    let sfx = suffix();
    let suffix_arg = format!("--suffix={sfx}");

    let out = t
        .demo(dir.path(), &["--seed", "--incident", name, &suffix_arg])
        .output()
        .await;
    assert_eq!(out.code, 0, "seeding {name}: {}", out.stderr);
    let seeded = out.json();
    assert_eq!(seeded["bucket"], format!("{}{sfx}", spec.app.bucket));
    // What it prints never holds the secret that went into the app's .env.
    let env = std::fs::read_to_string(seeded["env_file"].as_str().expect("env_file"))
        .expect("the app's .env");
    let secret = env
        .lines()
        .find_map(|l| l.strip_prefix("S3_SECRET_KEY="))
        .expect("S3_SECRET_KEY");
    assert!(!out.stdout.contains(secret) && !out.stderr.contains(secret));

    let (code, report) = t.check(&seeded).await;
    assert_eq!(code, 1, "{name} must fail first: {report:#}");
    let taught = spec.teaches.as_str();
    let finding = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["code"] == taught
                && spec
                    .action
                    .as_deref()
                    .is_none_or(|a| f["action"].as_str() == Some(a))
        })
        .unwrap_or_else(|| {
            panic!(
                "{name} should teach {taught} {:?}, found {:?}",
                spec.action,
                codes(&report)
            )
        });

    match spec.fix {
        s3doctor::gallery::FixKind::Policy | s3doctor::gallery::FixKind::Trust => {
            // On AWS the generated IAM policy; where there is no IAM, a bucket-policy grant; for
            // a role that does not trust the caller, the statement to add.
            let wanted = if let Some(mention) = spec.remedy_mentions.as_deref() {
                mention
            } else if t.rgw.is_some() {
                "bucket policy"
            } else {
                "least-privilege policy"
            };
            assert!(
                finding["remedy"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(wanted),
                "{name}: the remedy should name the {wanted}: {finding:#}"
            );
            let out = t.app_run(&["fix", "--yes"], &seeded).output().await;
            assert_eq!(out.code, 0, "s3doctor fix on {name}: {}", out.stderr);
            let (code, after) = t.check(&seeded).await;
            assert_eq!(code, 0, "{name} after s3doctor fix: {after:#}");
        }
        s3doctor::gallery::FixKind::Manual => {
            let mention = spec.remedy_mentions.as_deref().expect("remedy_mentions");
            assert!(
                finding["remedy"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(mention),
                "{name}: the remedy should say {mention:?}: {finding:#}"
            );
            // Not a missing permission: s3doctor offers no policy for it.
            assert!(
                spec.teaches.as_str() == "permission.missing"
                    || !codes(&report).contains(&"permission.missing".to_owned()),
                "{name}: {:?}",
                codes(&report)
            );
            let out = t
                .demo(
                    dir.path(),
                    &["--apply-fix", "--incident", name, &suffix_arg],
                )
                .output()
                .await;
            assert_eq!(out.code, 0, "the fix of {name}: {}", out.stderr);
            let fixed = out.json();
            let (code, after) = t.check(&fixed).await;
            assert_eq!(code, 0, "{name} after its fix: {after:#}");
        }
    }
    report
}

#[tokio::test]
async fn runpod_no_permissions_is_fixed_by_the_generated_policy() {
    let report = incident("runpod-no-permissions").await;
    assert_eq!(report["identity"]["principal_type"], "user");
}

#[tokio::test]
async fn task_role_no_grant_is_fixed_on_the_role_checked_with_role_arn() {
    let report = incident("task-role-no-grant").await;
    // The report names the role (with its path), which the fix changed, not the session.
    let role = report["identity"]["role_arn"].as_str().expect("role_arn");
    assert!(role.contains(":role/service/thumbnailer-task"), "{role}");
    let missing = finding(&report, "permission.missing", Some("s3:PutObject"));
    assert!(
        missing["summary"].as_str().expect("summary").contains(role),
        "{missing:#}"
    );
}

#[tokio::test]
async fn deploy_role_not_trusted_is_fixed_by_the_trust_statement() {
    let report = incident("deploy-role-not-trusted").await;
    let refused = finding(&report, "credentials.assume-role-refused", None);
    assert_eq!(refused["basis"], "policies", "{refused:#}");
    let summary = refused["summary"].as_str().expect("summary");
    assert!(
        summary.contains("but for sts:AssumeRoleWithWebIdentity only, not sts:AssumeRole"),
        "{summary}"
    );
}

#[tokio::test]
async fn delete_denied_names_the_deny_statement() {
    let report = incident("delete-denied").await;
    let deny = crate::peer::finding(&report, "permission.explicit-deny", Some("s3:DeleteObject"));
    assert_eq!(deny["source"], "identity-policy");
    assert!(
        deny["remedy"]
            .as_str()
            .unwrap_or_default()
            .contains("DenyDelete")
    );
}

#[tokio::test]
async fn wrong_region_names_the_buckets_region() {
    incident("wrong-region").await;
}

#[tokio::test]
async fn rotated_key_is_an_unknown_key_id() {
    let report = incident("rotated-key").await;
    refused_keys_prove_nothing_about_the_bucket(&report);
}

#[tokio::test]
async fn wrong_secret_is_a_signature_mismatch() {
    let report = incident("wrong-secret").await;
    refused_keys_prove_nothing_about_the_bucket(&report);
}

/// Keys AWS refused get 403 from HeadBucket whatever the bucket: the bucket check does not
/// pass on it ("exists"), it says it cannot tell.
fn refused_keys_prove_nothing_about_the_bucket(report: &serde_json::Value) {
    let step = report["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["id"] == "bucket-exists"))
        .expect("a bucket-exists step");
    assert_eq!(step["status"], "warn", "{step:#}");
    let detail = step["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with("not known: AWS refused these keys"),
        "{step:#}"
    );
    assert_eq!(step["evidence"]["http_status"], 403, "{step:#}");
}

#[tokio::test]
async fn policy_for_another_bucket_is_fixed_by_the_generated_policy() {
    incident("policy-for-another-bucket").await;
}

#[tokio::test]
async fn listbucket_on_objects_is_fixed_by_the_generated_policy() {
    incident("listbucket-on-objects").await;
}

/// Works from the laptop, 403 from the server: an office-only Deny (NotIpAddress
/// aws:SourceIp) applies to every request through the VPC's gateway endpoint, which carries no
/// aws:SourceIp. moto counts a conditional statement as a denial (notes/moto.md), so the live
/// probe is refused from here whatever the condition: the verdict on the app's network is the
/// evaluator's (--source-ip, --vpce), named with the statement; after the owner widens the
/// condition to the endpoint, the app's network is allowed and only the probe from here (moto)
/// is refused, which the report says as a warning, not a missing permission.
#[tokio::test]
async fn laptop_works_server_403_is_the_office_only_condition_on_the_apps_network() {
    let report = incident("laptop-works-server-403").await;
    let f = crate::peer::finding(
        &report,
        "permission.depends-on-network",
        Some("s3:PutObject"),
    );
    assert_eq!(f["severity"], "error", "{f:#}");
    assert_eq!(f["basis"], "policies", "{f:#}");
    assert_eq!(f["statement"]["sid"], "OfficeOnly", "{f:#}");
    let summary = f["summary"].as_str().expect("summary");
    assert!(
        summary.contains("aws:SourceIp is not in the request"),
        "{summary}"
    );
    assert!(
        f["vantages"]["from_app_network"]
            .as_str()
            .expect("app")
            .starts_with("denied"),
        "{f:#}"
    );
    assert!(
        !codes(&report).contains(&"permission.missing".to_owned()),
        "{:?}",
        codes(&report)
    );
    assert_eq!(
        report["target"]["app_network"]["vpce"],
        "vpce-0a1b2c3d4e5f67890"
    );
}

#[tokio::test]
async fn bucket_policy_deny_is_found_in_the_bucket_policy() {
    let report = incident("bucket-policy-deny").await;
    let deny = crate::peer::finding(&report, "permission.explicit-deny", Some("s3:PutObject"));
    assert_eq!(deny["source"], "bucket-policy");
}

#[tokio::test]
async fn acl_disabled_is_found_from_object_ownership() {
    incident("acl-disabled").await;
}

/// The one file: the default checks pass (the probe is outside finance/*), and the object the
/// ticket names (`--key`) is refused by a bucket-policy Deny scoped to its prefix, named on it.
#[tokio::test]
async fn one_file_will_not_download_names_the_deny_on_that_key() {
    let report = incident("one-file-will-not-download").await;
    let deny = crate::peer::finding(&report, "permission.explicit-deny", Some("s3:GetObject"));
    assert_eq!(deny["key"], "finance/q3-report.pdf", "{deny:#}");
    assert_eq!(deny["source"], "bucket-policy");
    assert_eq!(deny["statement"]["sid"], "DenyFinanceReports", "{deny:#}");
    // Only that object: every probe step passed.
    for step in report["steps"].as_array().expect("steps") {
        if step["id"] != "app-object" && step["id"] != "bucket-policy" {
            assert_ne!(step["status"], "fail", "{step:#}");
        }
    }
}

/// Ceph RGW: a second user without a grant on the owner's bucket; s3doctor's fix there is a
/// bucket-policy grant (no IAM), applied with the owner's keys (`fix --yes`) and verified.
#[tokio::test]
async fn rgw_ceph_bucket_without_a_grant_is_fixed_through_the_bucket_policy() {
    let Some(rgw) = Rgw::get("rgw_ceph_bucket_without_a_grant_is_fixed_through_the_bucket_policy")
    else {
        return;
    };
    let t = Target {
        moto: Peer::get(),
        rgw: Some(rgw),
    };
    let report = incident_on(&t, "ceph-rgw-no-grant").await;
    assert!(
        !codes(&report).contains(&"bucket.wrong-region".to_owned()),
        "a zonegroup is not a wrong region: {report:#}"
    );
}

#[tokio::test]
async fn an_rgw_incident_without_rgw_says_how_to_get_it() {
    let t = Target::moto();
    let dir = tempfile::tempdir().expect("workdir");
    let out = t
        .demo(dir.path(), &["--seed", "--incident", "ceph-rgw-no-grant"])
        .output()
        .await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("scripts/demo.sh --rgw"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn every_gallery_incident_has_a_test_here() {
    let this = include_str!("gallery.rs");
    for i in s3doctor::gallery::embedded() {
        assert!(
            this.contains(&format!("incident(\"{}\")", i.name))
                || this.contains(&format!("incident_on(&t, \"{}\")", i.name)),
            "{} has no headless test",
            i.name
        );
    }
}

#[tokio::test]
async fn list_prints_every_incident_and_an_unknown_one_is_bad_input() {
    let out = Run::new(&["demo", "--list"]).output().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines.len() >= 8, "{}", out.stdout);
    assert!(
        lines[0].starts_with("runpod-no-permissions "),
        "{}",
        out.stdout
    );
    let bad = Run::new(&["demo", "--incident", "nope", "--workdir", "/tmp"])
        .output()
        .await;
    assert_eq!(bad.code, 2);
    assert_eq!(bad.stderr.lines().count(), 1, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("runpod-no-permissions"),
        "{}",
        bad.stderr
    );
}

/// `s3doctor demo` against the emulator in a new tmux server; the shell prints `EXIT=<code>`
/// when the demo ends and then stays, so the last screen can be read.
fn start_demo(peer: &Peer, sfx: &str) -> Tmux {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("workdir");
    let creds = crate::peer::write_admin_profile(dir.path(), &peer.admin);
    let script = format!(
        "cd {dir} && env -i PATH=\"$PATH\" HOME={dir} TERM=xterm-256color \
             AWS_CONFIG_FILE={dir}/config AWS_SHARED_CREDENTIALS_FILE={creds} \
             AWS_EC2_METADATA_DISABLED=true {bin} demo --workdir {work} --endpoint-url {url} \
             --admin-profile admin --suffix={sfx}; echo \"EXIT=$?\"; sleep 600",
        dir = dir.path().display(),
        creds = creds.display(),
        bin = env!("CARGO_BIN_EXE_s3doctor"),
        work = work.display(),
        url = peer.url,
    );
    Tmux::launch(&script, dir)
}

/// Waits until the screen shows `text` (in two captures in a row) and returns it.
fn wait_for(tmux: &Tmux, text: &str) -> String {
    tmux.wait_for(&format!("{text:?}"), |s| s.contains(text))
}

/// The pid of the demo process (found by its private work dir on its command line).
fn demo_pid(tmux: &Tmux) -> Option<u32> {
    let work = tmux.dir().join("work");
    let needle = work.to_string_lossy().into_owned();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        (cmd.contains(" demo ")
            && cmd.contains(&needle)
            && !cmd.contains("tmux")
            && !cmd.contains("EXIT="))
        .then_some(pid)
    })
}

#[test]
fn chooser_pick_diagnose_fix_and_what_you_learned_in_tmux() {
    let peer = Peer::get();
    let sfx = suffix();
    let tmux = start_demo(&peer, &sfx);

    // The chooser: where to start, every incident, the first ticket, the scorecard.
    let screen = wait_for(&tmux, "Scorecard: found 0/");
    assert!(screen.contains("Start here:"), "{screen}");
    for i in s3doctor::gallery::embedded() {
        assert!(screen.contains(&i.name), "{} missing:\n{screen}", i.name);
    }
    assert!(screen.contains("Ticket #1 (clipizy)"), "{screen}");
    // ↓ shows the next ticket, ↑ comes back.
    tmux.keys("Down");
    wait_for(&tmux, "Ticket #2 (sselfie)");
    tmux.keys("Up");
    wait_for(&tmux, "Ticket #1 (clipizy)");

    // Pick incident 1: seeded fresh, the wizard opens on it and says where to start.
    tmux.keys("Enter");
    let screen = wait_for(&tmux, "Start here: press a");
    assert!(screen.contains(&format!("user/Runpod{sfx}")), "{screen}");
    // q leads back to the gallery here, and the footer says so.
    let footer = screen
        .lines()
        .rfind(|l| l.contains(" ? help"))
        .unwrap_or("");
    assert!(footer.trim_end().ends_with(" q back"), "{screen}");
    tmux.keys("a");
    let screen = wait_for(&tmux, "— press f");
    assert!(
        screen.contains(&format!(
            "no policy allows Runpod{sfx} to write to clipizy-dev{sfx}"
        )),
        "{screen}"
    );
    tmux.keys("f");
    wait_for(&tmux, "iam:AttachUserPolicy");
    tmux.keys("y");
    wait_for(&tmux, "Fixed and verified: the failed steps pass now.");
    tmux.keys("q");

    // Back in the gallery: a fresh check, then what you learned and what the fix changed.
    let screen = wait_for(&tmux, "What you learned");
    assert!(screen.contains("What the fix changed"), "{screen}");
    assert!(
        screen.contains(&format!("s3doctor-clipizy-dev{sfx}-read-write")),
        "{screen}"
    );
    assert!(screen.contains("found 1/"), "{screen}");
    assert!(screen.contains("fixed 1/"), "{screen}");
    tmux.keys("Enter");
    wait_for(&tmux, "Enter pick");
    tmux.keys("q");
    let screen = wait_for(&tmux, "EXIT=");
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        screen.contains("s3doctor demo: scorecard found 1/"),
        "{screen}"
    );
}

/// SIGTERM (and SIGHUP, a closed terminal) ends the demo even after a wizard ran: the wizard's
/// handlers replace the default action, so the gallery must act on them itself, or it lives on
/// reading a dead terminal.
#[test]
fn a_signal_ends_the_demo_after_a_wizard_ran() {
    let peer = Peer::get();
    let tmux = start_demo(&peer, &suffix());
    wait_for(&tmux, "Scorecard: found 0/");
    tmux.keys("Enter");
    wait_for(&tmux, "Start here: press a");
    tmux.keys("q");
    wait_for(&tmux, "Back from the wizard");
    let pid = demo_pid(&tmux).expect("the demo's pid");
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let screen = wait_for(&tmux, "EXIT=");
    assert!(screen.contains("s3doctor demo: scorecard"), "{screen}");
    assert!(
        demo_pid(&tmux).is_none(),
        "the demo is still running:\n{screen}"
    );
}

/// The screen as text, one trimmed line per row.
fn text(buffer: &ratatui::buffer::Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The chooser as a newcomer first sees it, and "what you learned" after incident 1.
#[test]
fn chooser_and_what_you_learned_screens() {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use s3doctor::tui::chooser::{self, Chooser, Score, Screen};
    use s3doctor::tui::theme::Theme;

    let mut c = Chooser::new(s3doctor::gallery::embedded(), Theme { color: false });
    let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    term.draw(|f| chooser::draw(&c, f)).expect("draw");
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("gallery-chooser", text(term.backend().buffer()));
    });

    c.names = c.incidents[0].names("");
    c.scores[0] = Score {
        tried: true,
        found: true,
        fixed: true,
        time: Duration::from_secs(83),
    };
    c.screen = Screen::Learned;
    term.draw(|f| chooser::draw(&c, f)).expect("draw");
    insta::with_settings!({ prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("gallery-learned", text(term.backend().buffer()));
    });

    // On a 60-column terminal the footer still shows every key (the scorecard gives way).
    for screen in [Screen::Choose, Screen::Learned] {
        c.screen = screen;
        let mut narrow = Terminal::new(TestBackend::new(60, 20)).expect("terminal");
        narrow.draw(|f| chooser::draw(&c, f)).expect("draw");
        let shown = text(narrow.backend().buffer());
        let footer = shown.lines().nth(19).unwrap_or_default();
        assert!(footer.contains("q quit"), "{footer:?}\n{shown}");
    }
}
