//! `latchkey jwt decode|verify|mint`: argv in, one `latchkey_core::jwt` call, its
//! result out. Results go to stdout, messages to stderr. Needs no data folder and
//! no keyring. The token can come on stdin (`-` or nothing), which keeps it out
//! of the process list and the shell history.

use clap::{Args, Subcommand};
use latchkey_core::jwt::{self, Inspection, VerifyKey};
use latchkey_core::vault::Secret;
use latchkey_core::Error;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Subcommand)]
pub enum JwtCommand {
    /// Show a token's header, claims (credentials masked), times and warnings
    Decode {
        /// The token; `-` or nothing reads it from stdin
        token: Option<String>,
        /// Print one JSON document
        #[arg(long)]
        json: bool,
    },
    /// Check a token's signature (not its expiry) against a secret, a PEM public key or a JWKS
    Verify {
        /// The token; `-` or nothing reads it from stdin
        token: Option<String>,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Mint a token
    Mint {
        #[command(subcommand)]
        kind: MintKind,
    },
}

/// Exactly one key to verify with.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct KeyArgs {
    /// HMAC secret, used as its text
    #[arg(long, value_name = "S")]
    secret: Option<String>,
    /// HMAC secret, base64url-encoded (e.g. Kontinuous' AUTH_SECRET)
    #[arg(long, value_name = "S")]
    secret_base64url: Option<String>,
    /// PEM file of the public key (RSA, EC P-256/P-384, Ed25519)
    #[arg(long, value_name = "FILE")]
    pem: Option<PathBuf>,
    /// URL of a JWK Set, e.g. an OpenID provider's jwks_uri
    #[arg(long, value_name = "URL")]
    jwks_url: Option<String>,
}

#[derive(Subcommand)]
pub enum MintKind {
    /// The token Kontinuous issues at login: HS256, never expires, carries the GitHub token
    Kontinuous {
        /// Kontinuous' AUTH_SECRET (base64url)
        #[arg(long, value_name = "BASE64URL")]
        secret: String,
        /// The GitHub token the JWT carries
        #[arg(long, value_name = "T")]
        github_token: String,
        /// The user_id claim, e.g. `github|583231`
        #[arg(long, value_name = "ID")]
        user_id: Option<String>,
    },
}

pub async fn run(cmd: JwtCommand) -> Result<(), Error> {
    match cmd {
        JwtCommand::Decode { token, json } => {
            let token = read_token(token)?;
            let inspection = jwt::inspect_secret(&token, latchkey_core::clock::system().now());
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&inspection).map_err(|e| Error::Internal(
                        format!("cannot print the inspection: {e}")
                    ))?
                );
            } else {
                print_inspection(&inspection);
            }
            match inspection {
                Inspection::Jwt { .. } => Ok(()),
                Inspection::Opaque { meaning, .. } => Err(Error::invalid(
                    "token",
                    match meaning {
                        Some(m) if m.starts_with("not a JWT") => m,
                        Some(m) => format!("not a JWT ({m})"),
                        None => "not a JWT".to_string(),
                    },
                )),
            }
        }
        JwtCommand::Verify { token, key } => {
            let token = read_token(token)?;
            let key = verify_key(key).await?;
            let verified = jwt::verify_secret(&token, &key)?;
            println!("{verified}");
            if !verified.compliant {
                eprintln!(
                    "note: the token is not RFC 7515 base64url; strict libraries reject it \
                     (details: `latchkey jwt decode`)"
                );
            }
            Ok(())
        }
        JwtCommand::Mint {
            kind:
                MintKind::Kontinuous {
                    secret,
                    github_token,
                    user_id,
                },
        } => {
            println!(
                "{}",
                jwt::mint_kontinuous(&secret, &github_token, user_id.as_deref())?
            );
            Ok(())
        }
    }
}

/// The token from the argument, or from stdin when it is absent or `-`.
fn read_token(arg: Option<String>) -> Result<Secret, Error> {
    if let Some(token) = arg.filter(|t| t != "-") {
        return Ok(Secret::new(token));
    }
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("paste the token, then press Ctrl-D");
    }
    let mut raw = String::new();
    stdin
        .read_to_string(&mut raw)
        .map_err(|e| Error::invalid("token", format!("cannot read the token from stdin: {e}")))?;
    let token = Secret::new(raw.trim());
    if token.is_empty() {
        return Err(Error::invalid(
            "token",
            "no token given: pass it as an argument or pipe it on stdin",
        ));
    }
    Ok(token)
}

async fn verify_key(key: KeyArgs) -> Result<VerifyKey, Error> {
    if let Some(secret) = key.secret {
        return Ok(VerifyKey::secret_text(&secret));
    }
    if let Some(secret) = key.secret_base64url {
        return Ok(VerifyKey::secret_base64url(&secret)?);
    }
    if let Some(path) = key.pem {
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| Error::invalid("pem", format!("cannot read {}: {e}", path.display())))?;
        return Ok(VerifyKey::Pem(pem));
    }
    let Some(url) = key.jwks_url else {
        return Err(Error::invalid(
            "key",
            "give one of --secret, --secret-base64url, --pem or --jwks-url",
        ));
    };
    // Redirects are not followed: a JWKS URL is given exactly (see STYLE.md).
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the HTTP client: {e}")))?;
    Ok(VerifyKey::Jwks(jwt::fetch_jwks(&client, &url).await?))
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn print_inspection(inspection: &Inspection) {
    match inspection {
        Inspection::Jwt {
            header,
            claims,
            masked,
            times,
            warnings,
            ..
        } => {
            println!("header\n{}", pretty(header));
            println!("claims\n{}", pretty(claims));
            if !masked.is_empty() {
                println!("masked (they carry a credential): {}", masked.join(", "));
            }
            if !times.is_empty() {
                println!("times");
                let width = times.iter().map(|t| t.claim.len()).max().unwrap_or(0);
                for t in times {
                    println!("  {:<width$}  {}  {}", t.claim, t.iso, t.relative);
                }
            }
            if !warnings.is_empty() {
                println!("warnings");
                for warning in warnings {
                    println!("  - {warning}");
                }
            }
        }
        Inspection::Opaque {
            length,
            prefix,
            meaning,
        } => match meaning {
            Some(why) if why.starts_with("not a JWT") => {
                println!("{why} ({length} characters)");
            }
            _ => {
                println!("not a JWT: an opaque token of {length} characters");
                if let Some(prefix) = prefix {
                    println!("prefix  {prefix}");
                }
                if let Some(meaning) = meaning {
                    println!("likely  {meaning}");
                }
            }
        },
    }
}
