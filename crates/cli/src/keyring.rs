//! `latchkey keyring check [--unlock] [--wait S] [--json]`: is the keyring
//! usable, and if not, is it locked (exit 3: unlock it), absent (exit 3: start
//! one) or broken (exit 1)? The verdict and its message come from the core's
//! check; this file only prints them and picks the exit code.

use clap::Args;
use latchkey_core::env::Environment;
use latchkey_core::vault::{KeyringState, Vault};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Args)]
pub struct CheckArgs {
    /// Ask the keyring to unlock first (your desktop shows its unlock prompt)
    #[arg(long)]
    unlock: bool,
    /// How long to keep trying while the keyring service is still starting
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    wait: f64,
    /// Print the verdict as one JSON document
    #[arg(long)]
    json: bool,
}

/// How long `--unlock` waits for the user to answer the prompt.
const UNLOCK_PROMPT_WAIT: Duration = Duration::from_secs(120);

pub async fn check(args: CheckArgs) -> ExitCode {
    let env = Environment::from_env();
    let vault = Vault::keyring(&env.keyring_service);
    let status = if args.unlock {
        vault.unlock(UNLOCK_PROMPT_WAIT).await
    } else {
        let wait = Duration::try_from_secs_f64(args.wait.max(0.0)).unwrap_or(Duration::ZERO);
        vault.check_patiently(wait).await
    };
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "state": status.state,
                "message": status.message,
                "service": env.keyring_service,
            })
        );
    }
    match status.problem() {
        None => {
            if !args.json {
                eprintln!(
                    "the keyring works (a probe secret under service '{}' was written, read back and deleted)",
                    env.keyring_service
                );
            }
            ExitCode::SUCCESS
        }
        Some(problem) => {
            eprintln!("latchkey: {problem}");
            ExitCode::from(match status.state {
                KeyringState::Locked | KeyringState::Absent => 3,
                _ => 1,
            })
        }
    }
}
