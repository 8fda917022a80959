//! The report of a run and its three renderings: text for a terminal, JSON
//! (`s3doctor.report/v1`, written by `v1`) for scripts, Markdown for tickets. A report is
//! the run's `Diagnosis` (which it owns and never restates: the findings, steps, policy and
//! verdict are read from it) plus what the diagnosis does not know: what the run was pointed
//! at and who the keys are.

mod v1;

use std::fmt::Write as _;

use crate::answers::access_denied::authorization_hint;
use crate::aws;
use crate::checks::{Identity, RunSettings, Status};
use crate::diagnosis::Diagnosis;
use crate::engine::{Engine, SessionInfo, StepResult};
use crate::finding::Finding;
use crate::policy;
use crate::server::Server;

pub use v1::SCHEMA;

/// A whole run, as every output format shows it. Serializes as `s3doctor.report/v1`.
#[derive(Clone, Debug)]
pub struct Report {
    /// The buckets and the access checked.
    run: RunSettings,
    /// Region, credential source, identity and endpoint capabilities, as the run learned them.
    session: SessionInfo,
    /// `--endpoint-url` and `--profile`, as given.
    endpoint: Option<String>,
    profile: Option<String>,
    /// `--env-file`, `--profile`, `--endpoint-url` as given, for the verify command: the same
    /// keys and server as this run (`aws::Settings::target_flags`).
    target_flags: String,
    /// What the run shows, as worked out once.
    diagnosis: Diagnosis,
}

impl Report {
    /// The server that answered the run, as the findings' words name it (AWS until a custom
    /// endpoint was learned to be another).
    fn server(&self) -> Server {
        self.session
            .endpoint
            .as_ref()
            .map_or(Server::AWS, crate::endpoint::Capabilities::server)
    }

    /// Collects the engine's results into a report.
    pub async fn from_engine(engine: &Engine) -> Report {
        let info = engine.session_info().await;
        let diagnosis = Diagnosis::of_engine(engine).await;
        Report::build(engine.settings(), engine.run_settings(), &info, diagnosis)
    }

    /// The report of a diagnosis, with what the run was pointed at and who the keys are.
    pub fn build(
        settings: &aws::Settings,
        run: &RunSettings,
        info: &SessionInfo,
        diagnosis: Diagnosis,
    ) -> Report {
        Report {
            run: run.clone(),
            session: SessionInfo {
                // No session (no credentials): the region given is still the one configured.
                region: info.region.clone().or_else(|| settings.configured_region()),
                ..info.clone()
            },
            endpoint: settings.endpoint.clone(),
            profile: settings.profile.clone(),
            target_flags: settings.target_flags(),
            diagnosis,
        }
    }

    /// What the run shows: findings, steps, policy, and whether it is ok and complete.
    pub fn diagnosis(&self) -> &Diagnosis {
        &self.diagnosis
    }

    fn identity(&self) -> Option<&Identity> {
        self.session.identity.as_ref()
    }

    /// The app's network as the conditions were judged for it: the flags, with the VPC EC2
    /// named for the endpoint when it was read.
    fn app_network(&self) -> crate::app_network::Judged<'_> {
        crate::app_network::Judged::of_session(
            &self.run.network,
            self.session.described_endpoint.as_ref(),
        )
    }
}

/// "account 123…", or, on a server without STS, that the server named the principal.
fn whose(i: &Identity) -> String {
    let account = &i.principal.account;
    match (i.confirmed, account.is_empty()) {
        (true, _) => format!("account {account}"),
        (false, true) => "unconfirmed: named by the server".to_owned(),
        (false, false) => format!("tenant {account}, unconfirmed: named by the server"),
    }
}

/// `  (Ceph RGW)` after a custom endpoint, once the run learned what it is.
fn kind_suffix(report: &Report) -> String {
    report
        .session
        .endpoint
        .as_ref()
        .map(|c| format!("  ({})", c.kind.label()))
        .unwrap_or_default()
}

/// JSON, exactly the `s3doctor.report/v1` schema.
pub fn to_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    match status {
        Status::Pass => format!("{GREEN}{text}{DEFAULT_COLOUR}"),
        Status::Warn => format!("{YELLOW}{text}{DEFAULT_COLOUR}"),
        Status::Fail => format!("{RED}{BOLD}{text}{RESET}"),
        Status::Skip => format!("{DARK_GREY}{text}{DEFAULT_COLOUR}"),
    }
}

// The ANSI SGR codes of the text report's colours, the ones a terminal crate writes for them
// (256-colour palette 8 to 11), so the library needs no terminal crate.
const GREEN: &str = "\x1b[38;5;10m";
const YELLOW: &str = "\x1b[38;5;11m";
const RED: &str = "\x1b[38;5;9m";
const DARK_GREY: &str = "\x1b[38;5;8m";
const BOLD: &str = "\x1b[1m";
const DEFAULT_COLOUR: &str = "\x1b[39m";
const RESET: &str = "\x1b[0m";

/// Readable text for a terminal; colours only when `color` (symbols always).
pub fn to_text(report: &Report, color: bool) -> String {
    let mut out = String::new();
    text_header(&mut out, report);
    let _ = writeln!(out);
    text_steps(&mut out, report, color);
    let _ = writeln!(out);
    text_findings(&mut out, report, color);
    if let Some(policy) = report.diagnosis.policy() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Least-privilege policy that fixes the missing permissions (`s3doctor fix` attaches it):"
        );
        let _ = writeln!(out, "{}", policy.to_pretty_json());
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{}", text_verdict(report, color));
    out
}

/// Who, which buckets, which keys, which endpoint.
fn text_header(out: &mut String, report: &Report) {
    let (run, session) = (&report.run, &report.session);
    let _ = writeln!(out, "s3doctor: S3 access check");
    match report.identity() {
        Some(i) => {
            let _ = writeln!(
                out,
                "  principal    {} ({} {}, {})",
                i.principal.arn,
                i.principal.kind.as_str(),
                i.principal.name,
                whose(i)
            );
            if let Some(role) = i.role_and_session() {
                let _ = writeln!(out, "  role         {role}");
            }
        }
        None => {
            let _ = writeln!(
                out,
                "  principal    unknown (the keys could not be checked)"
            );
        }
    }
    let _ = writeln!(
        out,
        "  buckets      {}   region {}   access {}",
        run.buckets.join(", "),
        session.region.as_deref().unwrap_or("(none configured)"),
        run.access.as_str()
    );
    let _ = writeln!(
        out,
        "  credentials  {}",
        session.credential_source.as_deref().unwrap_or("none found")
    );
    if let Some(e) = &report.endpoint {
        let _ = writeln!(out, "  endpoint     {e}{}", kind_suffix(report));
    }
    if !run.network.is_empty() {
        let _ = writeln!(
            out,
            "  app network  {} (a what-if for the conditions: nothing is sent from there)",
            report.app_network().describe()
        );
    }
}

/// One line per step under its bucket's heading, with the evidence of a failure.
fn text_steps(out: &mut String, report: &Report, color: bool) {
    let mut last_bucket: Option<&str> = None;
    for step in report.diagnosis.steps() {
        if step.bucket.as_deref() != last_bucket {
            last_bucket = step.bucket.as_deref();
            if let Some(b) = last_bucket {
                let _ = writeln!(out, "  bucket {b}");
            }
        }
        let label = format!(
            "{} {:<4}",
            step.status.symbol(),
            step.status.as_str().to_uppercase()
        );
        // The app's own object (`--key`) follows its step's name.
        let name = match &step.key {
            Some(key) => format!("{} {key}", step.id),
            None => step.id.as_str().to_owned(),
        };
        let _ = writeln!(
            out,
            "  {}  {:<15} {} ({} ms)",
            paint(&label, step.status, color),
            name,
            step.detail,
            step.elapsed_ms
        );
        if step.status == Status::Fail
            && let Some(ev) = &step.evidence
        {
            let _ = writeln!(out, "  {:<6}  {:<15} {}", "", "", ev.one_line());
        }
    }
}

/// The findings; or "No problems found." only when every step ran; or that the check did
/// not finish.
fn text_findings(out: &mut String, report: &Report, color: bool) {
    let d = &report.diagnosis;
    if d.findings().is_empty() && d.complete() {
        let _ = writeln!(out, "{}", paint("No problems found.", Status::Pass, color));
    } else if d.findings().is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                &format!(
                    "The check did not finish ({}): this is not a clean bill of health.",
                    d.progress()
                ),
                Status::Warn,
                color
            )
        );
    } else {
        let _ = writeln!(out, "Findings ({})", d.findings().len());
        for f in d.findings() {
            text_finding(out, f, report.server(), color);
        }
    }
}

/// One finding: code, bucket and action, what is wrong, how it is known, and the fix.
fn text_finding(out: &mut String, f: &Finding, server: Server, color: bool) {
    let status = if f.is_error() {
        Status::Fail
    } else {
        Status::Warn
    };
    let mut head = format!("{} {}", f.severity.symbol(), f.code);
    if let Some(b) = &f.bucket {
        head.push_str(&format!("  {b}"));
    }
    if let Some(k) = &f.key {
        head.push_str(&format!("  key {k}"));
    }
    if let Some(a) = &f.action {
        head.push_str(&format!("  {a}"));
    }
    let _ = writeln!(out, "  {}", paint(&head, status, color));
    let _ = writeln!(out, "    {}", f.summary);
    let (basis, words) = f.how_known(server);
    let _ = writeln!(out, "    How known: {basis} ({words})");
    if let Some(r) = &f.resource {
        let _ = writeln!(out, "    Resource: {r}");
    }
    if let Some(s) = &f.statement {
        let _ = writeln!(out, "    Responsible: {}", s.label());
    }
    if let Some(v) = &f.vantages {
        let _ = writeln!(out, "    From here: {}", v.from_here);
        let _ = writeln!(
            out,
            "    From the app's network ({}): {}",
            v.app_network, v.from_app_network
        );
    }
    if let Some(id) = f
        .evidence
        .as_ref()
        .and_then(|e| e.authorization_id.as_deref())
    {
        let _ = writeln!(
            out,
            "    Authorization id: {id} ({})",
            authorization_hint(id)
        );
    }
    let _ = writeln!(out, "    Fix: {}", f.remedy);
}

/// The last line: OK, incomplete, or how many problems.
fn text_verdict(report: &Report, color: bool) -> String {
    let d = &report.diagnosis;
    match (d.error_count(), d.complete()) {
        (0, true) => paint("Result: OK", Status::Pass, color),
        (0, false) => paint(
            &format!("Result: incomplete, {}", d.progress()),
            Status::Warn,
            color,
        ),
        (n, true) => paint(
            &format!("Result: {n} problem(s) found"),
            Status::Fail,
            color,
        ),
        (n, false) => paint(
            &format!("Result: {n} problem(s) found; {}", d.progress()),
            Status::Fail,
            color,
        ),
    }
}

/// A ticket-ready write-up: problem, evidence, the fix (console and CLI), the policy, how to verify.
pub fn to_markdown(report: &Report) -> String {
    let mut md = String::new();
    let d = &report.diagnosis;
    md_header(&mut md, report);
    md_problems(&mut md, d.findings(), report.server());
    md_checklist(&mut md, d.steps());
    if let Some(policy) = d.policy() {
        md.push_str(&crate::diagnosis::handover::fix_markdown(
            policy,
            report.identity(),
            &policy::default_policy_name(&report.run.buckets, report.run.access),
            report.endpoint.as_deref(),
        ));
    }
    let _ = writeln!(md, "## Verify\n");
    let _ = writeln!(md, "```bash\n{}\n```", verify_command(report));
    md
}

/// The title (buckets and verdict) and the facts of the run, one bullet each.
fn md_header(md: &mut String, report: &Report) {
    let (run, session, d) = (&report.run, &report.session, &report.diagnosis);
    let buckets = run.buckets.join(", ");
    let mut headline = match d.error_count() {
        0 if d.complete() => "no problems found".to_owned(),
        0 => "incomplete".to_owned(),
        1 => "1 problem found".to_owned(),
        n => format!("{n} problems found"),
    };
    if !d.complete() {
        headline.push_str(&format!(", {}", d.progress()));
    }
    let _ = writeln!(md, "# S3 access check: {buckets} ({headline})\n");
    match report.identity() {
        Some(i) => {
            let _ = writeln!(
                md,
                "- **Principal:** `{}` ({} `{}`, {})",
                i.principal.arn,
                i.principal.kind.as_str(),
                i.principal.name,
                whose(i)
            );
            if let (Some(role), Some(session)) = (&i.role_arn, &i.principal.session) {
                let _ = writeln!(md, "- **Role:** `{role}` (session `{session}`)");
            }
        }
        None => {
            let _ = writeln!(
                md,
                "- **Principal:** unknown (the keys could not be checked)"
            );
        }
    }
    let _ = writeln!(md, "- **Buckets:** {buckets}");
    let _ = writeln!(
        md,
        "- **Region:** {}",
        session.region.as_deref().unwrap_or("none configured")
    );
    let _ = writeln!(md, "- **Access checked:** {}", run.access.as_str());
    let _ = writeln!(
        md,
        "- **Credentials:** {}",
        session.credential_source.as_deref().unwrap_or("none found")
    );
    if let Some(e) = &report.endpoint {
        let _ = writeln!(md, "- **Endpoint:** {e}{}", kind_suffix(report));
    }
    if !run.network.is_empty() {
        let _ = writeln!(
            md,
            "- **App's network:** {} (a what-if for the conditions: nothing is sent from there)",
            report.app_network().describe()
        );
    }
    let _ = writeln!(md);
}

/// "## Problems": each finding with how it is known, its evidence and its fix.
fn md_problems(md: &mut String, findings: &[Finding], server: Server) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Problems\n");
    for (n, f) in findings.iter().enumerate() {
        let _ = writeln!(md, "### {}. {} (`{}`)\n", n + 1, f.title, f.code);
        let _ = writeln!(md, "{}\n", f.summary);
        let (basis, words) = f.how_known(server);
        let _ = writeln!(md, "- **How known:** `{basis}` ({words})");
        if let Some(k) = &f.key {
            let _ = writeln!(md, "- **Object:** `{k}` (the app's own, `--key`)");
        }
        if let Some(r) = &f.resource {
            let _ = writeln!(md, "- **Resource:** `{r}`");
        }
        if let Some(s) = &f.statement {
            let _ = writeln!(md, "- **Responsible:** {}", s.label());
        }
        if let Some(v) = &f.vantages {
            let _ = writeln!(md, "- **From here:** {}", v.from_here);
            let _ = writeln!(
                md,
                "- **From the app's network** ({}): {}",
                v.app_network, v.from_app_network
            );
        }
        if let Some(id) = f
            .evidence
            .as_ref()
            .and_then(|e| e.authorization_id.as_deref())
        {
            let _ = writeln!(
                md,
                "- **Authorization id:** `{id}` ({})",
                authorization_hint(id)
            );
        }
        if let Some(ev) = &f.evidence {
            let _ = writeln!(md, "- **Evidence:** `{}`", ev.one_line());
        }
        let _ = writeln!(md, "- **Fix:** {}\n", f.remedy);
    }
}

/// "## Checklist": a table row per step.
fn md_checklist(md: &mut String, steps: &[StepResult]) {
    let _ = writeln!(md, "## Checklist\n");
    let _ = writeln!(md, "| | step | bucket | result | detail |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for s in steps {
        let _ = writeln!(
            md,
            "| {} | `{}` | {} | {} | {} |",
            s.status.symbol(),
            s.id,
            match (&s.bucket, &s.key) {
                (Some(b), Some(k)) => format!("{b}/{}", k.replace('|', "\\|")),
                (b, _) => b.clone().unwrap_or_default(),
            },
            s.status.as_str(),
            s.detail.replace('|', "\\|")
        );
    }
    let _ = writeln!(md);
}

/// The command that re-runs this check: the same checks, with the same keys, on the same
/// server.
pub fn verify_command(report: &Report) -> String {
    let run = &report.run;
    let mut cmd = String::from("s3doctor check");
    for b in &run.buckets {
        cmd.push_str(&format!(" --bucket {b}"));
    }
    cmd.push_str(&run.flags());
    if let Some(r) = &report.session.region {
        cmd.push_str(&format!(" --region {}", aws::shell_word(r)));
    }
    cmd.push_str(&report.target_flags);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::StepResult;
    use crate::runbook::StepId;

    fn row(id: StepId, status: Status, ran: bool) -> StepResult {
        StepResult {
            id,
            bucket: Some("b".into()),
            key: None,
            status,
            elapsed_ms: 1,
            detail: if ran { "ok".into() } else { "not run".into() },
            evidence: None,
            findings: Vec::new(),
            blocking: false,
            ran,
        }
    }

    fn report(steps: Vec<StepResult>, planned: usize) -> Report {
        let run = RunSettings {
            buckets: vec!["b".into()],
            ..RunSettings::default()
        };
        let diagnosis = Diagnosis::new(steps, planned, &run, None);
        Report::build(
            &aws::Settings::default(),
            &run,
            &SessionInfo::default(),
            diagnosis,
        )
    }

    #[test]
    fn a_run_cut_short_is_never_no_problems_found() {
        // The wizard quit before anything ran.
        let nothing = report(Vec::new(), 9);
        assert!(!nothing.diagnosis().ok() && !nothing.diagnosis().complete());
        assert_eq!(nothing.diagnosis().progress(), "0 of 9 steps ran");
        let text = to_text(&nothing, false);
        assert!(!text.contains("No problems found"), "{text}");
        assert!(text.contains("did not finish (0 of 9 steps ran)"), "{text}");
        assert!(to_markdown(&nothing).contains("(incomplete, 0 of 9 steps ran)"));

        // Steps skipped because another did not pass.
        let skipped = report(
            vec![
                row(StepId::BucketExists, Status::Pass, true),
                row(StepId::ListObjects, Status::Skip, false),
            ],
            2,
        );
        assert!(!skipped.diagnosis().ok());
        assert!(to_text(&skipped, false).contains("Result: incomplete, 1 of 2 steps ran"));
        let json: serde_json::Value = serde_json::from_str(&to_json(&skipped)).unwrap();
        assert_eq!(json["ok"], false);
        assert_eq!(json["complete"], false);
        assert_eq!(json["steps_run"], 1);
    }

    #[test]
    fn every_step_ran_and_none_failed_is_no_problems_found() {
        let clean = report(
            vec![
                row(StepId::BucketExists, Status::Pass, true),
                // Skipped by design (--read-only, IAM unreadable) still ran.
                row(StepId::PutObject, Status::Skip, true),
            ],
            2,
        );
        assert!(clean.diagnosis().ok() && clean.diagnosis().complete());
        assert!(to_text(&clean, false).contains("No problems found."));
        assert!(to_markdown(&clean).contains("(no problems found)"));
    }

    #[test]
    fn the_json_keeps_the_v1_field_order_and_reads_its_values_from_the_diagnosis() {
        use crate::finding::{Basis, FindingCode, Severity};
        let finding = Finding {
            code: FindingCode::PermissionMissing,
            severity: Severity::Error,
            step: StepId::PutObject,
            bucket: Some("b".into()),
            action: Some("s3:PutObject".into()),
            source: None,
            basis: Basis::AwsMessage,
            resource: None,
            key: None,
            title: "t".into(),
            summary: "s".into(),
            remedy: "r".into(),
            statement: None,
            evidence: None,
            vantages: None,
        };
        let mut put = row(StepId::PutObject, Status::Fail, true);
        put.findings = vec![finding];
        let run = RunSettings {
            buckets: vec!["b".into()],
            ..RunSettings::default()
        };
        let info = SessionInfo {
            region: Some("eu-west-1".into()),
            identity: crate::arn::parse_principal("arn:aws:iam::123456789012:user/app")
                .ok()
                .map(|principal| Identity::new(principal, None, true)),
            endpoint: Some(crate::endpoint::Capabilities::aws()),
            ..SessionInfo::default()
        };
        let diagnosis = Diagnosis::new(vec![put], 2, &run, Some(&info));
        let r = Report::build(&aws::Settings::default(), &run, &info, diagnosis);
        let json: serde_json::Value = serde_json::from_str(&to_json(&r)).unwrap();
        let keys =
            |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&json),
            [
                "schema",
                "ok",
                "complete",
                "steps_run",
                "steps_planned",
                "target",
                "identity",
                "steps",
                "findings",
                "policy"
            ]
        );
        assert_eq!(
            keys(&json["target"]),
            [
                "buckets",
                "region",
                "endpoint",
                "endpoint_kind",
                "endpoint_capabilities",
                "profile",
                "credential_source",
                "access"
            ]
        );
        assert_eq!(
            keys(&json["identity"]),
            [
                "arn",
                "account",
                "principal_type",
                "principal_name",
                "confirmed",
                "role_arn",
                "role_path_known"
            ]
        );
        // A user has no role.
        assert_eq!(json["identity"]["role_arn"], serde_json::Value::Null);
        assert_eq!(json["identity"]["role_path_known"], serde_json::Value::Null);
        let d = r.diagnosis();
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(
            (json["ok"].clone(), json["complete"].clone()),
            (false.into(), false.into())
        );
        assert_eq!(
            (json["steps_run"].clone(), json["steps_planned"].clone()),
            (1.into(), 2.into())
        );
        assert_eq!(json["steps"], serde_json::to_value(d.steps()).unwrap());
        assert_eq!(
            json["findings"],
            serde_json::to_value(d.findings()).unwrap()
        );
        assert!(d.policy().is_some());
        assert_eq!(json["policy"], serde_json::to_value(d.policy()).unwrap());
        assert_eq!(json["target"]["endpoint_kind"], "aws");
        assert_eq!(json["identity"]["principal_type"], "user");
    }

    /// A `--vpc` that EC2's description of the endpoint contradicts: every format's app
    /// network is the VPC judged (EC2's), said as EC2's answer, with what `--vpc` said; the
    /// JSON keeps its fields and adds where `vpc` comes from and what was typed.
    #[test]
    fn the_app_network_is_the_one_judged_with_ec2s_vpc_and_the_typed_one_visible() {
        let run = RunSettings {
            buckets: vec!["b".into()],
            network: crate::policy::AppNetwork {
                vpc: Some("vpc-0typed".into()),
                vpce: Some("vpce-1".into()),
                ..crate::policy::AppNetwork::default()
            },
            ..RunSettings::default()
        };
        let build = |info: &SessionInfo| {
            let diagnosis = Diagnosis::new(
                vec![row(StepId::Credentials, Status::Pass, true)],
                1,
                &run,
                Some(info),
            );
            Report::build(&aws::Settings::default(), &run, info, diagnosis)
        };
        let json = |r: &Report| serde_json::from_str::<serde_json::Value>(&to_json(r)).unwrap();
        // EC2 not read: as typed.
        let typed = build(&SessionInfo::default());
        assert_eq!(
            json(&typed)["target"]["app_network"],
            serde_json::json!({"source_ip": null, "vpc": "vpc-0typed", "vpce": "vpce-1",
                "vpc_source": "given", "vpc_given": "vpc-0typed"})
        );
        let read = build(&SessionInfo {
            described_endpoint: Some(crate::app_network::DescribedEndpoint {
                vpce: "vpce-1".into(),
                vpc: "vpc-0ec2".into(),
            }),
            ..SessionInfo::default()
        });
        assert_eq!(
            json(&read)["target"]["app_network"],
            serde_json::json!({"source_ip": null, "vpc": "vpc-0ec2", "vpce": "vpce-1",
                "vpc_source": "ec2", "vpc_given": "vpc-0typed"})
        );
        let words = "VPC endpoint vpce-1 in vpc-0ec2 (EC2's answer; --vpc said vpc-0typed)";
        let text = to_text(&read, false);
        assert!(
            text.contains(&format!("  app network  {words} (a what-if")),
            "{text}"
        );
        let md = to_markdown(&read);
        assert!(
            md.contains(&format!("- **App's network:** {words} (a what-if")),
            "{md}"
        );
    }
}
