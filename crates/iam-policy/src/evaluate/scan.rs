//! The scan: every statement of every policy judged against the request, then the verdict.

use super::super::condition::{self, Dependency, Outcome, Reading};
use super::super::document::{Effect, NamedPolicy, OneOrMany, Statement};
use super::Request;
use super::decision::{Decision, PolicyRef, StatementRef, Verdict};
use super::principal::{Caller, PrincipalMatch};
use super::resource::{Applies, resource_applies};
use crate::glob::action_matches;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Identity,
    Resource,
    Boundary,
}

fn action_applies(statement: &Statement, action: &str) -> bool {
    if statement.action.is_none() && statement.not_action.is_none() {
        return false;
    }
    let listed = |patterns: &OneOrMany| patterns.iter().any(|p| action_matches(p, action));
    statement.action.as_ref().is_none_or(listed)
        && !statement.not_action.as_ref().is_some_and(listed)
}

#[derive(Default)]
pub(super) struct Scan {
    denies: Vec<StatementRef>,
    identity_allows: Vec<StatementRef>,
    direct_resource_allows: Vec<StatementRef>,
    /// Bucket-policy Allows to the session's role or to `*`, with which of the two.
    other_resource_allows: Vec<(StatementRef, PrincipalMatch)>,
    boundary_allows: Vec<StatementRef>,
    conditional: Vec<StatementRef>,
    unmet: Vec<StatementRef>,
}

impl Scan {
    pub(super) fn policy(
        &mut self,
        policy: &NamedPolicy,
        role: Role,
        request: &Request,
        caller: &Caller<'_>,
    ) {
        let variables = policy.document.version.as_deref() == Some("2012-10-17");
        for (index, statement) in policy.document.statement.iter().enumerate() {
            if !action_applies(statement, &request.action) {
                continue;
            }
            let (principal, reading) = match role {
                Role::Resource => caller.match_statement(statement),
                Role::Identity | Role::Boundary => (PrincipalMatch::Direct, None),
            };
            let principal_applies = match statement.effect {
                Effect::Deny => principal >= PrincipalMatch::Account,
                Effect::Allow => principal >= PrincipalMatch::Role,
            };
            if !principal_applies {
                continue;
            }
            let mut depends_on = Vec::new();
            depends_on.extend(reading.map(|reading| Dependency::Reading { reading }));
            match resource_applies(statement, &request.resource, caller, variables) {
                Applies::No => continue,
                Applies::Yes => {}
                Applies::Unknown(unresolved) => depends_on.extend(
                    unresolved
                        .into_iter()
                        .map(|variable| Dependency::PolicyVariable { variable }),
                ),
            }
            let settled = match &statement.condition {
                None => Vec::new(),
                Some(block) => match condition::evaluate(block, &request.context, variables) {
                    Outcome::Met(settled) => settled,
                    Outcome::NotMet(failed) => {
                        self.unmet.push(StatementRef::new(
                            policy, index, statement, depends_on, failed,
                        ));
                        continue;
                    }
                    Outcome::Unknown { unknown, settled } => {
                        depends_on.extend(unknown.into_iter().map(Dependency::Condition));
                        settled
                    }
                },
            };
            let reference = StatementRef::new(policy, index, statement, depends_on, settled);
            if !reference.depends_on.is_empty() {
                self.conditional.push(reference);
                continue;
            }
            let list = match (statement.effect, role) {
                (Effect::Deny, _) => &mut self.denies,
                (Effect::Allow, Role::Identity) => &mut self.identity_allows,
                (Effect::Allow, Role::Boundary) => &mut self.boundary_allows,
                (Effect::Allow, Role::Resource) if principal == PrincipalMatch::Direct => {
                    &mut self.direct_resource_allows
                }
                (Effect::Allow, Role::Resource) => {
                    self.other_resource_allows.push((reference, principal));
                    continue;
                }
            };
            list.push(reference);
        }
    }
}

impl Scan {
    /// The verdict from every matching statement: an explicit Deny wins; then an Allow (one
    /// naming the principal in the bucket policy even past a boundary, the others only when
    /// the boundary allows too); else an implicit deny (see [`Scan::implicit_deny`]).
    pub(super) fn decide(self, boundary: Option<&NamedPolicy>) -> Decision {
        let Scan {
            denies,
            identity_allows,
            direct_resource_allows,
            other_resource_allows,
            boundary_allows,
            conditional,
            unmet,
        } = self;
        if !denies.is_empty() {
            return Decision {
                verdict: Verdict::ExplicitDeny,
                statements: denies,
                conditional,
                unmet,
                blocked_by_boundary: None,
            };
        }
        let mut granted = identity_allows;
        let mut to_anyone = Vec::new();
        for (reference, principal) in other_resource_allows {
            if principal == PrincipalMatch::Anyone {
                to_anyone.push(reference.clone());
            }
            granted.push(reference);
        }
        let boundary_ok = boundary.is_none() || !boundary_allows.is_empty();
        if !direct_resource_allows.is_empty() || (!granted.is_empty() && boundary_ok) {
            let mut statements = granted;
            statements.extend(direct_resource_allows);
            statements.extend(boundary_allows);
            return Decision {
                verdict: Verdict::Allowed,
                statements,
                conditional,
                unmet,
                blocked_by_boundary: None,
            };
        }
        implicit_deny(granted, to_anyone, (conditional, unmet), boundary)
    }
}

/// Nothing allows, or the boundary (if any) cancels what does. An Allow to "*" that the
/// boundary cancelled might not be cancelled: AWS does not say, so it is reported as an open
/// question, not as a cancelled Allow.
fn implicit_deny(
    mut granted: Vec<StatementRef>,
    to_anyone: Vec<StatementRef>,
    (mut conditional, unmet): (Vec<StatementRef>, Vec<StatementRef>),
    boundary: Option<&NamedPolicy>,
) -> Decision {
    if boundary.is_some() && !to_anyone.is_empty() {
        granted.retain(|s| !to_anyone.contains(s));
        for mut reference in to_anyone {
            reference.depend(Dependency::Reading {
                reading: Reading::AnyonePastBoundary,
            });
            conditional.push(reference);
        }
        return Decision {
            verdict: Verdict::ImplicitDeny,
            statements: granted,
            conditional,
            unmet,
            blocked_by_boundary: boundary.map(PolicyRef::of),
        };
    }
    let blocked_by_boundary = match boundary {
        Some(boundary) if !granted.is_empty() => Some(PolicyRef::of(boundary)),
        _ => None,
    };
    Decision {
        verdict: Verdict::ImplicitDeny,
        statements: granted,
        conditional,
        unmet,
        blocked_by_boundary,
    }
}
