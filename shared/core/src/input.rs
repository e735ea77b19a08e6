//! Input every route validates the same way: JSON bodies, and URLs a developer gives us to send
//! their customers to.

use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// The longest redirect URL we pass to Stripe (Stripe's own limit is 5000).
pub const MAX_URL_LEN: usize = 2048;

/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Lower-cases and checks an email address: one `@`, a dotted domain, no spaces or controls.
pub fn parse_email(raw: &str) -> ApiResult<String> {
    let email = raw.trim().to_ascii_lowercase();
    let invalid = || ApiError::invalid_request(format!("`email` is not a valid email address: {raw:?}"));
    if email.len() > MAX_EMAIL_LEN {
        return Err(ApiError::invalid_request(format!(
            "`email` is longer than {MAX_EMAIL_LEN} characters"
        )));
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let well_formed = !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && email
            .chars()
            .all(|c| c.is_ascii_graphic() || (!c.is_ascii() && !c.is_control()));
    if well_formed { Ok(email) } else { Err(invalid()) }
}

/// Parses a JSON body into `T`, or an empty body into `T::default()`.
pub fn json_body<T: DeserializeOwned + Default>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(body)
}

/// Parses a JSON body into `T`; a refusal names the field it is about, as axum's `Json` does on
/// the dashboard's routes (`Invalid JSON body at offerTiers[1]: invalid type: …`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        // A syntax error before any key was read has no field to name (its path is `?`).
        let named = e.path().iter().any(|s| !matches!(s, serde_path_to_error::Segment::Unknown));
        let at = if named { format!(" at {}", e.path()) } else { String::new() };
        ApiError::invalid_request(format!("Invalid JSON body{at}: {}", e.inner()))
    })?;
    json.end()
        .map_err(|e| ApiError::invalid_request(format!("Invalid JSON body: {e}")))?;
    Ok(parsed)
}

/// A redirect URL given by the developer: absolute http(s) with a host, bounded, printable.
/// Stripe checks it again; this refuses what is plainly wrong with a message naming the field.
/// (A full URL parser would add its Unicode tables to api-multi's Wasm for no real gain.)
pub fn parse_redirect(field: &str, url: &str) -> ApiResult<String> {
    if url.len() > MAX_URL_LEN {
        return Err(ApiError::invalid_request(format!(
            "`{field}` is longer than {MAX_URL_LEN} characters"
        )));
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let printable = url.chars().all(|c| !c.is_whitespace() && !c.is_control());
    match host {
        Some(host) if printable && !host.is_empty() && !host.starts_with(':') && !host.contains('@') => {
            Ok(url.to_owned())
        }
        _ => Err(ApiError::invalid_request(format!(
            "`{field}` must be an absolute http(s) URL"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Probe {
        #[serde(default)]
        offer_tiers: Option<Vec<String>>,
    }

    #[test]
    fn json_refusals_name_the_field_and_trailing_text_is_refused() {
        let message = |body: &str| parse_json::<Probe>(body.as_bytes()).unwrap_err().message().to_owned();
        assert!(message(r#"{"offerTiers": "pro"}"#).starts_with("Invalid JSON body at offerTiers: invalid type"));
        assert!(message(r#"{"offerTiers": ["a", 3]}"#).starts_with("Invalid JSON body at offerTiers[1]: "));
        assert!(message(r#"{"nope": 1}"#).contains("unknown field `nope`, expected `offerTiers`"));
        assert!(message(r#"{} x"#).starts_with("Invalid JSON body: trailing characters"));
        assert!(message(r#"{not json"#).starts_with("Invalid JSON body: key must be a string"));
        assert!(message(r#"{"offerTiers": [], "#).starts_with("Invalid JSON body: EOF while parsing"));
        assert_eq!(json_body::<Probe>(b" \n").unwrap().offer_tiers, None);
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(parse_email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        assert_eq!(parse_email("a+tag@sub.example.io").unwrap(), "a+tag@sub.example.io");
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@example",
            "ada@@example.com",
            "a da@example.com",
            "ada@.example.com",
            "ada@example..com",
            "ada@example.com.",
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(parse_email(&long).unwrap_err().message().contains("longer than"));
    }

    #[test]
    fn redirect_urls_must_be_absolute_http() {
        assert!(parse_redirect("successUrl", "https://app.example/ok?s={CHECKOUT_SESSION_ID}").is_ok());
        assert!(parse_redirect("successUrl", "http://localhost:3000/done").is_ok());
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "ftp://x.example/",
            "https://",
            "https:///path",
            "not a url",
            "https://a b.example/",
            "https://user@evil.example/",
        ] {
            let err = parse_redirect("cancelUrl", bad).unwrap_err();
            assert!(err.message().contains("cancelUrl"), "{bad}: {}", err.message());
        }
        let long = format!("https://x.example/{}", "a".repeat(MAX_URL_LEN));
        assert!(
            parse_redirect("successUrl", &long)
                .unwrap_err()
                .message()
                .contains("longer")
        );
    }
}
