//! A reading in words: plain text for the terminal, Markdown for the ticket. Decides nothing.

use super::Reading;

/// The rows of "what was refused": label and value, only those the text held.
fn facts(r: &Reading) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    let mut row = |label, value: Option<String>| {
        if let Some(v) = value {
            rows.push((label, v));
        }
    };
    let principal = r.principal.clone().map(|p| match &r.role_arn {
        Some(_) if r.role_path_known == Some(false) => format!("{p} ({})", role_words(r)),
        Some(role) if *role != p => format!("{p} (role {role})"),
        _ => p,
    });
    row("principal", principal.or_else(|| r.role_arn.clone()));
    let action = match (&r.action, &r.operation) {
        (Some(a), Some(op)) => Some(format!("{a} ({op})")),
        (Some(a), None) => Some(a.clone()),
        (None, Some(op)) => Some(op.clone()),
        (None, None) => None,
    };
    row("action", action);
    row("bucket", r.bucket.clone());
    row("key", r.key.clone());
    let resource = r
        .resource
        .clone()
        .filter(|res| !res.starts_with("arn:aws:s3:::"));
    row("resource", resource);
    row("region", r.region.clone());
    row("endpoint", r.endpoint.clone());
    row("source ip", r.source_ip.clone());
    row("vpc endpoint", r.vpce.clone());
    row("request id", r.request_id.clone());
    row("extended id", r.extended_request_id.clone());
    row("answer", Some(answer(r)));
    rows
}

/// `role NAME, path not known: …` for a role made from a session's ARN.
fn role_words(r: &Reading) -> String {
    let role = r.role_arn.as_deref().unwrap_or_default();
    let name = role.rsplit('/').next().unwrap_or(role);
    format!("role {name}, {}", crate::arn::PATH_NOT_KNOWN)
}

/// What the printed command's `--role-arn` means when the role's path is not known.
fn path_note(r: &Reading) -> Option<String> {
    (r.role_path_known == Some(false)).then(|| {
        format!(
            "--role-arn names {} without a path ({}): if STS refuses it, check asks \
             iam:GetRole for the role's real ARN and assumes that",
            r.role_arn.as_deref().unwrap_or_default(),
            crate::arn::PATH_NOT_KNOWN
        )
    })
}

fn answer(r: &Reading) -> String {
    let mut parts = Vec::new();
    if let Some(s) = r.http_status {
        parts.push(format!("HTTP {s}"));
    }
    if let Some(c) = &r.error_code {
        parts.push(c.clone());
    }
    match &r.message {
        Some(m) => parts.push(format!("\"{m}\"")),
        None => parts.push("no message".to_owned()),
    }
    parts.join(", ")
}

fn policy_line(r: &Reading) -> Option<String> {
    let source = r.source.map(|s| s.describe().to_owned());
    match (source, &r.policy_arn) {
        (Some(s), Some(arn)) => Some(format!("{s}: {arn}")),
        (Some(s), None) => Some(s),
        (None, Some(arn)) => Some(arn.clone()),
        (None, None) => None,
    }
}

/// The reading as plain text.
pub fn text(r: &Reading) -> String {
    let mut out = format!(
        "Read from {} (offline: nothing was sent).\n\nWhat was refused\n",
        r.format.describe()
    );
    for (label, value) in facts(r) {
        out.push_str(&format!("  {label:<13}{value}\n"));
    }
    out.push_str(&format!(
        "\nCause: {} — {}\n  How known: {} ({})\n",
        r.cause,
        r.title,
        r.basis,
        r.basis.describe(super::server(r))
    ));
    if let Some(policy) = policy_line(r) {
        out.push_str(&format!("  Policy: {policy}\n"));
    }
    out.push_str(&format!("  {}\n", r.summary));
    if !r.remedy.is_empty() {
        out.push_str(&format!("  Fix: {}\n", r.remedy));
    }
    if let Some(hint) = &r.authorization_hint {
        out.push_str(&format!("  {hint}\n"));
    }
    if let Some(hidden) = &r.hidden {
        out.push_str(&format!("\nWhy the text cannot say more: {hidden}\n"));
    }
    if !r.other_causes.is_empty() {
        out.push_str("\nWhat else answers the same way:\n");
        for c in &r.other_causes {
            out.push_str(&format!("  - {c}\n"));
        }
    }
    out.push_str(&format!(
        "\nCheck it live (the {} step, as the app):\n  {}\n",
        r.step.as_str(),
        r.command
    ));
    if !r.command_complete {
        out.push_str("  (the text names no bucket: put the app's bucket in place of BUCKET)\n");
    }
    if let Some(note) = path_note(r) {
        out.push_str(&format!("  ({note})\n"));
    }
    out
}

/// The reading as Markdown, for the ticket.
pub fn markdown(r: &Reading) -> String {
    let mut out = format!(
        "## s3doctor why: `{}`\n\nRead from {} (offline: nothing was sent).\n\n| | |\n|---|---|\n",
        r.cause,
        r.format.describe()
    );
    for (label, value) in facts(r) {
        out.push_str(&format!(
            "| {label} | `{}` |\n",
            value.replace('|', "\\|").replace('`', "'")
        ));
    }
    out.push_str(&format!(
        "\n**{}** — how known: {} ({})\n\n{}\n",
        r.title,
        r.basis,
        r.basis.describe(super::server(r)),
        r.summary
    ));
    if let Some(policy) = policy_line(r) {
        out.push_str(&format!("\nPolicy: {policy}\n"));
    }
    if !r.remedy.is_empty() {
        out.push_str(&format!("\n**Fix:** {}\n", r.remedy));
    }
    if let Some(hint) = &r.authorization_hint {
        out.push_str(&format!("\n{hint}\n"));
    }
    if let Some(hidden) = &r.hidden {
        out.push_str(&format!("\n**Why the text cannot say more:** {hidden}\n"));
    }
    if !r.other_causes.is_empty() {
        out.push_str("\nWhat else answers the same way:\n\n");
        for c in &r.other_causes {
            out.push_str(&format!("- {c}\n"));
        }
    }
    out.push_str(&format!(
        "\nCheck it live (the `{}` step):\n\n```sh\n{}\n```\n",
        r.step.as_str(),
        r.command
    ));
    if let Some(note) = path_note(r) {
        out.push_str(&format!("\n{note}\n"));
    }
    out
}
