//! Conditions and the app's network against the emulator (moto, IAM enforcement on). moto
//! judges a bucket-policy statement whose condition it cannot evaluate (`aws:SecureTransport`,
//! `aws:SourceVpce`, …) as a denial, even an Allow (notes/moto.md): so the live probes here are
//! refused by moto whatever the condition, and what these tests check is what s3doctor says of
//! it — decided by the policies (basis `policies`) with the values it knows, or named as a
//! condition on the network, never "attach a policy". The VPC endpoint's policy is read from
//! moto's EC2 (`DescribeVpcEndpoints`, which moto implements) through s3doctor's signed query.

use serde_json::{Value, json};

use crate::peer::{Keys, Peer, Run, codes, finding, status};

/// The app user: read and write on `bucket` in its own policy.
async fn app_user(peer: &Peer, bucket: &str) -> Keys {
    peer.user(Some(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
         "Resource": format!("arn:aws:s3:::{bucket}")},
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
         "Resource": format!("arn:aws:s3:::{bucket}/*")}]})))
        .await
}

async fn put_bucket_policy(peer: &Peer, bucket: &str, doc: &Value) {
    peer.s3("us-east-1")
        .put_bucket_policy()
        .bucket(bucket)
        .policy(doc.to_string())
        .send()
        .await
        .expect("put bucket policy");
}

/// A bucket policy that denies the app's object calls on `bucket` unless `condition` holds
/// (`{"StringNotEquals": {"aws:SourceVpce": …}}`: only through that endpoint), as `sid`.
fn deny_unless(bucket: &str, sid: &str, condition: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": sid, "Effect": "Deny", "Principal": "*",
         "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
         "Resource": format!("arn:aws:s3:::{bucket}/*"),
         "Condition": condition}]})
}

/// The upload's `permission.depends-on-network` finding says it is allowed from the app's
/// network, not only "allowed unless a condition denies it", and is a warning: only the probe
/// from here is refused (moto refuses any conditional statement).
fn allowed_from_the_apps_network(f: &Value) {
    assert_eq!(f["severity"], "warning", "{f:#}");
    let app = f["vantages"]["from_app_network"].as_str().expect("app");
    assert!(
        app.starts_with("allowed") && !app.starts_with("allowed unless"),
        "{f:#}"
    );
}

/// `check --format FORMAT` of `bucket` with the app's keys and the admin profile.
fn check(peer: &Peer, keys: &Keys, bucket: &str, format: &str) -> Run {
    Run::new(&["check", "--format", format, "--bucket", bucket])
        .keys(peer, keys)
        .profiles(&[("admin", &peer.admin)])
        .arg("--admin-profile")
        .arg("admin")
}

/// A Deny of every request without TLS, against the emulator's `http://` endpoint: decided
/// from the endpoint's scheme (the policies say it), an explicit deny whose fix is HTTPS; no
/// "attach a policy", and the bucket-policy step never says it denies none.
#[tokio::test]
async fn a_deny_without_tls_against_an_http_endpoint_is_decided_by_the_scheme() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = app_user(&peer, &bucket).await;
    put_bucket_policy(
        &peer,
        &bucket,
        &json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}),
    )
    .await;
    let out = check(&peer, &user, &bucket, "json").output().await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    let deny = finding(&report, "permission.explicit-deny", Some("s3:PutObject"));
    assert_eq!(deny["basis"], "policies", "{deny:#}");
    assert_eq!(deny["source"], "bucket-policy", "{deny:#}");
    assert_eq!(
        deny["statement"]["sid"], "DenyInsecureTransport",
        "{deny:#}"
    );
    let settled = &deny["statement"]["settled"][0];
    assert_eq!(settled["key"], "aws:SecureTransport", "{deny:#}");
    assert_eq!(settled["request"], json!(["false"]), "{deny:#}");
    assert_eq!(settled["origin"], "endpoint", "{deny:#}");
    assert!(
        deny["remedy"].as_str().expect("remedy").contains("HTTPS"),
        "{deny:#}"
    );
    assert!(
        !codes(&report).contains(&"permission.missing".to_owned()),
        "{:?}",
        codes(&report)
    );
    let step = report["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "bucket-policy")
        .expect("bucket-policy step");
    assert_eq!(step["status"], "fail", "{step:#}");
    assert!(
        !step["detail"]
            .as_str()
            .expect("detail")
            .contains("denies none"),
        "{step:#}"
    );
}

/// An Allow through one VPC endpoint only (a Deny of the rest, as AWS's examples write it):
/// from here the outcome depends on the network (moto refuses the probe, as AWS would from a
/// laptop); from the app's network through that endpoint it is allowed, and the reports say
/// both, in text and Markdown too.
#[tokio::test]
async fn from_here_and_from_the_apps_network_are_both_said_where_they_differ() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = app_user(&peer, &bucket).await;
    let vpce = "vpce-1a2b3c4d";
    let only_through = json!({"StringNotEquals": {"aws:SourceVpce": vpce}});
    let policy = deny_unless(&bucket, "OnlyThroughTheEndpoint", only_through);
    put_bucket_policy(&peer, &bucket, &policy).await;
    // From here alone: the live upload is refused, and the refusal is the condition's.
    let out = check(&peer, &user, &bucket, "json").output().await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    let f = finding(
        &report,
        "permission.depends-on-network",
        Some("s3:PutObject"),
    );
    assert_eq!(
        f["severity"], "error",
        "the refused probe stays an error: {f:#}"
    );
    assert_eq!(f["statement"]["sid"], "OnlyThroughTheEndpoint", "{f:#}");
    assert!(
        f["summary"]
            .as_str()
            .expect("summary")
            .contains(&format!("aws:SourceVpce is {vpce}")),
        "{f:#}"
    );
    assert!(
        !codes(&report).contains(&"permission.missing".to_owned()),
        "{:?}",
        codes(&report)
    );
    assert_eq!(status(&report, "bucket-policy", Some(&bucket)), "warn");
    // Through the endpoint: allowed there; only the probe from here is refused.
    for format in ["json", "text", "markdown"] {
        let out = check(&peer, &user, &bucket, format)
            .arg("--vpce")
            .arg(vpce)
            .output()
            .await;
        match format {
            "json" => {
                let report = out.json();
                let f = finding(
                    &report,
                    "permission.depends-on-network",
                    Some("s3:PutObject"),
                );
                assert_eq!(f["severity"], "warning", "{f:#}");
                assert!(
                    f["vantages"]["from_app_network"]
                        .as_str()
                        .expect("app")
                        .starts_with("allowed"),
                    "{f:#}"
                );
                assert!(
                    f["vantages"]["from_here"]
                        .as_str()
                        .expect("here")
                        .starts_with("allowed unless"),
                    "{f:#}"
                );
                assert_eq!(report["target"]["app_network"]["vpce"], vpce);
            }
            "text" => {
                assert!(
                    out.stdout
                        .contains(&format!("app network  VPC endpoint {vpce}")),
                    "{}",
                    out.stdout
                );
                assert!(
                    out.stdout.contains("    From here: allowed unless"),
                    "{}",
                    out.stdout
                );
                assert!(
                    out.stdout.contains(&format!(
                        "    From the app's network (VPC endpoint {vpce}): allowed"
                    )),
                    "{}",
                    out.stdout
                );
            }
            _ => {
                assert!(
                    out.stdout
                        .contains(&format!("- **App's network:** VPC endpoint {vpce}")),
                    "{}",
                    out.stdout
                );
                assert!(
                    out.stdout.contains("- **From here:** allowed unless"),
                    "{}",
                    out.stdout
                );
                assert!(
                    out.stdout.contains(&format!(
                        "- **From the app's network** (VPC endpoint {vpce}): allowed"
                    )),
                    "{}",
                    out.stdout
                );
            }
        }
    }
}

/// An endpoint policy that lets everything through (AWS's default).
static OPEN: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})
});

/// Creates a VPC and a gateway endpoint for S3 in moto with `policy`, through boto3 (the test
/// venv's) with the admin's keys; returns the endpoint's id.
fn vpc_endpoint(peer: &Peer, policy: &Value) -> String {
    vpc_endpoint_and_vpc(peer, policy).0
}

/// [`vpc_endpoint`], with the id of the VPC it is in.
fn vpc_endpoint_and_vpc(peer: &Peer, policy: &Value) -> (String, String) {
    let venv = std::env::var("S3DOCTOR_VENV").expect("S3DOCTOR_VENV (scripts/test.sh sets it)");
    let script = r#"
import os, sys, boto3
ec2 = boto3.client("ec2", endpoint_url=os.environ["EP"], region_name="us-east-1",
                   aws_access_key_id=os.environ["AK"], aws_secret_access_key=os.environ["SK"])
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
e = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3",
                            VpcEndpointType="Gateway", PolicyDocument=sys.argv[1])
print(e["VpcEndpoint"]["VpcEndpointId"], vpc)
"#;
    let out = std::process::Command::new(format!("{venv}/bin/python"))
        .args(["-c", script, &policy.to_string()])
        .env("EP", &peer.url)
        .env("AK", &peer.admin.id)
        .env("SK", &peer.admin.secret)
        .output()
        .expect("run boto3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let (vpce, vpc) = text.trim().split_once(' ').expect("endpoint and VPC ids");
    (vpce.to_owned(), vpc.to_owned())
}

/// The endpoint's own policy allows reads only: read from moto's EC2 with the admin profile
/// (one signed DescribeVpcEndpoints) and judged as the source `vpc-endpoint-policy`; the same
/// from `--vpce-policy FILE` without asking EC2.
#[tokio::test]
async fn a_vpc_endpoint_policy_that_allows_reads_only_refuses_the_upload_through_it() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = app_user(&peer, &bucket).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadsOnly", "Effect": "Allow", "Principal": "*",
         "Action": ["s3:GetObject", "s3:ListBucket"],
         "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")]}]});
    let vpce = vpc_endpoint(&peer, &policy);
    let judged = |report: &Value| {
        let f = finding(
            report,
            "permission.depends-on-network",
            Some("s3:PutObject"),
        );
        assert_eq!(f["source"], "vpc-endpoint-policy", "{f:#}");
        assert_eq!(f["basis"], "policies", "{f:#}");
        assert!(
            f["remedy"]
                .as_str()
                .expect("remedy")
                .contains("modify-vpc-endpoint"),
            "{f:#}"
        );
        assert!(
            f["summary"].as_str().expect("summary").contains(&vpce),
            "{f:#}"
        );
        // The reads it allows are not refused.
        let on_get = report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["source"] == "vpc-endpoint-policy" && f["action"] == "s3:GetObject");
        assert!(!on_get, "{report:#}");
    };
    let out = check(&peer, &user, &bucket, "json")
        .arg("--vpce")
        .arg(&vpce)
        .output()
        .await;
    let report = out.json();
    assert_eq!(out.code, 1, "{report:#}");
    judged(&report);
    // The same policy from a file: no admin needed to read it.
    let run = Run::new(&["check", "--format", "json", "--bucket", &bucket]).keys(&peer, &user);
    let file = run.file("endpoint-policy.json");
    std::fs::write(&file, policy.to_string()).expect("policy file");
    let out = run
        .arg("--vpce")
        .arg(&vpce)
        .arg("--vpce-policy")
        .arg(&file.display().to_string())
        .output()
        .await;
    judged(&out.json());
}

/// A gateway endpoint's policy that allows the app's account: through a gateway endpoint that
/// names the account's root user only (AWS PrivateLink guide, "Principals for gateway
/// endpoints"), so the upload is refused and the finding says why; from a file, whose kind is
/// not known, the finding says it holds for a gateway endpoint.
#[tokio::test]
async fn a_gateway_endpoint_policy_naming_the_account_is_its_root_user_only() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = app_user(&peer, &bucket).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": crate::peer::ACCOUNT}, "Action": "s3:*",
         "Resource": "*"}]});
    let vpce = vpc_endpoint(&peer, &policy);
    let summary = |report: &Value| {
        let f = finding(
            report,
            "permission.depends-on-network",
            Some("s3:PutObject"),
        );
        assert_eq!(f["source"], "vpc-endpoint-policy", "{f:#}");
        f["summary"].as_str().expect("summary").to_owned()
    };
    let out = check(&peer, &user, &bucket, "json")
        .arg("--vpce")
        .arg(&vpce)
        .output()
        .await;
    let read = summary(&out.json());
    assert!(read.contains("it is a gateway endpoint, so"), "{read}");
    assert!(read.contains("aws:PrincipalArn"), "{read}");
    let run = Run::new(&["check", "--format", "json", "--bucket", &bucket]).keys(&peer, &user);
    let file = run.file("endpoint-policy.json");
    std::fs::write(&file, policy.to_string()).expect("policy file");
    let out = run
        .arg("--vpce")
        .arg(&vpce)
        .arg("--vpce-policy")
        .arg(&file.display().to_string())
        .output()
        .await;
    let read = summary(&out.json());
    assert!(read.contains("if it is a gateway endpoint"), "{read}");
}

/// `--vpce-type` settles what a `--vpce-policy` file's Allow naming the account means: through
/// an interface endpoint the app's user is let through, through a gateway endpoint it is not;
/// where EC2 is read its answer wins, and the step's detail says the flag disagrees.
#[tokio::test]
async fn the_vpce_type_settles_a_policy_files_kind_and_ec2s_answer_wins() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = app_user(&peer, &bucket).await;
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": crate::peer::ACCOUNT}, "Action": "s3:*",
         "Resource": "*"}]});
    let vpce = vpc_endpoint(&peer, &policy);
    let from_file = |kind: &'static str| {
        let run = Run::new(&["check", "--format", "json", "--bucket", &bucket]).keys(&peer, &user);
        let file = run.file("endpoint-policy.json");
        std::fs::write(&file, policy.to_string()).expect("policy file");
        run.arg("--vpce")
            .arg(&vpce)
            .arg("--vpce-policy")
            .arg(&file.display().to_string())
            .arg("--vpce-type")
            .arg(kind)
            .output()
    };
    let refused = |report: &Value| {
        report["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["source"] == "vpc-endpoint-policy" && f["action"] == "s3:PutObject")
            .map(|f| f["summary"].as_str().expect("summary").to_owned())
    };
    let interface = from_file("interface").await.json();
    assert_eq!(refused(&interface), None, "{interface:#}");
    let gateway = from_file("gateway").await.json();
    let said = refused(&gateway).expect("refused through a gateway endpoint");
    assert!(said.contains("it is a gateway endpoint, so"), "{said}");
    // EC2 says the endpoint is a gateway one: that wins over the flag, and the detail says so.
    let out = check(&peer, &user, &bucket, "json")
        .arg("--vpce")
        .arg(&vpce)
        .arg("--vpce-type")
        .arg("interface")
        .output()
        .await;
    let report = out.json();
    assert!(refused(&report).is_some(), "{report:#}");
    let detail = crate::peer::detail(&report, "bucket-policy", Some(&bucket));
    assert!(
        detail.contains(
            "--vpce-type says an interface endpoint, but EC2 says it is a gateway endpoint"
        ),
        "{detail}"
    );
}

/// A bucket policy that denies what does not come from the app's VPC, named by its ARN
/// (`aws:SourceVpcArn`): with `--vpce` and the admin, the endpoint's description (moto's EC2)
/// gives the ARN to the bucket policy's judgement too, so through the endpoint it is allowed,
/// not "allowed unless a condition denies it"; a Deny naming another VPC's ARN applies, said
/// with where the value came from.
#[tokio::test]
async fn the_endpoints_vpc_arn_decides_a_bucket_policy_that_names_it() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = app_user(&peer, &bucket).await;
    let (vpce, vpc) = vpc_endpoint_and_vpc(&peer, &OPEN);
    let deny_outside = |vpc: &str| {
        let arn = format!("arn:aws:ec2:us-east-1:{}:vpc/{vpc}", crate::peer::ACCOUNT);
        let condition = json!({"ArnNotEquals": {"aws:SourceVpcArn": arn}});
        deny_unless(&bucket, "OnlyFromTheAppsVpc", condition)
    };
    let upload = |report: &Value| {
        finding(
            report,
            "permission.depends-on-network",
            Some("s3:PutObject"),
        )
        .clone()
    };
    put_bucket_policy(&peer, &bucket, &deny_outside(&vpc)).await;
    let out = check(&peer, &user, &bucket, "json")
        .arg("--vpce")
        .arg(&vpce)
        .output()
        .await;
    allowed_from_the_apps_network(&upload(&out.json()));
    // The policy names another VPC: the Deny applies to the app's requests.
    put_bucket_policy(&peer, &bucket, &deny_outside("vpc-0000000000000000d")).await;
    let out = check(&peer, &user, &bucket, "json")
        .arg("--vpce")
        .arg(&vpce)
        .output()
        .await;
    let f = upload(&out.json());
    assert_eq!(f["severity"], "error", "{f:#}");
    let summary = f["summary"].as_str().expect("summary");
    let arn = format!(
        "aws:SourceVpcArn is arn:aws:ec2:us-east-1:{}:vpc/{vpc} (",
        crate::peer::ACCOUNT
    );
    assert!(summary.contains(&arn), "{f:#}");
    // Its account is the endpoint's owner, taken as the VPC's: said, the basis the policies'.
    assert!(
        summary.contains("(inferred from the VPC endpoint's description")
            && summary.contains("The account in aws:SourceVpcArn is inferred"),
        "{f:#}"
    );
    assert_eq!(f["basis"], "policies", "{f:#}");
}

/// `--vpc` that is not the VPC the endpoint is in (moto's EC2 says which): a wrong what-if is
/// not silent. The bucket-policy step warns (it would pass) and says which VPC is used, EC2's;
/// the policies are judged with EC2's VPC, and a finding's app network says what `--vpc` said,
/// as does the report's `target.app_network` (EC2's VPC, its source, and the typed one).
#[tokio::test]
async fn a_vpc_flag_that_ec2_contradicts_is_said_and_ec2s_vpc_is_judged() {
    let peer = Peer::get();
    let bucket = peer.bucket("us-east-1").await;
    let user = app_user(&peer, &bucket).await;
    let (vpce, vpc) = vpc_endpoint_and_vpc(&peer, &OPEN);
    let typed = "vpc-0000000000000000d";
    let run = || {
        check(&peer, &user, &bucket, "json")
            .arg("--vpce")
            .arg(&vpce)
            .arg("--vpc")
            .arg(typed)
            .output()
    };
    let said = format!("--vpc says {typed}, but EC2 says {vpce} is in {vpc}: EC2's answer is used");
    // No bucket policy: the step would pass; the contradiction makes it a warning.
    let report = run().await.json();
    assert_eq!(status(&report, "bucket-policy", Some(&bucket)), "warn");
    let detail = crate::peer::detail(&report, "bucket-policy", Some(&bucket));
    assert!(detail.contains(&said), "{detail}");
    // The report's app network is the one judged: EC2's VPC, said as EC2's, and the typed one.
    assert_eq!(
        report["target"]["app_network"],
        json!({"source_ip": null, "vpc": vpc, "vpce": vpce, "vpc_source": "ec2",
               "vpc_given": typed}),
        "{report:#}"
    );
    // A Deny of what does not come from the app's VPC: judged with EC2's VPC, it does not
    // apply to the app's requests (only the probe from here is refused).
    let condition = json!({"StringNotEquals": {"aws:SourceVpc": vpc}});
    let policy = deny_unless(&bucket, "OnlyFromTheAppsVpc", condition);
    put_bucket_policy(&peer, &bucket, &policy).await;
    let report = run().await.json();
    let f = finding(
        &report,
        "permission.depends-on-network",
        Some("s3:PutObject"),
    );
    allowed_from_the_apps_network(f);
    let network = f["vantages"]["app_network"].as_str().expect("network");
    assert!(
        network.contains(&format!("in {vpc} (EC2's answer; --vpc said {typed})")),
        "{f:#}"
    );
}

/// Bad network flags are bad input: one line, exit 2, before anything is sent.
#[tokio::test]
async fn bad_network_flags_are_one_line_and_exit_2() {
    let cases: [(&[&str], &str); 6] = [
        (&["--source-ip", "10.0.0.300"], "--source-ip"),
        (&["--vpc", "subnet-1a2b3c4d"], "--vpc"),
        (&["--vpce", "vpce-1"], "--vpce"),
        (
            &["--vpce-policy", "/nonexistent/p.json"],
            "--vpce-policy goes with --vpce",
        ),
        (
            &["--vpce-type", "interface"],
            "--vpce-type goes with --vpce",
        ),
        (
            &[
                "--vpce",
                "vpce-1a2b3c4d",
                "--vpce-policy",
                "/nonexistent/p.json",
            ],
            "--vpce-policy /nonexistent/p.json: cannot be read",
        ),
    ];
    for (args, said) in cases {
        let mut run = Run::new(&["check", "--bucket", "some-bucket"]);
        for a in args {
            run = run.arg(a);
        }
        let out = run.output().await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(said), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
}
