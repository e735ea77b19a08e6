//! Logging that works in both worlds: workerd's console in Wasm, stderr in native tests.
//!
//! Every line passes through `redact`: an error can quote what a caller sent or what Stripe or
//! Clerk answered about a person (Stripe's "No such customer: ... ada@example.com", a D1
//! constraint naming a value), and worker logs are kept and read by operators, so personal
//! data never reaches them.

pub fn error(message: &str) {
    let message = redact(message);
    #[cfg(target_arch = "wasm32")]
    worker::console_error!("{message}");
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{message}");
}

/// `message` with every email-shaped word (something@domain.tld) replaced by `<email>`.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if looks_like_email(word) {
            out.push_str("<email>");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in message.chars() {
        if c.is_whitespace()
            || matches!(
                c,
                '"' | '\'' | '`' | '<' | '>' | '(' | ')' | '[' | ']' | '{' | '}' | ',' | ';' | '='
            )
        {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

fn looks_like_email(word: &str) -> bool {
    let word = word.trim_end_matches(['.', ':', '!', '?']);
    match word.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_never_reach_a_log_line() {
        assert_eq!(
            redact("Clerk /users: That email ada.l+x@Example.co.uk is taken."),
            "Clerk /users: That email <email> is taken."
        );
        assert_eq!(
            redact("customer_email=\"bob@corp.example\", id cus_1"),
            "customer_email=\"<email>\", id cus_1"
        );
        assert_eq!(redact("{\"email\":\"c@d.io\"}"), "{\"email\":\"<email>\"}");
        // Not emails: kept as they are.
        for kept in ["user_2x9 at 12:00", "a@b", "@handle", "x@.com", "plain text"] {
            assert_eq!(redact(kept), kept);
        }
    }
}
