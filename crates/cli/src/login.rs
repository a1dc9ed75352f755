//! `latchkey login PROFILE [--password-stdin] [--otp CODE] [--remember]`.
//!
//! The password comes from stdin when asked, else from the keyring (when
//! remembered), else from a no-echo prompt on the terminal. When the server
//! wants a one-time code that was not given, the terminal is asked for it;
//! with no terminal (or `LATCHKEY_NONINTERACTIVE=1`) the command exits 3
//! saying so, so a script never hangs on a prompt.

use crate::LoginArgs;
use latchkey_core::providers::{LoginInput, LoginStep};
use latchkey_core::tokens;
use latchkey_core::{Error, ErrorCode, Latchkey};
use std::io::{BufRead, Write};

/// Wrong codes typed at the terminal before giving up.
const OTP_TRIES: usize = 3;

/// The controlling terminal, unless the caller asked for none.
fn terminal() -> Option<std::fs::File> {
    if std::env::var_os("LATCHKEY_NONINTERACTIVE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

fn ask(tty: &mut std::fs::File, prompt: &str) -> Result<String, Error> {
    let fail = |e: std::io::Error| Error::invalid("otp", format!("cannot read the terminal: {e}"));
    tty.write_all(prompt.as_bytes()).map_err(fail)?;
    let mut line = String::new();
    std::io::BufReader::new(tty.try_clone().map_err(fail)?)
        .read_line(&mut line)
        .map_err(fail)?;
    Ok(line.trim().to_string())
}

fn where_(profile: &str, tenant: &Option<String>) -> String {
    match tenant {
        Some(t) => format!("{profile} (tenant {t})"),
        None => profile.to_string(),
    }
}

pub async fn run(core: &Latchkey, args: LoginArgs) -> Result<(), Error> {
    // The token goes to the keyring at the end: open its session meanwhile.
    core.vault().prepare();
    let password = if args.password_stdin {
        Some(crate::read_secret_stdin().map_err(|e| {
            Error::invalid(
                "password",
                e.to_string().replace("the secret", "the password"),
            )
        })?)
    } else {
        None
    };
    let mut input = LoginInput {
        password,
        remember_password: args.remember,
        otp: args.otp.clone(),
        deep_link: false,
    };
    let mut outcomes = core.login_outcomes();
    let mut step = match core.login(&args.profile, input.clone()).await {
        Err(err) if err.code() == ErrorCode::Invalid && err.field() == Some("password") => {
            // No password given or remembered: ask for it without echo.
            let Some(_tty) = terminal() else {
                return Err(Error::invalid(
                    "password",
                    format!("{err}; pipe it in with --password-stdin"),
                ));
            };
            let typed = rpassword::prompt_password(format!("Password for {}: ", args.profile))
                .map_err(|e| {
                    Error::invalid("password", format!("cannot read the password: {e}"))
                })?;
            input.password = Some(latchkey_core::vault::Secret::new(typed));
            core.login(&args.profile, input).await?
        }
        other => other?,
    };
    let mut tries = 0;
    loop {
        match step {
            LoginStep::Done {
                profile,
                tenant,
                expires_at,
            } => {
                let now = core.clock().now();
                let when = expires_at
                    .as_deref()
                    .and_then(|e| tokens::parse_expiry(e, now).ok())
                    .map(|at| {
                        format!(
                            "; the token expires {} ({})",
                            tokens::relative(now, at),
                            expires_at.as_deref().unwrap_or_default()
                        )
                    })
                    .unwrap_or_default();
                eprintln!("logged in {}{when}", where_(&profile, &tenant));
                return Ok(());
            }
            LoginStep::Browser {
                profile,
                tenant,
                url,
                redirect_uri,
            } => {
                if args.no_browser {
                    // The address alone on the first line of stdout, so a
                    // script can take it with `head -1`; the rest is for people.
                    print_address(&url);
                    eprintln!(
                        "Open that address to log {} in (it comes back to {redirect_uri}).",
                        where_(&profile, &tenant)
                    );
                } else {
                    eprintln!(
                        "Log {} in at this address (it comes back to {redirect_uri}):\n\n  {url}\n",
                        where_(&profile, &tenant)
                    );
                    open_browser(&url);
                }
                return wait_for_outcome(core, &mut outcomes, &profile).await;
            }
            LoginStep::Device {
                profile,
                tenant,
                user_code,
                verification_uri,
                ..
            } => {
                if args.no_browser {
                    print_address(&verification_uri);
                }
                eprintln!(
                    "To log {} in, open {verification_uri} and enter the code:\n\n  {user_code}\n",
                    where_(&profile, &tenant)
                );
                if !args.no_browser {
                    open_browser(&verification_uri);
                }
                return wait_for_outcome(core, &mut outcomes, &profile).await;
            }
            LoginStep::NeedsOtp {
                profile,
                tenant,
                message,
            } => {
                let Some(mut tty) = terminal() else {
                    return Err(Error::OtpRequired(format!(
                        "{} needs a one-time code ({message}); run again with --otp CODE",
                        where_(&profile, &tenant)
                    )));
                };
                let code = ask(
                    &mut tty,
                    &format!("One-time code for {}: ", where_(&profile, &tenant)),
                )?;
                step = match core.submit_otp(&profile, &code).await {
                    Err(err) if err.field() == Some("otp") && tries + 1 < OTP_TRIES => {
                        tries += 1;
                        let _ = writeln!(tty, "{err}");
                        LoginStep::NeedsOtp {
                            profile,
                            tenant,
                            message,
                        }
                    }
                    other => other?,
                };
            }
        }
    }
}

/// Prints the address to open as one line of stdout and flushes it at once:
/// the command goes on waiting, and a script reading a pipe must see it now.
fn print_address(url: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{url}");
    let _ = out.flush();
}

/// Opens `url` with `LATCHKEY_BROWSER` if set, else the desktop's opener;
/// failing that, the address printed above is enough.
fn open_browser(url: &str) {
    let command = std::env::var_os("LATCHKEY_BROWSER")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "xdg-open".into());
    if let Err(e) = std::process::Command::new(&command)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!(
            "(could not start {}: {e}; open the address yourself)",
            command.to_string_lossy()
        );
    }
}

/// Waits for the browser or device login of `profile` to end.
async fn wait_for_outcome(
    core: &Latchkey,
    outcomes: &mut tokio::sync::broadcast::Receiver<latchkey_core::providers::LoginOutcome>,
    profile: &str,
) -> Result<(), Error> {
    eprintln!("Waiting for the browser… (Ctrl-C to give up)");
    let wait = core.redirects().login_wait().unsigned_abs();
    let outcome = tokio::time::timeout(wait, async {
        loop {
            match outcomes.recv().await {
                Ok(o) if o.profile == profile => return Some(o),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return None,
            }
        }
    })
    .await;
    match outcome {
        Ok(Some(o)) if o.accepted => {
            eprintln!("{}", o.message);
            Ok(())
        }
        Ok(Some(o)) => Err(Error::ServerRefused {
            status: None,
            field: None,
            message: o.message,
        }),
        _ => {
            core.cancel_login(core.profile_named(profile).await?.id);
            Err(Error::LoginRequired(format!(
                "the browser did not come back for {profile} in time; run `latchkey login {profile}` again"
            )))
        }
    }
}
