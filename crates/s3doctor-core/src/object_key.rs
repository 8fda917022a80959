//! What S3 accepts as an object key, for the app's own object (`--key`, the wizard's `o`):
//! 1 to 1,024 bytes of UTF-8 (S3's limit), and no control characters (a pasted line break is
//! a mistake, never part of the app's key).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html>

/// Why a key cannot be the app's object, in one line.
pub fn validate(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the object's key in the bucket is needed (it was empty)".into());
    }
    if key.len() > 1024 {
        return Err(format!(
            "{} bytes long: S3 keys are at most 1024 bytes",
            key.len()
        ));
    }
    if key.chars().any(char::is_control) {
        return Err(format!(
            "{key:?} contains a control character (a line break or a tab?)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_1024_bytes_without_control_characters() {
        for ok in [
            "a",
            "finance/q3-report.pdf",
            "with space+plus",
            &"é".repeat(512),
        ] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "line\nbreak",
            "tab\there",
            &"k".repeat(1025),
            &"é".repeat(513),
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }
}
