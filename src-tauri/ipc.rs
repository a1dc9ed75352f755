//! The IPC surface: every command the UI may call, each a thin translation to a
//! `latchkey_core` call. Errors cross as `{code, message, field}` so the UI
//! switches on the code and shows the message next to the field it names.
//! The UI's TypeScript bindings are generated from these signatures
//! (`ui/src/ipc/bindings.ts`); a test fails when the committed copy is stale.

use crate::shell::Shell;
use latchkey_core::inspector::{KeyInput, TokenSource};
use latchkey_core::model::{Profile, ProfileInput, Server, ServerInput, Tenant};
use latchkey_core::providers::{LoginInput, LoginStep, LogoutReport};
use latchkey_core::service::SummaryItem;
use latchkey_core::settings::AppSettings;
use latchkey_core::vault::SecretInput;
use latchkey_core::{Catalog, CopyFormat, CredentialDetail, ErrorCode, ProfileView, ServerView};
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_specta::Event;

/// An error as the UI sees it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    /// The input field the error is about, when there is one.
    pub field: Option<String>,
}

impl From<latchkey_core::Error> for IpcError {
    fn from(err: latchkey_core::Error) -> Self {
        IpcError {
            code: err.code(),
            field: err.field().map(str::to_string),
            message: err.to_string(),
        }
    }
}

type Reply<T> = Result<T, IpcError>;

/// Where this installation keeps its data, and whether the keyring works.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub keyring_service: String,
    /// `None` when the keyring works; else what is wrong and what to do.
    pub keyring_problem: Option<String>,
}

/// What became of a `latchkey://` or loopback redirect.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct RedirectOutcome {
    pub accepted: bool,
    pub profile: Option<String>,
    pub message: String,
}

/// Servers or profiles changed outside the window's own calls (tray, a
/// redirect, another process): reload the lists.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct DataChanged;

/// Something the scheduler did: a renewal, a failure, a reminder.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct Lifecycle(pub latchkey_core::renewal::LifecycleEvent);

/// The user picked a profile in the tray: show it.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct FocusProfile {
    pub id: i64,
}

#[tauri::command]
#[specta::specta]
pub async fn app_info(shell: State<'_, Shell>) -> Reply<AppInfo> {
    Ok(shell.app_info().await)
}

#[tauri::command]
#[specta::specta]
pub fn catalog() -> Catalog {
    latchkey_core::service::catalog()
}

#[tauri::command]
#[specta::specta]
pub async fn list_servers(shell: State<'_, Shell>) -> Reply<Vec<ServerView>> {
    Ok(shell.core.servers().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn add_server(
    app: AppHandle,
    shell: State<'_, Shell>,
    input: ServerInput,
) -> Reply<Server> {
    let server = shell.core.add_server(&input).await?;
    shell.changed(&app).await;
    Ok(server)
}

#[tauri::command]
#[specta::specta]
pub async fn update_server(
    app: AppHandle,
    shell: State<'_, Shell>,
    id: i64,
    input: ServerInput,
) -> Reply<Server> {
    let server = shell.core.update_server(id, &input).await?;
    shell.changed(&app).await;
    Ok(server)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_server(
    app: AppHandle,
    shell: State<'_, Shell>,
    name: String,
    cascade: bool,
) -> Reply<()> {
    shell.core.remove_server(&name, cascade).await?;
    shell.changed(&app).await;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn add_tenant(
    app: AppHandle,
    shell: State<'_, Shell>,
    server: String,
    name: String,
) -> Reply<Tenant> {
    let tenant = shell.core.add_tenant(&server, &name).await?;
    shell.changed(&app).await;
    Ok(tenant)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_tenant(
    app: AppHandle,
    shell: State<'_, Shell>,
    server: String,
    name: String,
    cascade: bool,
) -> Reply<()> {
    shell.core.remove_tenant(&server, &name, cascade).await?;
    shell.changed(&app).await;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn list_profiles(shell: State<'_, Shell>) -> Reply<Vec<ProfileView>> {
    Ok(shell.core.profiles().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn add_profile(
    app: AppHandle,
    shell: State<'_, Shell>,
    input: ProfileInput,
) -> Reply<Profile> {
    let profile = shell.core.add_profile(&input).await?;
    shell.changed(&app).await;
    Ok(profile)
}

#[tauri::command]
#[specta::specta]
pub async fn update_profile(
    app: AppHandle,
    shell: State<'_, Shell>,
    id: i64,
    input: ProfileInput,
) -> Reply<Profile> {
    let profile = shell.core.update_profile(id, &input).await?;
    shell.changed(&app).await;
    Ok(profile)
}

#[tauri::command]
#[specta::specta]
pub async fn remove_profile(app: AppHandle, shell: State<'_, Shell>, name: String) -> Reply<()> {
    shell.core.remove_profile(&name).await?;
    shell.changed(&app).await;
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(shell: State<'_, Shell>) -> Reply<AppSettings> {
    Ok(shell.core.settings().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_settings(shell: State<'_, Shell>, settings: AppSettings) -> Reply<()> {
    shell.core.set_settings(&settings).await?;
    shell.apply_settings(&settings);
    Ok(())
}

/// Redirect outcomes since start, newest last: a redirect that launched the app
/// cold arrives before the page listens for events.
#[tauri::command]
#[specta::specta]
pub fn redirect_outcomes(shell: State<'_, Shell>) -> Vec<RedirectOutcome> {
    shell.outcomes()
}

/// What a copy did, for the confirmation and its countdown.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct CopyReceipt {
    pub profile: String,
    pub tenant: Option<String>,
    /// "token", "Authorization header", ...
    pub what: String,
    /// Seconds until the clipboard is cleared if it still holds this; 0 = never.
    pub clear_after_seconds: u32,
}

/// Puts a profile's token on the clipboard, in the chosen form. The token goes
/// from the keyring to the clipboard inside Rust; the page never sees it.
#[tauri::command]
#[specta::specta]
pub async fn copy_token(
    app: AppHandle,
    shell: State<'_, Shell>,
    profile_id: i64,
    format: CopyFormat,
) -> Reply<CopyReceipt> {
    let text = shell.core.copy_text(profile_id, format).await?;
    let clear_after_seconds = shell.core.settings().await?.clipboard_clear_seconds;
    crate::clipboard::put(&app, text, clear_after_seconds).map_err(|message| IpcError {
        code: ErrorCode::Internal,
        message,
        field: None,
    })?;
    let view = shell.core.profile_view(profile_id).await?;
    let _ = DataChanged.emit(&app);
    Ok(CopyReceipt {
        profile: view.name,
        tenant: view.tenant,
        what: format.describe().to_string(),
        clear_after_seconds,
    })
}

/// A profile's credential: its tokens' metadata and history. No secret.
#[tauri::command]
#[specta::specta]
pub async fn credential(shell: State<'_, Shell>, profile_id: i64) -> Reply<CredentialDetail> {
    Ok(shell.core.credential(profile_id).await?)
}

/// Renews a profile's token now ("Renew now"), where its login kind can.
#[tauri::command]
#[specta::specta]
pub async fn renew_now(
    app: AppHandle,
    shell: State<'_, Shell>,
    profile_id: i64,
) -> Reply<latchkey_core::renewal::LifecycleEvent> {
    let event = shell.core.renew_profile(profile_id, true).await?;
    shell.changed(&app).await;
    Ok(event)
}

/// Logs a profile in. `password` is for password logins (used once unless
/// `remember`); the answer is `done`, or `needs-otp` for the OTP dialog.
#[tauri::command]
#[specta::specta]
pub async fn login(
    app: AppHandle,
    shell: State<'_, Shell>,
    profile_id: i64,
    password: Option<SecretInput>,
    remember: bool,
) -> Reply<LoginStep> {
    let step = shell
        .core
        .login_id(
            profile_id,
            LoginInput {
                password: password.map(|p| p.0),
                remember_password: remember,
                otp: None,
                deep_link: true,
            },
        )
        .await?;
    match &step {
        LoginStep::Done { .. } => shell.changed(&app).await,
        LoginStep::Browser { url, .. } => {
            if let Err(message) = crate::redirect::open_browser(&app, url) {
                shell.core.cancel_login(profile_id);
                return Err(IpcError {
                    code: ErrorCode::Internal,
                    message,
                    field: None,
                });
            }
        }
        LoginStep::NeedsOtp { .. } | LoginStep::Device { .. } => {}
    }
    Ok(step)
}

/// The code typed in the OTP dialog. A wrong code is an error on the `otp`
/// field and the login keeps waiting for another try.
#[tauri::command]
#[specta::specta]
pub async fn submit_otp(
    app: AppHandle,
    shell: State<'_, Shell>,
    profile_id: i64,
    otp: String,
) -> Reply<LoginStep> {
    let step = shell.core.submit_otp_id(profile_id, &otp).await?;
    if matches!(step, LoginStep::Done { .. }) {
        shell.changed(&app).await;
    }
    Ok(step)
}

/// The OTP dialog's Cancel: the login ends and nothing is stored.
#[tauri::command]
#[specta::specta]
pub fn cancel_login(shell: State<'_, Shell>, profile_id: i64) {
    shell.core.cancel_login(profile_id);
}

/// What the server says about the profile's token (tenant, policies, TTLs);
/// empty for login kinds without such a call.
#[tauri::command]
#[specta::specta]
pub async fn token_info(shell: State<'_, Shell>, profile_id: i64) -> Reply<Vec<SummaryItem>> {
    Ok(shell.core.token_info(profile_id).await?)
}

/// Logs a profile out: revokes at the server where the login kind can, then
/// forgets the tokens (the configured secrets stay). When the provider has
/// an end-session page, it is opened in the browser too.
#[tauri::command]
#[specta::specta]
pub async fn logout(
    app: AppHandle,
    shell: State<'_, Shell>,
    profile_id: i64,
) -> Reply<LogoutReport> {
    let mut report = shell.core.logout(profile_id).await?;
    if let Some(url) = &report.end_session_url {
        match crate::redirect::open_browser(&app, url) {
            Ok(()) => report
                .message
                .push_str(" The provider's sign-out page was opened in the browser."),
            Err(e) => report.message.push_str(&format!(" {e}")),
        }
    }
    shell.changed(&app).await;
    Ok(report)
}

/// What is in a token (pasted, or a profile's stored one): header and claims
/// with credentials masked, times, warnings; or what an opaque token is.
#[tauri::command]
#[specta::specta]
pub async fn inspect_token(
    shell: State<'_, Shell>,
    source: TokenSource,
) -> Reply<latchkey_core::jwt::Inspection> {
    Ok(shell.core.inspect(&source).await?)
}

/// Checks a token's signature against a secret, a PEM key or a JWKS.
#[tauri::command]
#[specta::specta]
pub async fn verify_token(
    shell: State<'_, Shell>,
    source: TokenSource,
    key: KeyInput,
) -> Reply<latchkey_core::jwt::Verified> {
    Ok(shell.core.verify(&source, &key).await?)
}

/// The page has rendered for the first time. With `LATCHKEY_TRACE_STARTUP` set
/// the shell prints the time since launch (the bench script reads it).
#[tauri::command]
#[specta::specta]
pub fn ui_ready(shell: State<'_, Shell>) {
    shell.ui_ready();
}

/// The command and event registry; the same one serves the app and the
/// bindings export.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            app_info,
            catalog,
            list_servers,
            add_server,
            update_server,
            remove_server,
            add_tenant,
            remove_tenant,
            list_profiles,
            add_profile,
            update_profile,
            remove_profile,
            get_settings,
            set_settings,
            redirect_outcomes,
            ui_ready,
            copy_token,
            credential,
            logout,
            renew_now,
            inspect_token,
            verify_token,
            login,
            submit_otp,
            cancel_login,
            token_info,
        ])
        .events(tauri_specta::collect_events![
            RedirectOutcome,
            DataChanged,
            FocusProfile,
            Lifecycle
        ])
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Where the generated bindings live, relative to the workspace root.
pub const BINDINGS_PATH: &str = "ui/src/ipc/bindings.ts";

pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    specta_builder()
        .export(
            specta_typescript::Typescript::default().header(
                "// Generated from the Rust command signatures by `make bindings`. Do not edit.\n",
            ),
            path,
        )
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed bindings must be what the Rust signatures generate now;
    /// `make bindings` (or LATCHKEY_WRITE_BINDINGS=1) rewrites them.
    #[test]
    fn committed_bindings_match_the_rust_signatures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let committed = root.join(BINDINGS_PATH);
        if std::env::var_os("LATCHKEY_WRITE_BINDINGS").is_some() {
            export_bindings(&committed).unwrap();
        }
        let fresh = tempfile_path();
        export_bindings(&fresh).unwrap();
        let want = std::fs::read_to_string(&fresh).unwrap();
        let have = std::fs::read_to_string(&committed).unwrap_or_default();
        std::fs::remove_file(&fresh).ok();
        assert!(
            want == have,
            "{BINDINGS_PATH} is stale: run `make bindings` and commit the result"
        );
    }

    fn tempfile_path() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("latchkey-bindings-{}.ts", std::process::id()))
    }

    #[test]
    fn command_list_for_permissions_matches_the_registry() {
        let list = include_str!("commands.list");
        let bindings = {
            let p = tempfile_path().with_extension("list.ts");
            export_bindings(&p).unwrap();
            let s = std::fs::read_to_string(&p).unwrap();
            std::fs::remove_file(&p).ok();
            s
        };
        for name in list
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|s| !s.is_empty())
        {
            assert!(
                bindings.contains(&format!("invoke(\"{name}\""))
                    || bindings.contains(&format!("\"{name}\"")),
                "{name} is in commands.list but not registered"
            );
        }
    }
}
