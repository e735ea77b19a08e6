//! The `dream-emulator` binary as the launcher runs it: the startup line, the health check,
//! a clean stop on SIGTERM that saves the state file, and keys repeated by `--seed` across
//! processes (no in-process key cache to hide a difference).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn spawn(seed: &str, state: Option<&Path>) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dream-emulator"));
    cmd.args(["--port", "0", "--seed", seed, "--quiet"])
        .stdout(Stdio::piped());
    if let Some(path) = state {
        cmd.arg("--state-file").arg(path);
    }
    let mut child = cmd.spawn().expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let base = line
        .trim()
        .strip_prefix("dream-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected startup line: {line:?}"))
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    (child, base)
}

fn fetch(url: &str) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]).read().decode())",
        ])
        .arg(url)
        .output()
        .expect("python3 fetches the URL");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn stop(mut child: Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("exits");
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
}

#[test]
fn prints_its_address_serves_health_and_saves_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("dream-emulator-bin-{}", std::process::id()));
    let state = dir.join("state.json");
    let _ = std::fs::remove_dir_all(&dir);
    let (child, base) = spawn("7", Some(&state));
    assert_eq!(fetch(&format!("{base}/_emulator/health")), r#"{"status":"ok"}"#);
    stop(child);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).expect("state saved")).expect("JSON");
    assert_eq!(saved["ids"]["seed"], 7);
    let _ = std::fs::remove_dir_all(&dir);

    let bad = Command::new(env!("CARGO_BIN_EXE_dream-emulator"))
        .args(["--port", "nope"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("usage: dream-emulator"));
}

#[test]
fn the_same_seed_gives_the_same_keys_in_another_process() {
    let jwks = |seed: &str| {
        let (child, base) = spawn(seed, None);
        let keys = fetch(&format!("{base}/clerk/dream-api/.well-known/jwks.json"));
        stop(child);
        keys
    };
    let first = jwks("11");
    assert!(first.contains("\"kty\":\"RSA\""), "{first}");
    assert_eq!(first, jwks("11"));
    assert_ne!(first, jwks("12"));
}
