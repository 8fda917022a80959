//! `Resource` and `NotResource` patterns, with the policy variables the caller resolves.

use super::super::document::{OneOrMany, Statement};
use super::principal::Caller;
use crate::glob::{Token, match_tokens};

/// Whether an element applies: yes, no, or only if the listed policy variables allow it.
pub(super) enum Applies {
    Yes,
    No,
    Unknown(Vec<String>),
}

/// A `Resource` pattern with its policy variables replaced: `${aws:username}` and the caller's
/// account, `${*}`, `${?}`, `${$}` become literals; unknown variables become `*` and are named.
struct ResourcePattern {
    tokens: Vec<Token>,
    unresolved: Vec<String>,
    /// A variable whose key is absent from the request (e.g. `${aws:username}` for a role):
    /// the pattern matches nothing.
    never: bool,
}

impl ResourcePattern {
    fn new(pattern: &str, caller: &Caller<'_>, variables: bool) -> Self {
        let mut compiled = ResourcePattern {
            tokens: Vec::with_capacity(pattern.len()),
            unresolved: Vec::new(),
            never: false,
        };
        let mut rest = pattern;
        while !rest.is_empty() {
            if variables
                && rest.starts_with("${")
                && let Some(end) = rest.find('}')
            {
                let expression = rest.get(2..end).unwrap_or_default();
                compiled.push_variable(expression, caller);
                rest = rest.get(end + 1..).unwrap_or_default();
                continue;
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                compiled.tokens.push(Token::from_char(c));
            }
            rest = chars.as_str();
        }
        compiled
    }

    fn push_variable(&mut self, expression: &str, caller: &Caller<'_>) {
        // ${key} or ${key, 'default'}
        let (key, default) = match expression.split_once(',') {
            Some((key, default)) => {
                let default = default.trim();
                let default = default
                    .strip_prefix('\'')
                    .and_then(|d| d.strip_suffix('\''))
                    .unwrap_or(default);
                (key.trim(), Some(default))
            }
            None => (expression.trim(), None),
        };
        let literal = |tokens: &mut Vec<Token>, text: &str| {
            tokens.extend(text.chars().map(Token::Literal));
        };
        match key.to_ascii_lowercase().as_str() {
            "*" | "?" | "$" => literal(&mut self.tokens, key),
            "aws:username" => match (caller.user_name, default) {
                (Some(name), _) | (None, Some(name)) => literal(&mut self.tokens, name),
                (None, None) => self.never = true,
            },
            "aws:principalaccount" if !caller.account.is_empty() => {
                literal(&mut self.tokens, caller.account);
            }
            _ => {
                self.tokens.push(Token::Star);
                self.unresolved.push(expression.trim().to_owned());
            }
        }
    }

    fn matches(&self, resource: &[char]) -> bool {
        !self.never && match_tokens(&self.tokens, resource, false)
    }
}

pub(super) fn resource_applies(
    statement: &Statement,
    resource: &str,
    caller: &Caller<'_>,
    variables: bool,
) -> Applies {
    if statement.resource.is_none() && statement.not_resource.is_none() {
        return Applies::No;
    }
    let resource: Vec<char> = resource.chars().collect();
    // Yes: a certain match. Unknown: a match only if the named variables allow it.
    let scan = |patterns: &OneOrMany| {
        let mut unknown = Vec::new();
        for pattern in patterns.iter() {
            let compiled = ResourcePattern::new(pattern, caller, variables);
            if compiled.matches(&resource) {
                if compiled.unresolved.is_empty() {
                    return Applies::Yes;
                }
                unknown.extend(compiled.unresolved);
            }
        }
        if unknown.is_empty() {
            Applies::No
        } else {
            Applies::Unknown(unknown)
        }
    };
    let included = statement.resource.as_ref().map_or(Applies::Yes, scan);
    let excluded = statement.not_resource.as_ref().map_or(Applies::No, scan);
    match (included, excluded) {
        (Applies::No, _) | (_, Applies::Yes) => Applies::No,
        (Applies::Yes, Applies::No) => Applies::Yes,
        (Applies::Unknown(mut a), Applies::Unknown(b)) => {
            a.extend(b);
            Applies::Unknown(a)
        }
        (Applies::Unknown(a), Applies::No) | (Applies::Yes, Applies::Unknown(a)) => {
            Applies::Unknown(a)
        }
    }
}
