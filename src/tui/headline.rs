//! The one line at the top of the wizard that tells a newcomer what to do: before anything
//! has run, which key to press; once steps have run, the verdict in plain words and the key
//! that leads on ("2 problems: no policy allows Runpod to write clipizy-dev — press f").

use super::app::App;
use crate::checks::Status;
use crate::finding::{Finding, FindingCode};
use crate::runbook::{Runbook, fill};

/// How the line should look: a hint, good news, or problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    Hint,
    Good,
    Bad,
}

/// What the header says on its own line, or `None` while there is nothing useful to add.
pub fn line(app: &App) -> Option<(Tone, String)> {
    let bucket_results = app
        .rows
        .iter()
        .filter(|u| u.bucket.is_some())
        .filter(|u| app.results.contains_key(*u))
        .count();
    let findings = app.findings();
    let errors: Vec<&Finding> = findings.iter().filter(|f| f.is_error()).collect();
    if errors.is_empty() {
        if bucket_results == 0 {
            if app.is_busy() || app.run.buckets.is_empty() {
                return None;
            }
            return Some((
                Tone::Hint,
                "Start here: press a to run every check (Enter runs one step at a time, ? explains the keys)"
                    .to_owned(),
            ));
        }
        let all_done = app.rows.iter().all(|u| app.results.contains_key(u));
        if !all_done {
            return None;
        }
        let warnings = findings.len();
        // A yellow row without a finding (a flag EC2 contradicts) is not "every check passed".
        let yellow_rows = app
            .results
            .values()
            .filter(|r| r.status == Status::Warn)
            .count();
        let failed = app.results.values().any(|r| r.status == Status::Fail);
        if failed {
            // A failure always carries a finding; this is only a safety net.
            return Some((Tone::Bad, "A step failed: select the red step".to_owned()));
        }
        return Some((
            Tone::Good,
            match warnings {
                0 if yellow_rows > 0 => {
                    format!("No problems; {yellow_rows} step(s) to read — select the yellow steps")
                }
                // The probe proves the bucket; one object can still fail on its own.
                0 if app.run.keys.is_empty() => {
                    "No problems: every check passed (one file still fails? o names it)".to_owned()
                }
                0 => "No problems: every check passed".to_owned(),
                n => format!("No problems; {n} warning(s) — select the yellow steps"),
            },
        ));
    }
    let who = app
        .session
        .identity
        .as_ref()
        .map(|i| i.principal.name.clone())
        .unwrap_or_else(|| "these keys".to_owned());
    let lead = most_telling(&errors);
    let count = match errors.len() {
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    };
    let (what, next) = headline(lead, &who, &errors);
    Some((Tone::Bad, format!("{count}: {what} — {next}")))
}

/// The finding that best explains the incident: a Deny or broken keys before a missing
/// permission, and among missing permissions the upload before the rest.
fn most_telling<'a>(errors: &[&'a Finding]) -> &'a Finding {
    let rank = |f: &Finding| -> usize {
        if f.code.is_credentials() {
            return 0;
        }
        match f.code {
            FindingCode::BucketNotFound | FindingCode::WrongRegion => 1,
            FindingCode::ExplicitDeny => 2,
            FindingCode::PermissionMissing => 3 + action_rank(f.action.as_deref()),
            _ => 20,
        }
    };
    errors
        .iter()
        .copied()
        .min_by_key(|f| rank(f))
        .unwrap_or(errors[0])
}

fn action_rank(action: Option<&str>) -> usize {
    match action {
        Some("s3:PutObject") => 0,
        Some("s3:GetObject") => 1,
        Some("s3:DeleteObject") => 2,
        Some("s3:ListBucket") => 3,
        _ => 4,
    }
}

/// The verb a person would use for an action: "write", "read", …
fn verb(action: &str) -> String {
    match action {
        "s3:PutObject" => "write to".to_owned(),
        "s3:GetObject" => "read from".to_owned(),
        "s3:DeleteObject" => "delete from".to_owned(),
        "s3:ListBucket" => "list".to_owned(),
        "s3:PutObjectAcl" => "set ACLs in".to_owned(),
        other => format!("use {other} on"),
    }
}

/// What is wrong in a few words, and what to press next.
fn headline(f: &Finding, who: &str, errors: &[&Finding]) -> (String, String) {
    let bucket_name = f.bucket.clone().unwrap_or_else(|| "the bucket".to_owned());
    // The app's own object (`--key`) is named with its bucket.
    let bucket = match &f.key {
        Some(key) => format!("{bucket_name}/{key}"),
        None => bucket_name.clone(),
    };
    let object = f.key.clone().unwrap_or_default();
    let policy_fix = errors.iter().any(|e| e.code.is_fixable_by_policy());
    let next_fix = if policy_fix {
        "press f".to_owned()
    } else {
        "the red step says how to fix it".to_owned()
    };
    let what = match (f.code, f.action.as_deref()) {
        (FindingCode::PermissionMissing, Some(action)) => {
            format!("no policy allows {who} to {} {bucket}", verb(action))
        }
        (FindingCode::ExplicitDeny, Some(action)) => {
            let by = f
                .statement
                .as_ref()
                .map(|s| format!(" ({})", s.label()))
                .unwrap_or_default();
            format!("a Deny{by} stops {who} from {action} on {bucket}")
        }
        _ => {
            let title = Runbook::embedded()
                .finding(f.code)
                .map(|t| t.title.clone())
                .unwrap_or_else(|| f.title.clone());
            let action = f.action.clone().unwrap_or_default();
            let text = fill(
                &title,
                &[
                    ("bucket", &bucket_name),
                    ("action", &action),
                    ("object", &object),
                ],
            );
            // Titles are sentences ("The bucket is in another region"): lower-case the start.
            let mut chars = text.chars();
            match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    };
    (what, next_fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::runbook::StepId;

    fn finding(code: FindingCode, action: Option<&str>) -> Finding {
        Finding {
            code,
            severity: Severity::Error,
            step: StepId::PutObject,
            bucket: Some("clipizy-dev".into()),
            action: action.map(str::to_owned),
            source: None,
            basis: crate::finding::Basis::AwsMessage,
            resource: None,
            key: None,
            title: String::new(),
            summary: String::new(),
            remedy: String::new(),
            statement: None,
            evidence: None,
            vantages: None,
        }
    }

    #[test]
    fn the_upload_leads_among_missing_permissions_and_f_is_the_way_on() {
        let list = finding(FindingCode::PermissionMissing, Some("s3:ListBucket"));
        let put = finding(FindingCode::PermissionMissing, Some("s3:PutObject"));
        let errors = vec![&list, &put];
        let lead = most_telling(&errors);
        assert_eq!(
            headline(lead, "Runpod", &errors),
            (
                "no policy allows Runpod to write to clipizy-dev".to_owned(),
                "press f".to_owned()
            )
        );
    }

    #[test]
    fn a_deny_or_a_region_is_not_sent_to_the_policy_fix() {
        let deny = finding(FindingCode::ExplicitDeny, Some("s3:DeleteObject"));
        let errors = vec![&deny];
        let (what, next) = headline(most_telling(&errors), "Runpod", &errors);
        assert_eq!(
            what,
            "a Deny stops Runpod from s3:DeleteObject on clipizy-dev"
        );
        assert_eq!(next, "the red step says how to fix it");
        // A Deny on the app's own object names the object.
        let on_key = Finding {
            key: Some("finance/q3.pdf".into()),
            ..finding(FindingCode::ExplicitDeny, Some("s3:GetObject"))
        };
        let errors = vec![&on_key];
        let (what, _) = headline(most_telling(&errors), "Runpod", &errors);
        assert_eq!(
            what,
            "a Deny stops Runpod from s3:GetObject on clipizy-dev/finance/q3.pdf"
        );
        let missing = Finding {
            key: Some("finance/q3.pdf".into()),
            ..finding(FindingCode::ObjectNotFound, Some("s3:GetObject"))
        };
        let errors = vec![&missing];
        let (what, _) = headline(most_telling(&errors), "Runpod", &errors);
        assert_eq!(what, "the object finance/q3.pdf is not in the bucket");
        let region = finding(FindingCode::WrongRegion, None);
        let errors = vec![&region];
        let (what, _) = headline(most_telling(&errors), "Runpod", &errors);
        assert_eq!(what, "the bucket is in another region");
    }

    /// Every row passed: the good news, and, without `--key`, where to go when one file
    /// still fails.
    fn all_passed(keys: Vec<String>) -> Option<(Tone, String)> {
        finished_with(keys, None)
    }

    /// Every row finished with no finding; `yellow`, when given, is the one step that warned.
    fn finished_with(keys: Vec<String>, yellow: Option<StepId>) -> Option<(Tone, String)> {
        use crate::engine::{EngineEvent, StepResult};
        use crate::tui::app::Msg;
        let mut app = App::for_tests();
        app.run.keys = keys;
        for unit in app.rows.clone() {
            let result = StepResult {
                id: unit.step,
                bucket: unit.bucket.clone(),
                key: unit.key.clone(),
                status: if Some(unit.step) == yellow {
                    Status::Warn
                } else {
                    Status::Pass
                },
                elapsed_ms: 1,
                detail: "fine".into(),
                evidence: None,
                findings: Vec::new(),
                blocking: false,
                ran: true,
            };
            app.update(Msg::Engine(Box::new(EngineEvent::Finished(result))));
        }
        line(&app)
    }

    #[test]
    fn a_clean_run_points_at_o_when_no_object_was_named() {
        let (tone, text) = all_passed(Vec::new()).expect("a line");
        assert_eq!(tone, Tone::Good);
        assert!(text.contains("one file still fails? o names it"), "{text}");
        let (_, text) = all_passed(vec!["a.pdf".into()]).expect("a line");
        assert_eq!(text, "No problems: every check passed");
    }

    #[test]
    fn a_yellow_row_without_a_finding_is_not_every_check_passed() {
        // A --vpc that EC2 contradicts warns on the bucket-policy row and makes no finding.
        let (tone, text) =
            finished_with(vec!["a.pdf".into()], Some(StepId::BucketPolicy)).expect("a line");
        assert_eq!(tone, Tone::Good);
        assert_eq!(
            text,
            "No problems; 1 step(s) to read — select the yellow steps"
        );
    }
}
