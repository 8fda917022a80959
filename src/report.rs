//! The report of a run, built from the engine's results, and its three renderings: text for
//! a terminal, JSON (`s3doctor.report/v1`) for scripts, Markdown for tickets.

use std::fmt::Write as _;

use crossterm::style::Stylize;
use serde::Serialize;

use crate::aws;
use crate::checks::{Identity, RunSettings, Status};
use crate::diagnose::access_denied::authorization_hint;
use crate::diagnosis::Diagnosis;
use crate::engine::{Engine, SessionInfo, StepResult};
use crate::finding::Finding;
use crate::policy::{self, Access, PolicyDocument};

pub const SCHEMA: &str = "s3doctor.report/v1";

#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub buckets: Vec<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// What the endpoint was found to be (`aws`, `ceph-rgw`, `s3-compatible`, …).
    pub endpoint_kind: Option<crate::endpoint::EndpointKind>,
    /// What a custom endpoint offers: `{kind, sts, iam}`.
    pub endpoint_capabilities: Option<crate::endpoint::Capabilities>,
    pub profile: Option<String>,
    pub credential_source: Option<String>,
    pub access: Access,
}

#[derive(Clone, Debug, Serialize)]
pub struct IdentityReport {
    pub arn: String,
    pub account: String,
    pub principal_type: String,
    pub principal_name: String,
    /// False when the server has no STS and the principal is what it said (ListBuckets owner)
    /// or what `--expect-principal` named.
    pub confirmed: bool,
}

impl From<&Identity> for IdentityReport {
    fn from(i: &Identity) -> Self {
        IdentityReport {
            arn: i.principal.arn.clone(),
            account: i.principal.account.clone(),
            principal_type: i.principal.kind.as_str().to_owned(),
            principal_name: i.principal.name.clone(),
            confirmed: i.confirmed,
        }
    }
}

impl IdentityReport {
    /// "account 123…", or, on a server without STS, that the server named the principal.
    fn whose(&self) -> String {
        match (self.confirmed, self.account.is_empty()) {
            (true, _) => format!("account {}", self.account),
            (false, true) => "unconfirmed: named by the server".to_owned(),
            (false, false) => format!("tenant {}, unconfirmed: named by the server", self.account),
        }
    }
}

/// `  (Ceph RGW)` after a custom endpoint, once the run learned what it is.
fn kind_suffix(t: &Target) -> String {
    t.endpoint_kind
        .map(|k| format!("  ({})", k.label()))
        .unwrap_or_default()
}

/// A whole run, as every output format shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// No error finding, and every step ran.
    pub ok: bool,
    /// Every planned step ran (a run cut short, or steps skipped because another failed,
    /// is not complete, and never reads as "no problems found").
    pub complete: bool,
    /// How many of the planned steps ran.
    pub steps_run: usize,
    pub steps_planned: usize,
    pub target: Target,
    pub identity: Option<IdentityReport>,
    pub steps: Vec<StepResult>,
    pub findings: Vec<Finding>,
    pub policy: Option<PolicyDocument>,
    #[serde(skip)]
    pub identity_full: Option<Identity>,
    /// What the run shows, as worked out once; the fields above are its rendering.
    #[serde(skip)]
    pub diagnosis: Diagnosis,
}

impl Report {
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
            schema: SCHEMA,
            ok: diagnosis.ok(),
            complete: diagnosis.complete(),
            steps_run: diagnosis.steps_run(),
            steps_planned: diagnosis.steps_planned(),
            target: Target {
                buckets: run.buckets.clone(),
                region: info.region.clone(),
                endpoint: settings.endpoint.clone(),
                endpoint_kind: info.endpoint.as_ref().map(|c| c.kind),
                endpoint_capabilities: info.endpoint.clone(),
                profile: settings.profile.clone(),
                credential_source: info.credential_source.clone(),
                access: run.access,
            },
            identity: info.identity.as_ref().map(IdentityReport::from),
            identity_full: info.identity.clone(),
            steps: diagnosis.steps().to_vec(),
            findings: diagnosis.findings().to_vec(),
            policy: diagnosis.policy().cloned(),
            diagnosis,
        }
    }

    pub fn error_count(&self) -> usize {
        self.diagnosis.error_count()
    }

    /// "3 of 11 steps ran".
    pub fn progress(&self) -> String {
        self.diagnosis.progress()
    }
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
        Status::Pass => text.green().to_string(),
        Status::Warn => text.yellow().to_string(),
        Status::Fail => text.red().bold().to_string(),
        Status::Skip => text.dark_grey().to_string(),
    }
}

/// Readable text for a terminal; colours only when `color` (symbols always).
pub fn to_text(report: &Report, color: bool) -> String {
    let mut out = String::new();
    text_header(&mut out, report);
    let _ = writeln!(out);
    text_steps(&mut out, report, color);
    let _ = writeln!(out);
    text_findings(&mut out, report, color);
    if let Some(policy) = &report.policy {
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
    let t = &report.target;
    let _ = writeln!(out, "s3doctor: S3 access check");
    match &report.identity {
        Some(i) => {
            let _ = writeln!(
                out,
                "  principal    {} ({} {}, {})",
                i.arn,
                i.principal_type,
                i.principal_name,
                i.whose()
            );
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
        t.buckets.join(", "),
        t.region.as_deref().unwrap_or("(none configured)"),
        t.access.as_str()
    );
    let _ = writeln!(
        out,
        "  credentials  {}",
        t.credential_source.as_deref().unwrap_or("none found")
    );
    if let Some(e) = &t.endpoint {
        let _ = writeln!(out, "  endpoint     {e}{}", kind_suffix(t));
    }
}

/// One line per step under its bucket's heading, with the evidence of a failure.
fn text_steps(out: &mut String, report: &Report, color: bool) {
    let mut last_bucket: Option<&str> = None;
    for step in &report.steps {
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
        let _ = writeln!(
            out,
            "  {}  {:<15} {} ({} ms)",
            paint(&label, step.status, color),
            step.id.as_str(),
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
    if report.findings.is_empty() && report.complete {
        let _ = writeln!(out, "{}", paint("No problems found.", Status::Pass, color));
    } else if report.findings.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                &format!(
                    "The check did not finish ({}): this is not a clean bill of health.",
                    report.progress()
                ),
                Status::Warn,
                color
            )
        );
    } else {
        let _ = writeln!(out, "Findings ({})", report.findings.len());
        for f in &report.findings {
            text_finding(out, f, color);
        }
    }
}

/// One finding: code, bucket and action, what is wrong, how it is known, and the fix.
fn text_finding(out: &mut String, f: &Finding, color: bool) {
    let status = if f.is_error() {
        Status::Fail
    } else {
        Status::Warn
    };
    let mut head = format!("{} {}", f.severity.symbol(), f.code);
    if let Some(b) = &f.bucket {
        head.push_str(&format!("  {b}"));
    }
    if let Some(a) = &f.action {
        head.push_str(&format!("  {a}"));
    }
    let _ = writeln!(out, "  {}", paint(&head, status, color));
    let _ = writeln!(out, "    {}", f.summary);
    let _ = writeln!(out, "    How known: {} ({})", f.basis, f.basis.describe());
    if let Some(r) = &f.resource {
        let _ = writeln!(out, "    Resource: {r}");
    }
    if let Some(s) = &f.statement {
        let _ = writeln!(out, "    Responsible: {}", s.label());
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
    match (report.error_count(), report.complete) {
        (0, true) => paint("Result: OK", Status::Pass, color),
        (0, false) => paint(
            &format!("Result: incomplete, {}", report.progress()),
            Status::Warn,
            color,
        ),
        (n, true) => paint(
            &format!("Result: {n} problem(s) found"),
            Status::Fail,
            color,
        ),
        (n, false) => paint(
            &format!("Result: {n} problem(s) found; {}", report.progress()),
            Status::Fail,
            color,
        ),
    }
}

/// A ticket-ready write-up: problem, evidence, the fix (console and CLI), the policy, how to verify.
pub fn to_markdown(report: &Report) -> String {
    let mut md = String::new();
    let t = &report.target;
    md_header(&mut md, report);
    md_problems(&mut md, &report.findings);
    md_checklist(&mut md, &report.steps);
    if let Some(policy) = &report.policy {
        md.push_str(&crate::diagnosis::handover::fix_markdown(
            policy,
            report.identity_full.as_ref(),
            &policy::default_policy_name(&t.buckets, t.access),
            t.endpoint.as_deref(),
        ));
    }
    let _ = writeln!(md, "## Verify\n");
    let _ = writeln!(md, "```bash\n{}\n```", verify_command(report));
    md
}

/// The title (buckets and verdict) and the facts of the run, one bullet each.
fn md_header(md: &mut String, report: &Report) {
    let t = &report.target;
    let buckets = t.buckets.join(", ");
    let mut headline = match report.error_count() {
        0 if report.complete => "no problems found".to_owned(),
        0 => "incomplete".to_owned(),
        1 => "1 problem found".to_owned(),
        n => format!("{n} problems found"),
    };
    if !report.complete {
        headline.push_str(&format!(", {}", report.progress()));
    }
    let _ = writeln!(md, "# S3 access check: {buckets} ({headline})\n");
    match &report.identity {
        Some(i) => {
            let _ = writeln!(
                md,
                "- **Principal:** `{}` ({} `{}`, {})",
                i.arn,
                i.principal_type,
                i.principal_name,
                i.whose()
            );
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
        t.region.as_deref().unwrap_or("none configured")
    );
    let _ = writeln!(md, "- **Access checked:** {}", t.access.as_str());
    let _ = writeln!(
        md,
        "- **Credentials:** {}",
        t.credential_source.as_deref().unwrap_or("none found")
    );
    if let Some(e) = &t.endpoint {
        let _ = writeln!(md, "- **Endpoint:** {e}{}", kind_suffix(t));
    }
    let _ = writeln!(md);
}

/// "## Problems": each finding with how it is known, its evidence and its fix.
fn md_problems(md: &mut String, findings: &[Finding]) {
    if findings.is_empty() {
        return;
    }
    let _ = writeln!(md, "## Problems\n");
    for (n, f) in findings.iter().enumerate() {
        let _ = writeln!(md, "### {}. {} (`{}`)\n", n + 1, f.title, f.code);
        let _ = writeln!(md, "{}\n", f.summary);
        let _ = writeln!(
            md,
            "- **How known:** `{}` ({})",
            f.basis,
            f.basis.describe()
        );
        if let Some(r) = &f.resource {
            let _ = writeln!(md, "- **Resource:** `{r}`");
        }
        if let Some(s) = &f.statement {
            let _ = writeln!(md, "- **Responsible:** {}", s.label());
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
            s.bucket.as_deref().unwrap_or(""),
            s.status.as_str(),
            s.detail.replace('|', "\\|")
        );
    }
    let _ = writeln!(md);
}

/// The command that re-runs this check.
pub fn verify_command(report: &Report) -> String {
    let t = &report.target;
    let mut cmd = String::from("s3doctor check");
    for b in &t.buckets {
        cmd.push_str(&format!(" --bucket {b}"));
    }
    if t.access != Access::ReadWrite {
        cmd.push_str(&format!(" --access {}", t.access.as_str()));
    }
    if let Some(r) = &t.region {
        cmd.push_str(&format!(" --region {r}"));
    }
    if let Some(p) = &t.profile {
        cmd.push_str(&format!(" --profile {p}"));
    }
    if let Some(e) = &t.endpoint {
        cmd.push_str(&format!(" --endpoint-url {e}"));
    }
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
        assert!(!nothing.ok && !nothing.complete);
        assert_eq!(nothing.progress(), "0 of 9 steps ran");
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
        assert!(!skipped.ok);
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
        assert!(clean.ok && clean.complete);
        assert!(to_text(&clean, false).contains("No problems found."));
        assert!(to_markdown(&clean).contains("(no problems found)"));
    }
}
