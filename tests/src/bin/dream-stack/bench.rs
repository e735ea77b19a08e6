//! `make bench` (written in the next step).

pub async fn run() -> Result<std::process::ExitCode, String> {
    Err("bench is not implemented yet".to_owned())
}
