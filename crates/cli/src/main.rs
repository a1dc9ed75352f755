//! `latchkey`: the core without a window. Each subcommand turns argv into one
//! core call and its result into stdout (results) and stderr (messages); exit
//! codes say what the caller can do (see `exit_code`). Users' scripts depend on
//! these names: add, don't rename.

use clap::{Args, Parser, Subcommand};
use latchkey_core::env::Environment;
use latchkey_core::model::{Profile, ProfileInput, ProfileSettings, ServerInput};
use latchkey_core::service::auth_headers;
use latchkey_core::vault::{Secret, SecretInput};
use latchkey_core::{clock, handoff};
use latchkey_core::{Error, ErrorCode, Latchkey};
use std::io::Read;
use std::process::ExitCode;

mod git;
mod jwt;
mod keyring;
mod kubectl;
mod login;
mod output;
mod sign;
mod transfer;

#[derive(Parser)]
#[command(
    name = "latchkey",
    version,
    about = "Latchkey: log in, keep tokens in the keyring, hand them to scripts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Servers Latchkey logs into
    #[command(subcommand)]
    Server(ServerCommand),
    /// Tenants of multi-tenant servers (Avassa)
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Profiles: server × tenant × identity
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Print a valid token of a profile (for scripts)
    Token {
        profile: String,
        /// raw: the token; header: `Authorization: Bearer …`; json: token and metadata
        #[arg(long, value_enum, default_value_t = TokenFormat::Raw)]
        format: TokenFormat,
    },
    /// Log a profile in and store its token in the keyring
    Login(LoginArgs),
    /// Renew a profile's token now (refresh, re-issue or silent re-login);
    /// prints the new expiry. Exit 3: log in yourself; 4: refused; 5: unreachable.
    Renew { profile: String },
    /// Forget a profile's tokens (revoking them where the server can)
    Logout { profile: String },
    /// Decode, verify or mint JSON Web Tokens
    #[command(subcommand)]
    Jwt(jwt::JwtCommand),
    /// Sign a DCI request with a dci-hmac profile's key, or --check whose key it is
    Sign(sign::SignArgs),
    /// Write servers, tenants and profiles (never a secret) as a TOML file to
    /// keep in git and share with a team
    Export {
        /// Write to this file instead of stdout
        #[arg(long)]
        file: Option<std::path::PathBuf>,
    },
    /// Add and change servers, tenants and profiles from an exported file
    /// (all or nothing; importing twice changes nothing)
    Import {
        /// The file (`-` for stdin)
        file: std::path::PathBuf,
        /// Say what would change, change nothing
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
    /// Check that the keyring works (exit 3 when it is locked or absent)
    #[command(subcommand)]
    Keyring(KeyringCommand),
    /// kubectl's exec credential plugin: an ExecCredential with a valid token
    #[command(name = "kubectl-credential")]
    KubectlCredential(kubectl::KubectlArgs),
    /// git's credential helper: `credential.helper = !latchkey git-credential`
    #[command(name = "git-credential")]
    GitCredential(git::GitArgs),
}

#[derive(Subcommand)]
enum KeyringCommand {
    /// Write, read back and delete a probe secret; say what is wrong if that fails
    Check(keyring::CheckArgs),
}

#[derive(clap::Args)]
struct LoginArgs {
    profile: String,
    /// Read the password from stdin (one line), e.g. `pass show edge | latchkey login edge --password-stdin`
    #[arg(long)]
    password_stdin: bool,
    /// The one-time code, when the server asks for one
    #[arg(long, value_name = "CODE")]
    otp: Option<String>,
    /// Keep the password in the keyring so Latchkey can log in again by itself
    /// when the token can no longer be refreshed
    #[arg(long)]
    remember: bool,
    /// Print the login address instead of opening the browser
    #[arg(long)]
    no_browser: bool,
}

impl LoginArgs {
    /// A login as a person at a terminal would start it: the browser opens,
    /// prompts go to the terminal.
    fn interactive(profile: &str) -> Self {
        Self {
            profile: profile.to_string(),
            password_stdin: false,
            otp: None,
            remember: false,
            no_browser: false,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TokenFormat {
    Raw,
    Header,
    Json,
}

#[derive(Subcommand)]
enum ServerCommand {
    /// Add a server
    Add {
        name: String,
        /// kontinuous, github, auth0, oidc, quay, avassa or dci
        #[arg(long)]
        kind: String,
        /// Base URL, e.g. https://api.example.com
        #[arg(long)]
        url: String,
        /// PEM file of extra CA certificates to trust for this server
        #[arg(long)]
        ca_file: Option<std::path::PathBuf>,
    },
    /// List servers
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a server
    Remove {
        name: String,
        /// Also remove its profiles and their secrets
        #[arg(long)]
        cascade: bool,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Add a tenant to a server
    Add { server: String, name: String },
    /// List tenants
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a tenant
    Remove {
        server: String,
        name: String,
        /// Also remove its profiles and their secrets
        #[arg(long)]
        cascade: bool,
    },
}

#[derive(Subcommand)]
enum ProfileCommand {
    /// Add a profile
    Add(Box<ProfileAdd>),
    /// List profiles with their status
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a profile and forget its secrets
    Remove { name: String },
    /// Give a profile its secret (password, client secret, key, robot token, or
    /// the token itself), read from stdin, e.g. after `latchkey import`
    Secret { name: String },
}

#[derive(Args)]
struct ProfileAdd {
    name: String,
    #[arg(long)]
    server: String,
    /// The login kind, e.g. avassa-password, oidc, dci-hmac, manual-token
    #[arg(long)]
    login: String,
    #[arg(long)]
    tenant: Option<String>,
    #[arg(long)]
    username: Option<String>,
    #[arg(long)]
    client_id: Option<String>,
    /// Read the kind's secret (client secret, DCI secret key, robot token,
    /// password to remember, or the token itself) from stdin into the keyring
    #[arg(long)]
    secret_stdin: bool,
    /// A scope; repeat for more
    #[arg(long = "scope")]
    scopes: Vec<String>,
    #[arg(long)]
    audience: Option<String>,
    #[arg(long)]
    issuer: Option<String>,
    #[arg(long)]
    role: Option<String>,
    #[arg(long)]
    service: Option<String>,
    #[arg(long)]
    sa_token_file: Option<String>,
    #[arg(long)]
    access_key: Option<String>,
    /// loopback or deep-link
    #[arg(long)]
    redirect: Option<String>,
    /// The redirect URI registered with the provider, where it must be exact (Quay)
    #[arg(long)]
    redirect_uri: Option<String>,
    /// quay-registry as $oauthtoken: the quay-direct-oauth profile whose token it presents
    #[arg(long)]
    source_profile: Option<String>,
    /// The container registry whose logins this profile's token is for, as
    /// [USER@]HOST[:PORT] (docker-credential-latchkey hands it out there)
    #[arg(long)]
    registry: Option<String>,
    /// A free-text label shown beside the name
    #[arg(long)]
    label: Option<String>,
    /// For manual-token: when the token expires, if it does not say itself
    /// (RFC 3339, or a duration from now such as 90m, 12h, 30d)
    #[arg(long)]
    token_expires: Option<String>,
}

/// 0 done; 2 usage or invalid input; 3 the user must act; 4 the server (or the
/// redirect check) refused; 5 unreachable; 1 anything else.
fn exit_code(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Invalid | ErrorCode::NotFound | ErrorCode::Conflict => 2,
        ErrorCode::NeedsConfirmation
        | ErrorCode::LoginRequired
        | ErrorCode::OtpRequired
        | ErrorCode::KeyringUnavailable => 3,
        ErrorCode::ServerRefused | ErrorCode::RedirectRefused => 4,
        ErrorCode::Unreachable => 5,
        ErrorCode::Storage | ErrorCode::Internal => 1,
    }
}

fn main() -> ExitCode {
    // Before anything holds a secret: a crash must not dump it to a file.
    if let Err(err) = latchkey_core::process::forbid_core_dumps() {
        eprintln!("latchkey: cannot turn core dumps off ({err}); continuing");
    }
    let cli = Cli::parse();
    if let Command::Keyring(KeyringCommand::Check(args)) = cli.command {
        // Its own exit codes: the verdict is not an error of a command.
        return match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(keyring::check(args)),
            Err(err) => {
                eprintln!("latchkey: cannot start: {err}");
                ExitCode::from(1)
            }
        };
    }
    // `token` runs once per request of a script: one thread starts faster
    // than a pool, and the hand-off has nothing to do in parallel.
    let token = matches!(cli.command, Command::Token { .. });
    let mut builder = if token {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("latchkey: cannot start: {err}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(cli));
    if token {
        // Everything `token` started has ended (its database closed, its
        // secret dropped): do not wait for the idle blocking threads that
        // opened the keyring session to wake up and be joined.
        runtime.shutdown_background();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match err.field() {
                Some(field) => eprintln!("latchkey: {field}: {err}"),
                None => eprintln!("latchkey: {err}"),
            }
            ExitCode::from(exit_code(err.code()))
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    // `jwt` needs no data folder or keyring.
    let command = match cli.command {
        Command::Jwt(cmd) => return jwt::run(cmd).await,
        other => other,
    };
    let env = Environment::from_env();
    if let Command::Token { profile, format } = &command {
        if quick_token(&env, profile, *format).await? {
            return Ok(());
        }
    }
    let core = Latchkey::open_for_command(&env).await?;
    match command {
        Command::Server(cmd) => server(&core, cmd).await,
        Command::Tenant(cmd) => tenant(&core, cmd).await,
        Command::Profile(cmd) => profile(&core, cmd).await,
        Command::Token { profile, format } => token(&core, &profile, format).await,
        Command::Login(args) => login::run(&core, args).await,
        Command::Renew { profile } => renew(&core, &profile).await,
        Command::Logout { profile } => logout(&core, &profile).await,
        Command::Sign(args) => sign::run(&core, args).await,
        Command::Export { file } => transfer::export(&core, file).await,
        Command::Import {
            file,
            dry_run,
            json,
        } => transfer::import(&core, &file, dry_run, json).await,
        Command::KubectlCredential(args) => kubectl::run(&core, args).await,
        Command::GitCredential(args) => git::run(&core, args).await,
        Command::Jwt(_) | Command::Keyring(_) => unreachable!("handled above"),
    }
}

/// Prints a stored token that needs nothing done before use, without
/// opening the whole core (see `latchkey_core::handoff`). `false`: nothing
/// printed; the normal path decides (renews, or says what to do).
async fn quick_token(env: &Environment, name: &str, format: TokenFormat) -> Result<bool, Error> {
    if matches!(format, TokenFormat::Json) {
        return Ok(false);
    }
    let Some((profile, secret)) = handoff::valid_token(env, &clock::system(), name).await else {
        return Ok(false);
    };
    print_token(&profile, &secret, format)?;
    Ok(true)
}

fn print_token(profile: &Profile, secret: &Secret, format: TokenFormat) -> Result<(), Error> {
    match format {
        TokenFormat::Raw => println!("{}", secret.expose()),
        TokenFormat::Header => {
            for (k, v) in auth_headers(profile, secret)? {
                println!("{k}: {v}");
            }
        }
        TokenFormat::Json => unreachable!("json is printed with the profile's view"),
    }
    Ok(())
}

async fn token(core: &Latchkey, name: &str, format: TokenFormat) -> Result<(), Error> {
    // Renewed first when due, as a script expects a token that works.
    let (profile, secret) = core.token(name).await?;
    match format {
        TokenFormat::Raw | TokenFormat::Header => print_token(&profile, &secret, format)?,
        TokenFormat::Json => {
            let view = core.profile_view(profile.id).await?;
            println!(
                "{}",
                serde_json::json!({
                    "profile": view.name,
                    "server": view.server,
                    "tenant": view.tenant,
                    "token": secret.expose(),
                    "status": view.status,
                    "expires_at": view.expires_at,
                    "renew_due_at": view.renew_due_at,
                })
            );
        }
    }
    Ok(())
}

async fn renew(core: &Latchkey, name: &str) -> Result<(), Error> {
    match core.renew_now(name).await? {
        Some(expires_at) => {
            let now = core.clock().now();
            if let Ok(at) = latchkey_core::tokens::parse_expiry(&expires_at, now) {
                eprintln!(
                    "renewed {name}; the token expires {}",
                    latchkey_core::tokens::relative(now, at)
                );
            }
            println!("{expires_at}");
        }
        None => eprintln!("renewed {name}; the token does not expire"),
    }
    Ok(())
}

async fn logout(core: &Latchkey, name: &str) -> Result<(), Error> {
    let profile = core.profile_named(name).await?;
    let report = core.logout(profile.id).await?;
    eprintln!("{}", report.message);
    if let Some(url) = report.end_session_url {
        eprintln!("To end your session at the provider too, open:\n\n  {url}\n");
    }
    Ok(())
}

async fn server(core: &Latchkey, cmd: ServerCommand) -> Result<(), Error> {
    match cmd {
        ServerCommand::Add {
            name,
            kind,
            url,
            ca_file,
        } => {
            let ca_pem = match ca_file {
                Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| {
                    Error::invalid("ca_file", format!("cannot read {}: {e}", path.display()))
                })?),
                None => None,
            };
            let server = core
                .add_server(&ServerInput {
                    name,
                    kind,
                    url,
                    ca_pem,
                })
                .await?;
            eprintln!(
                "added server {} ({}, {})",
                server.name, server.kind, server.url
            );
        }
        ServerCommand::List { json } => output::servers(&core.servers().await?, json),
        ServerCommand::Remove { name, cascade } => {
            core.remove_server(&name, cascade).await?;
            eprintln!("removed server {name}");
        }
    }
    Ok(())
}

async fn tenant(core: &Latchkey, cmd: TenantCommand) -> Result<(), Error> {
    match cmd {
        TenantCommand::Add { server, name } => {
            core.add_tenant(&server, &name).await?;
            eprintln!("added tenant {name} to {server}");
        }
        TenantCommand::List { json } => output::tenants(&core.servers().await?, json),
        TenantCommand::Remove {
            server,
            name,
            cascade,
        } => {
            core.remove_tenant(&server, &name, cascade).await?;
            eprintln!("removed tenant {name} of {server}");
        }
    }
    Ok(())
}

async fn profile(core: &Latchkey, cmd: ProfileCommand) -> Result<(), Error> {
    match cmd {
        ProfileCommand::Add(args) => {
            let secret = if args.secret_stdin {
                Some(SecretInput(read_secret_stdin()?))
            } else {
                None
            };
            let redirect = args.redirect.as_deref().map(str::parse).transpose()?;
            let input = ProfileInput {
                name: args.name,
                server: args.server,
                tenant: args.tenant,
                login: args.login,
                settings: ProfileSettings {
                    username: args.username,
                    client_id: args.client_id,
                    scopes: args.scopes,
                    audience: args.audience,
                    issuer: args.issuer,
                    role: args.role,
                    service: args.service,
                    sa_token_file: args.sa_token_file,
                    access_key: args.access_key,
                    redirect,
                    redirect_uri: args.redirect_uri,
                    source_profile: args.source_profile,
                    registry: args.registry,
                },
                label: args.label,
                secret,
                token_expires: args.token_expires,
            };
            let profile = core.add_profile(&input).await?;
            eprintln!("added profile {} ({})", profile.name, profile.login);
        }
        ProfileCommand::List { json: true } => {
            output::profiles_json(core.profile_list().await?.lines())
        }
        ProfileCommand::List { json: false } => {
            output::profiles(core.profile_list().await?.lines())
        }
        ProfileCommand::Remove { name } => {
            core.remove_profile(&name).await?;
            eprintln!("removed profile {name} and its secrets");
        }
        ProfileCommand::Secret { name } => {
            let profile = core.set_profile_secret(&name, read_secret_stdin()?).await?;
            eprintln!("stored the secret of {} in the keyring", profile.name);
        }
    }
    Ok(())
}

/// The whole of stdin, less one trailing newline (what `echo` adds).
pub(crate) fn read_secret_stdin() -> Result<Secret, Error> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .map_err(|e| Error::invalid("secret", format!("cannot read the secret from stdin: {e}")))?;
    let value = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .unwrap_or(&raw);
    if value.is_empty() {
        return Err(Error::invalid(
            "secret",
            "stdin was empty; pipe the secret in, e.g. `pass show x | latchkey ...`",
        ));
    }
    Ok(Secret::new(value))
}
