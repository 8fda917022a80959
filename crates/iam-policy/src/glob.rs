//! IAM's glob: `*` and `?` in `Action` and `Resource` patterns (and `StringLike`, `ArnLike`).

/// Does an `Action` pattern (`s3:Get*`, `s3:*`, `*`, `s3:?etObject`) match `action`?
/// Case-insensitive, as IAM compares actions.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard_match(pattern, action, true)
}

/// Does a `Resource` pattern (`arn:aws:s3:::bucket/*`) match `resource`? Case-sensitive, as IAM
/// compares ARNs. Policy variables are not resolved here (see [`crate::evaluate`]).
pub fn resource_matches(pattern: &str, resource: &str) -> bool {
    wildcard_match(pattern, resource, false)
}

/// IAM's glob: `*` matches any run of characters (also `/` and `:`), `?` exactly one.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let tokens: Vec<Token> = pattern.chars().map(Token::from_char).collect();
    let text: Vec<char> = text.chars().collect();
    match_tokens(&tokens, &text, ignore_case)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    Literal(char),
    Star,
    One,
}

impl Token {
    pub(crate) fn from_char(c: char) -> Self {
        match c {
            '*' => Token::Star,
            '?' => Token::One,
            other => Token::Literal(other),
        }
    }
}

/// Iterative glob match with single-star backtracking: O(pattern × text), no recursion.
pub(crate) fn match_tokens(tokens: &[Token], text: &[char], ignore_case: bool) -> bool {
    let same = |a: char, b: char| {
        if ignore_case {
            a == b || a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while let Some(&c) = text.get(t) {
        match tokens.get(p) {
            Some(Token::Star) => {
                last_star = Some((p, t));
                p += 1;
            }
            Some(Token::One) => {
                p += 1;
                t += 1;
            }
            Some(Token::Literal(l)) if same(*l, c) => {
                p += 1;
                t += 1;
            }
            _ => match last_star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    last_star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    tokens
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|token| *token == Token::Star)
}
