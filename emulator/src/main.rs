//! The `dream-emulator` binary: parses the command line, serves until Ctrl-C or SIGTERM, and
//! saves the state on the way out.

use std::io::Write;
use std::process::ExitCode;

use emulator::cli::{self, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("dream-emulator: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let running = match emulator::start(config).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("dream-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The launcher waits for this exact line (and then polls /_emulator/health).
    println!("dream-emulator listening on {}", running.base_url);
    let _ = std::io::stdout().flush();

    wait_for_signal().await;
    match running.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dream-emulator: shutdown: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
