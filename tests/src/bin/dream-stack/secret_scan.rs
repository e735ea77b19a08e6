//! After every suite has run, the platform's own storage (local D1, KV, R2, the cache and trace
//! stores under `state/v3`) and the workers' logs must not hold one plaintext secret: no
//! project secret key, no Stripe or Clerk key, no webhook or OAuth-state secret, no password a
//! test sent; and the workers' logs no email address (the platform's storage holds customers'
//! emails by design). (The emulator's own state and log are Stripe's and Clerk's side, not ours.)

use std::path::{Path, PathBuf};

use e2e::stack::{StackSecrets, local_keys};

/// Passwords the suites send (customers, the demo developer).
const TEST_PASSWORDS: [&str; 4] = [
    "correct-horse-battery",
    "a-knows-this-one",
    "victims-own-secret",
    crate::DEMO_PASSWORD,
];

const WORKER_LOGS: [&str; 3] = ["api-multi.log", "oauth-api.log", "front-auth-api.log"];

/// How many files were read, and `file: what` for every secret found.
pub fn scan(base: &Path, secrets: &StackSecrets) -> (usize, Vec<String>) {
    let mut literals: Vec<(&str, &str)> = vec![
        ("the platform's Stripe test key", local_keys::STRIPE_TEST_KEY),
        ("the platform's Stripe live key", local_keys::STRIPE_LIVE_KEY),
        ("the developers' Clerk key", local_keys::CLERK_SECRET_KEY),
        ("the end users' Clerk key", local_keys::CLERK_END_USER_SECRET_KEY),
        ("the operators' token", local_keys::OPERATOR_TOKEN),
        ("the platform webhook secret", &secrets.platform_webhook),
        ("the Connect webhook secret", &secrets.connect_webhook),
        ("the OAuth state secret", &secrets.oauth_state),
    ];
    literals.extend(TEST_PASSWORDS.iter().map(|p| ("a test password", *p)));
    let mut files = Vec::new();
    collect(&base.join("state/v3"), &mut files);
    files.extend(WORKER_LOGS.iter().map(|name| base.join("logs").join(name)));
    let mut found = Vec::new();
    let mut read = 0;
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else { continue };
        read += 1;
        for (what, secret) in &literals {
            if contains(&bytes, secret.as_bytes()) {
                found.push(format!("{}: {what}", file.display()));
            }
        }
        if let Some(key) = project_secret_key(&bytes) {
            found.push(format!("{}: a project secret key ({}…)", file.display(), &key[..12]));
        }
        let is_worker_log = file
            .file_name()
            .is_some_and(|n| WORKER_LOGS.iter().any(|log| n == *log));
        if is_worker_log && let Some(email) = email_address(&bytes) {
            found.push(format!("{}: an email address ({email})", file.display()));
        }
    }
    (read, found)
}

/// The first `local@domain.tld` in `bytes` (a TLD of letters, so `wrangler@4.16.0` is none).
fn email_address(bytes: &[u8]) -> Option<String> {
    let local_char = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
    let domain_char = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'@') {
        let start = bytes[..at].iter().rposition(|b| !local_char(*b)).map_or(0, |p| p + 1);
        let end = bytes[at + 1..]
            .iter()
            .position(|b| !domain_char(*b))
            .map_or(bytes.len(), |p| at + 1 + p);
        let domain = String::from_utf8_lossy(&bytes[at + 1..end]);
        let domain = domain.trim_end_matches('.');
        let tld = domain.rsplit('.').next().unwrap_or("");
        if start < at && domain.contains('.') && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Some(format!("…@{domain}"));
        }
    }
    None
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, into);
        } else {
            into.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `sk_test_` or `sk_live_` and 64 hex digits: the shape of every project secret key.
fn project_secret_key(bytes: &[u8]) -> Option<String> {
    const HEX_LEN: usize = 64;
    for prefix in [b"sk_test_".as_slice(), b"sk_live_".as_slice()] {
        let mut from = 0;
        while let Some(at) = bytes[from..].windows(prefix.len()).position(|w| w == prefix) {
            let start = from + at + prefix.len();
            let body = bytes.get(start..start + HEX_LEN);
            if body.is_some_and(|b| b.iter().all(u8::is_ascii_hexdigit)) {
                return Some(String::from_utf8_lossy(&bytes[from + at..start + HEX_LEN]).into_owned());
            }
            from = start;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_planted_key_and_password_and_nothing_in_a_clean_tree() {
        let base = std::env::temp_dir().join(format!("secret-scan-{}", std::process::id()));
        let d1 = base.join("state/v3/d1");
        std::fs::create_dir_all(&d1).unwrap();
        std::fs::create_dir_all(base.join("logs")).unwrap();
        let secrets = StackSecrets {
            platform_webhook: "whsec_platform_1".into(),
            connect_webhook: "whsec_connect_1".into(),
            oauth_state: "state_secret_1".into(),
        };
        std::fs::write(d1.join("db.sqlite"), b"hash 3f2a... sk_test_short").unwrap();
        std::fs::write(base.join("logs/api-multi.log"), b"request req_1 ok").unwrap();
        assert_eq!(scan(&base, &secrets), (2, vec![]));

        let key = format!("sk_live_{}", "a1".repeat(32));
        std::fs::write(d1.join("db.sqlite-wal"), format!("\0\0{key}\0")).unwrap();
        std::fs::write(
            base.join("logs/oauth-api.log"),
            b"body {\"password\":\"correct-horse-battery\"}",
        )
        .unwrap();
        std::fs::write(base.join("logs/emulator.log"), b"whsec_connect_1 ada@example.com").unwrap();
        std::fs::write(
            base.join("logs/front-auth-api.log"),
            b"node_modules/@cloudflare/x wrangler@4.164.0 <email> failed for bob@corp.example: x",
        )
        .unwrap();
        let (_, found) = scan(&base, &secrets);
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found
                .iter()
                .any(|f| f.contains("front-auth-api.log: an email address (…@corp.example)")),
            "{found:?}"
        );
        assert!(found[0].contains("project secret key") || found[1].contains("project secret key"));
        assert!(found.iter().any(|f| f.contains("oauth-api.log: a test password")));
    }
}
