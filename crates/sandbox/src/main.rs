//! `latchkey-sandbox [--port N] [--seed]`: serves every protocol on loopback and
//! prints its base URL as the first line of stdout.

use clap::Parser;
use latchkey_core::env::Environment;
use latchkey_core::Latchkey;
use std::io::Write;

#[derive(Parser)]
#[command(
    name = "latchkey-sandbox",
    version,
    about = "Every protocol Latchkey speaks, on loopback, for tests and offline trials"
)]
struct Args {
    /// Port on 127.0.0.1; 0 picks a free one
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Also create matching servers and profiles in the Latchkey data folder
    /// (LATCHKEY_HOME, LATCHKEY_KEYRING_SERVICE)
    #[arg(long)]
    seed: bool,
    /// Print the current one-time code of the sandbox's Avassa user bob and exit
    #[arg(long)]
    otp: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.otp {
        println!(
            "{}",
            latchkey_sandbox::avassa::totp(
                latchkey_sandbox::avassa::BOB_TOTP_SEED,
                latchkey_core::clock::system().now()
            )
        );
        return std::process::ExitCode::SUCCESS;
    }
    let sandbox = match latchkey_sandbox::Sandbox::start(args.port).await {
        Ok(s) => s,
        Err(err) => {
            eprintln!(
                "latchkey-sandbox: cannot listen on 127.0.0.1:{}: {err}",
                args.port
            );
            return std::process::ExitCode::from(1);
        }
    };
    println!("{}", sandbox.base_url());
    let _ = std::io::stdout().flush();
    if args.seed {
        let env = Environment::from_env();
        let result = async {
            let core = Latchkey::open(&env).await?;
            latchkey_sandbox::seed::seed(&core, &sandbox).await
        }
        .await;
        match result {
            Ok(seeded) => {
                eprintln!("seeded {} in {}:", seeded.len(), env.data_dir.display());
                for s in seeded {
                    eprintln!("  {}", s.what);
                }
            }
            Err(err) => {
                eprintln!("latchkey-sandbox: seeding failed: {err}");
                return std::process::ExitCode::from(1);
            }
        }
    }
    eprintln!(
        "serving {} — Ctrl-C to stop",
        latchkey_sandbox::PROTOCOLS.join(", ")
    );
    let _ = tokio::signal::ctrl_c().await;
    sandbox.stop().await;
    std::process::ExitCode::SUCCESS
}
