//! The fix as a Markdown hand-over for whoever owns IAM: console steps, AWS CLI commands
//! with the real account, names and ARNs, and the policy JSON (incident 1's shape). Both the
//! report's Markdown and the remedy's export include it, so it lives below both.

use std::fmt::Write as _;

use crate::arn::PrincipalKind;
use crate::checks::Identity;
use crate::policy::PolicyDocument;

/// Console steps, CLI commands and JSON that attach `policy` as `policy_name`.
pub fn fix_markdown(
    policy: &PolicyDocument,
    identity: Option<&Identity>,
    policy_name: &str,
    endpoint: Option<&str>,
) -> String {
    let mut md = String::new();
    let json = policy.to_pretty_json();
    let endpoint_flag = crate::aws::endpoint_flag(endpoint);
    let _ = writeln!(md, "## The fix: attach a least-privilege policy\n");
    match identity.and_then(|i| attachment(i, policy_name, &endpoint_flag)) {
        Some(attach) => console_and_cli(&mut md, &attach, policy_name, &json, &endpoint_flag),
        None => {
            let who = identity
                .map(|i| i.principal.arn.as_str())
                .unwrap_or("the principal");
            let _ = writeln!(
                md,
                "{who} is not an IAM user or role, so a policy cannot be attached to it directly: give the app the keys of an IAM user or a role, and attach this policy to that.\n"
            );
        }
    }
    let _ = writeln!(md, "### Policy JSON\n\n```json\n{json}\n```\n");
    md
}

/// Where the policy is attached: the console's section, the user's or role's name, and the
/// CLI command that attaches it.
struct Attachment {
    section: &'static str,
    name: String,
    command: String,
}

/// The attachment for an IAM user or role; `None` for any other principal (root, a
/// federated user), which cannot carry a policy.
fn attachment(identity: &Identity, policy_name: &str, endpoint_flag: &str) -> Option<Attachment> {
    let principal = &identity.principal;
    let policy_arn = principal.policy_arn(policy_name);
    let name = principal.name.clone();
    match principal.kind {
        PrincipalKind::User => Some(Attachment {
            section: "Users",
            command: format!(
                "aws iam attach-user-policy{endpoint_flag} \\\n    --user-name {name} \\\n    --policy-arn {policy_arn}"
            ),
            name,
        }),
        PrincipalKind::AssumedRole | PrincipalKind::Role => Some(Attachment {
            section: "Roles",
            command: format!(
                "aws iam attach-role-policy{endpoint_flag} \\\n    --role-name {name} \\\n    --policy-arn {policy_arn}"
            ),
            name,
        }),
        _ => None,
    }
}

/// Option 1 (the console, step by step) and option 2 (the AWS CLI).
fn console_and_cli(
    md: &mut String,
    attach: &Attachment,
    policy_name: &str,
    json: &str,
    endpoint_flag: &str,
) {
    let Attachment {
        section,
        name,
        command,
    } = attach;
    let _ = writeln!(md, "### Option 1: AWS console\n");
    let _ = writeln!(
        md,
        "1. Open the IAM console: https://console.aws.amazon.com/iam/"
    );
    let _ = writeln!(
        md,
        "2. Policies → **Create policy** → **JSON**, paste the policy below, name it `{policy_name}`, **Create policy**."
    );
    let _ = writeln!(
        md,
        "3. {section} → `{name}` → **Add permissions** → **Attach policies directly**."
    );
    let _ = writeln!(
        md,
        "4. Search for `{policy_name}`, tick it, **Add permissions**.\n"
    );
    let _ = writeln!(md, "### Option 2: AWS CLI\n");
    let _ = writeln!(
        md,
        "```bash\ncat > {policy_name}.json <<'EOF'\n{json}\nEOF\n"
    );
    let _ = writeln!(
        md,
        "aws iam create-policy{endpoint_flag} \\\n    --policy-name {policy_name} \\\n    --policy-document file://{policy_name}.json\n"
    );
    let _ = writeln!(md, "{command}\n```\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attach_commands_name_the_policy_in_the_principals_partition() {
        for (arn, attach) in [
            (
                "arn:aws-us-gov:iam::123456789012:user/app",
                "--policy-arn arn:aws-us-gov:iam::123456789012:policy/app-s3",
            ),
            (
                "arn:aws-cn:sts::123456789012:assumed-role/App/i-0",
                "--policy-arn arn:aws-cn:iam::123456789012:policy/app-s3",
            ),
        ] {
            let identity = Identity::new(crate::arn::parse_principal(arn).unwrap(), None, true);
            let policy = crate::policy::generate(
                crate::arn::partition_in(arn),
                &["b".to_owned()],
                Default::default(),
                None,
            );
            let md = fix_markdown(&policy, Some(&identity), "app-s3", None);
            assert!(md.contains(attach), "{md}");
            assert!(!md.contains("arn:aws:"), "{md}");
        }
    }
}
