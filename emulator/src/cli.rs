//! Command-line parsing for `dream-emulator` (no argument-parsing crate: the grammar is small).

use std::path::PathBuf;

use crate::{CliWebhook, Config};

pub const USAGE: &str = "\
usage: dream-emulator --port <u16> [--state-file <path>] [--seed <u64>]
         [--webhook url=<url>,secret=<whsec_...>[,connect=true]]...
         [--retry-base-ms <ms>] [--max-delivery-attempts <n>] [--delivery-timeout-ms <ms>]
         [--quiet]

Serves Stripe (/v1, /oauth, hosted pages) and Clerk (/clerk/dream-api, /clerk/end-user-api)
on http://127.0.0.1:<port>; test controls under /_emulator. See emulator/README.md.";

/// What the command line asks for: run with a configuration, or print the usage.
#[derive(Debug, PartialEq)]
pub enum Command {
    Run(Config),
    Help,
}

pub fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut config = Config {
        log_requests: true,
        ..Config::default()
    };
    let mut port = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--port" => port = Some(number::<u16>("--port", &value("--port")?)?),
            "--state-file" => config.state_file = Some(PathBuf::from(value("--state-file")?)),
            "--seed" => config.seed = Some(number("--seed", &value("--seed")?)?),
            "--webhook" => config.webhooks.push(webhook(&value("--webhook")?)?),
            "--retry-base-ms" => config.retry_base_ms = number("--retry-base-ms", &value("--retry-base-ms")?)?,
            "--max-delivery-attempts" => {
                config.max_delivery_attempts = number("--max-delivery-attempts", &value("--max-delivery-attempts")?)?;
                if config.max_delivery_attempts == 0 {
                    return Err("--max-delivery-attempts must be at least 1".into());
                }
            }
            "--delivery-timeout-ms" => {
                config.delivery_timeout_ms = number("--delivery-timeout-ms", &value("--delivery-timeout-ms")?)?
            }
            "--quiet" => config.log_requests = false,
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    config.port = port.ok_or("--port is required")?;
    Ok(Command::Run(config))
}

fn number<T: std::str::FromStr>(name: &str, text: &str) -> Result<T, String> {
    text.parse().map_err(|_| format!("{name}: not a valid number: {text}"))
}

/// `url=<url>,secret=<whsec_...>[,connect=true]`
pub fn webhook(spec: &str) -> Result<CliWebhook, String> {
    let (mut url, mut secret, mut connect) = (None, None, false);
    for part in spec.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("--webhook: expected key=value, got {part:?}"))?;
        match key {
            "url" => url = Some(value.to_string()),
            "secret" => secret = Some(value.to_string()),
            "connect" => {
                connect = match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(format!("--webhook: connect must be true or false, got {value:?}")),
                }
            }
            _ => return Err(format!("--webhook: unknown key {key:?} (url, secret, connect)")),
        }
    }
    let url = url.ok_or("--webhook: url= is required")?;
    let parsed = url::Url::parse(&url).map_err(|e| format!("--webhook: invalid url {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("--webhook: url must be http(s): {url}"));
    }
    let secret = secret.ok_or("--webhook: secret= is required")?;
    if !secret.starts_with("whsec_") || secret.len() <= "whsec_".len() {
        return Err("--webhook: secret must start with whsec_".into());
    }
    Ok(CliWebhook { url, secret, connect })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_every_option() {
        let cmd = parse(args(&[
            "--port",
            "8790",
            "--state-file",
            "/tmp/s.json",
            "--seed",
            "42",
            "--webhook",
            "url=http://127.0.0.1:8787/webhook/stripe,secret=whsec_abc,connect=true",
            "--webhook",
            "url=http://127.0.0.1:8789/webhook/stripe,secret=whsec_def",
            "--retry-base-ms",
            "50",
            "--max-delivery-attempts",
            "3",
        ]))
        .expect("valid command line");
        let Command::Run(config) = cmd else {
            panic!("expected a run command")
        };
        assert_eq!(config.port, 8790);
        assert_eq!(config.seed, Some(42));
        assert_eq!(config.state_file, Some(PathBuf::from("/tmp/s.json")));
        assert_eq!(config.retry_base_ms, 50);
        assert_eq!(config.max_delivery_attempts, 3);
        assert_eq!(config.webhooks.len(), 2);
        assert!(config.webhooks[0].connect);
        assert!(!config.webhooks[1].connect);
        assert_eq!(config.webhooks[1].secret, "whsec_def");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(parse(args(&[])).is_err(), "port is required");
        assert!(parse(args(&["--port", "x"])).is_err());
        assert!(parse(args(&["--port", "1", "--bogus"])).is_err());
        assert!(webhook("url=http://x,secret=nope").is_err());
        assert!(webhook("url=ftp://x,secret=whsec_a").is_err());
        assert!(webhook("secret=whsec_a").is_err());
        assert!(webhook("url=http://x,secret=whsec_a,connect=yes").is_err());
        assert_eq!(parse(args(&["--help"])), Ok(Command::Help));
    }
}
