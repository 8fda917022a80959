//! Who the caller is and how a bucket policy's `Principal` and `NotPrincipal` name it.

use super::super::condition::Reading;
use super::super::document::{Effect, Principal, Statement};
use super::Request;
use crate::arn::Arn;

/// How strongly a bucket policy principal names the caller; ordered weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum PrincipalMatch {
    No,
    /// The caller's account: a Deny applies, an Allow only delegates.
    Account,
    /// The role of the caller's session: allows, limited by the boundary.
    Role,
    /// `*`: allows; whether the boundary limits it, AWS does not say.
    Anyone,
    /// The caller's own ARN: allows even past the boundary.
    Direct,
}

/// What is known about the caller, read once from the request.
pub(super) struct Caller<'r> {
    pub(super) arn: &'r str,
    pub(super) account: &'r str,
    /// For an assumed-role session: the role's name.
    pub(super) session_role: Option<&'r str>,
    /// For an IAM user: the user's name, the value of `${aws:username}`.
    pub(super) user_name: Option<&'r str>,
    /// The account's root user (`arn:aws:iam::ACCOUNT:root`).
    pub(super) is_root: bool,
    /// The caller has a permissions boundary.
    pub(super) has_boundary: bool,
}

impl<'r> Caller<'r> {
    pub(super) fn new(request: &'r Request, has_boundary: bool) -> Self {
        let arn = request.principal_arn.as_str();
        let parsed = Arn::parse(arn);
        let account = match parsed {
            Some(parsed) if request.account.is_empty() => parsed.account,
            _ => request.account.as_str(),
        };
        Caller {
            arn,
            account,
            session_role: parsed.and_then(|p| p.session_role()),
            user_name: parsed.and_then(|p| p.iam_name("user")),
            is_root: parsed.is_some_and(|p| p.is_account_root()),
            has_boundary,
        }
    }

    fn match_entry(&self, entry: &str) -> PrincipalMatch {
        if entry == "*" {
            return PrincipalMatch::Anyone;
        }
        if !self.arn.is_empty() && entry == self.arn {
            return PrincipalMatch::Direct;
        }
        if self.account.is_empty() {
            return PrincipalMatch::No;
        }
        if entry == self.account {
            return PrincipalMatch::Account;
        }
        // arn:PARTITION:iam::ACCOUNT:root | arn:PARTITION:iam::ACCOUNT:role/PATH/NAME
        let Some(named) = Arn::parse(entry)
            .filter(|a| a.service == "iam" && a.region.is_empty() && a.account == self.account)
        else {
            return PrincipalMatch::No;
        };
        if named.is_account_root() {
            return PrincipalMatch::Account;
        }
        match (named.iam_name("role"), self.session_role) {
            (Some(name), Some(role)) if name == role => PrincipalMatch::Role,
            _ => PrincipalMatch::No,
        }
    }

    fn match_principal(&self, principal: &Principal) -> PrincipalMatch {
        match principal {
            Principal::Any => PrincipalMatch::Anyone,
            // The caller is an AWS principal: Service, Federated and CanonicalUser name others.
            Principal::Map(_) => principal
                .values("AWS")
                .iter()
                .map(|entry| self.match_entry(entry))
                .max()
                .unwrap_or(PrincipalMatch::No),
        }
    }

    /// How a bucket policy statement's `Principal`/`NotPrincipal` applies to the caller, and
    /// the open question it depends on, if any (see [`evaluate`] for the rules and their
    /// sources).
    pub(super) fn match_statement(
        &self,
        statement: &Statement,
    ) -> (PrincipalMatch, Option<Reading>) {
        let named = match &statement.principal {
            Some(principal) => self.match_principal(principal),
            None if statement.not_principal.is_some() => PrincipalMatch::Anyone,
            None => PrincipalMatch::No,
        };
        let Some(excluded) = &statement.not_principal else {
            return (named, None);
        };
        let deny = statement.effect == Effect::Deny;
        // "will always deny any IAM principal that has a permissions boundary policy attached,
        // regardless of the values specified in the NotPrincipal element"
        if deny && self.has_boundary {
            return (named, None);
        }
        let listed = self.match_principal(excluded);
        let exempt = match listed {
            PrincipalMatch::No => false,
            // The account names its root user, not its users and roles.
            PrincipalMatch::Account => self.is_root,
            PrincipalMatch::Role | PrincipalMatch::Anyone | PrincipalMatch::Direct => true,
        };
        if !exempt {
            return (named, None);
        }
        // Listed, but without the account (or the role of a session): AWS says the Deny
        // "might" still apply. s3doctor's reading: exempt; reported as open.
        let whole_chain = listed == PrincipalMatch::Anyone
            || self.is_root
            || (self.lists(excluded, PrincipalMatch::Account)
                && (self.session_role.is_none() || self.lists(excluded, PrincipalMatch::Role)));
        if deny && !whole_chain {
            return (named, Some(Reading::NotPrincipalWithoutAccount));
        }
        (PrincipalMatch::No, None)
    }

    /// Does `principal` hold an entry that names the caller exactly as `how`?
    fn lists(&self, principal: &Principal, how: PrincipalMatch) -> bool {
        principal
            .values("AWS")
            .iter()
            .any(|entry| self.match_entry(entry) == how)
    }
}
