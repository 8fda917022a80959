//! The query parameters of a SigV4 presigned URL (`X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`), read and checked in
//! the order AWS lists them:
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.

use time::PrimitiveDateTime;
use time::macros::format_description;

use super::{PresignedError, SigVersion, Signature, param};

/// Reads and checks the SigV4 parameters.
pub(super) fn read(params: &[(String, String)]) -> Result<Signature, PresignedError> {
    let required = |name: &'static str| param(params, name).ok_or(PresignedError::Missing(name));
    let algorithm = required("X-Amz-Algorithm")?;
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(PresignedError::Malformed {
            name: "X-Amz-Algorithm",
            why: format!("{algorithm:?} is not AWS4-HMAC-SHA256"),
        });
    }
    let (key_id, date, region, service) = read_credential(required("X-Amz-Credential")?)?;
    let amz_date = required("X-Amz-Date")?;
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| PresignedError::Malformed {
        name: "X-Amz-Date",
        why: format!("{amz_date:?} is not YYYYMMDDTHHMMSSZ"),
    })?;
    if amz_date.get(..8) != Some(date) {
        return Err(PresignedError::Malformed {
            name: "X-Amz-Credential",
            why: format!("its date {date} is not the day of X-Amz-Date {amz_date}"),
        });
    }
    let expires = required("X-Amz-Expires")?;
    let expires_in: u64 = expires.parse().map_err(|_| PresignedError::Malformed {
        name: "X-Amz-Expires",
        why: format!("{expires:?} is not a number of seconds"),
    })?;
    let signed_headers: Vec<String> = required("X-Amz-SignedHeaders")?
        .split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let signature = required("X-Amz-Signature")?;
    if signature.len() != 64 || !signature.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(PresignedError::Malformed {
            name: "X-Amz-Signature",
            why: "expected 64 hexadecimal digits".into(),
        });
    }
    Ok(Signature {
        version: SigVersion::V4,
        key_id: key_id.to_owned(),
        region: Some(region.to_owned()),
        service: service.to_owned(),
        signed_at: Some(signed_at),
        expires_in: Some(expires_in),
        expires_at: signed_at.saturating_add(i64::try_from(expires_in).unwrap_or(i64::MAX)),
        signed_headers,
    })
}

/// `KEYID/DATE/REGION/SERVICE/aws4_request` → (key id, date, region, service).
fn read_credential(credential: &str) -> Result<(&str, &str, &str, &str), PresignedError> {
    let malformed = || PresignedError::Malformed {
        name: "X-Amz-Credential",
        why: "expected KEYID/DATE/REGION/SERVICE/aws4_request".into(),
    };
    let parts: Vec<&str> = credential.split('/').collect();
    let [key_id, date, region, service, terminator] = parts.as_slice() else {
        return Err(malformed());
    };
    if key_id.is_empty() || region.is_empty() || *terminator != "aws4_request" {
        return Err(malformed());
    }
    Ok((key_id, date, region, service))
}

/// `20261125T154800Z` (ISO 8601 basic, UTC) → seconds since the epoch.
pub fn parse_amz_date(text: &str) -> Option<i64> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    if text.len() != 16 {
        return None;
    }
    PrimitiveDateTime::parse(text, format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}
