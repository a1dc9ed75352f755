//! The IPC surface: every command the UI may call, each a thin translation to a
//! `latchkey_core` call. Errors cross as `{code, message, field}` so the UI
//! switches on the code and shows the message next to the field it names.
//! The UI's TypeScript bindings are generated from these signatures
//! (`ui/src/ipc/bindings.ts`); a test fails when the committed copy is stale.

use crate::events::{DataChanged, FocusProfile, KeyringChanged, Lifecycle, RedirectOutcome};
use crate::shell::{AppInfo, Shell};
use latchkey_core::dci::SignedRequest;
use latchkey_core::inspector::{KeyInput, TokenSource};
use latchkey_core::model::{Profile, ProfileInput, Server, ServerInput, Tenant};
use latchkey_core::providers::{LoginInput, LoginStep, LogoutReport};
use latchkey_core::service::SummaryItem;
use latchkey_core::settings::AppSettings;
use latchkey_core::vault::{KeyringStatus, Secret, SecretInput};
use latchkey_core::{Catalog, CopyFormat, CredentialDetail, ErrorCode, ProfileView, ServerView};
use serde::{Deserialize, Serialize};
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

#[tauri::command]
#[specta::specta]
pub async fn app_info(shell: State<'_, Shell>) -> Reply<AppInfo> {
    Ok(shell.app_info().await)
}

/// The banner's Retry (`unlock: false`: checks again now, waiting a few
/// seconds for a keyring service that is starting) or Unlock (`unlock: true`:
/// the desktop's unlock prompt, then a check). Answers the new verdict, which
/// also goes out as [`KeyringChanged`] when it changed. The page may call it
/// once `allow-check-keyring` is in `src-tauri/capabilities/main.json`.
#[tauri::command]
#[specta::specta]
pub async fn check_keyring(shell: State<'_, Shell>, unlock: bool) -> Reply<KeyringStatus> {
    let vault = shell.core.vault();
    Ok(if unlock {
        vault.unlock(crate::keyring::UNLOCK_PROMPT_WAIT).await
    } else {
        vault
            .check_patiently(std::time::Duration::from_secs(3))
            .await
    })
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

/// The profiles of the window's first screen: all of them when there are no
/// more than `rows`, in the list's order (by name); else the first `rows` in
/// the timeline's order (the first view beyond a handful), and the rest is
/// left to `list_profiles`, which the page asks once that screen is drawn.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct FirstProfiles {
    pub profiles: Vec<ProfileView>,
    /// How many profiles there are in all.
    pub total: u32,
    /// `profiles` holds every profile.
    pub complete: bool,
}

/// What the window shows first, without every profile: at 10,000 of them
/// the page would otherwise receive, parse and sort 3.5 MB of JSON before
/// drawing anything (issue 13). Only a screenful crosses, and Rust holds at
/// most twice that many views at a time.
#[tauri::command]
#[specta::specta]
pub async fn first_profiles(shell: State<'_, Shell>, rows: u32) -> Reply<FirstProfiles> {
    let rows = rows as usize;
    let mut views = shell.core.profile_views().await?;
    let by_name: Vec<ProfileView> = views.by_ref().take(rows + 1).collect();
    let first = if by_name.len() <= rows {
        let total = by_name.len() as u32;
        FirstProfiles {
            profiles: by_name,
            total,
            complete: true,
        }
    } else {
        let (profiles, total) =
            latchkey_core::screen::first_of_timeline(by_name.into_iter().chain(views), rows);
        FirstProfiles {
            profiles,
            total: total as u32,
            complete: false,
        }
    };
    Ok(first)
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

/// Puts non-secret text the user must paste elsewhere (a redirect URI to
/// register, an authorize URL, a device code) on the clipboard, as is and
/// without clearing it later: the page may not write the clipboard itself.
/// Never for tokens: those go through `copy_token`, from the keyring.
#[tauri::command]
#[specta::specta]
pub async fn copy_plain(app: AppHandle, text: String) -> Reply<()> {
    if let Some(message) = crate::clipboard::plain_refusal(&text) {
        return Err(IpcError {
            code: ErrorCode::Invalid,
            message,
            field: None,
        });
    }
    crate::clipboard::put_plain(&app, &text).map_err(|message| IpcError {
        code: ErrorCode::Internal,
        message,
        field: None,
    })
}

/// What "Sign a request" signs, for the dialog to show: everything but the
/// signature, which is a credential for half an hour and stays in Rust.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct SignPreview {
    pub method: String,
    /// The URL exactly as it is sent (the signed path and query).
    pub url: String,
    /// The `Host` header that is signed.
    pub host: String,
    /// The value of `X-DCI-Date`.
    pub x_dci_date: String,
    /// The value of `Authorization`, its `Signature=` value replaced by `…`.
    pub authorization: String,
    pub canonical_request: String,
    pub string_to_sign: String,
}

/// What goes in place of the signature wherever the page could see it.
const SIGNATURE_MASK: &str = "…";

/// `Authorization` without its secret part: `Signature=…`. Should the value
/// ever lack `Signature=`, only the scheme is kept.
fn redact_signature(authorization: &str) -> String {
    match authorization.find("Signature=") {
        Some(at) => format!("{}Signature={SIGNATURE_MASK}", &authorization[..at]),
        None => {
            let scheme = authorization.split(' ').next().unwrap_or_default();
            format!("{scheme} {SIGNATURE_MASK}")
        }
    }
}

impl From<&SignedRequest> for SignPreview {
    fn from(signed: &SignedRequest) -> Self {
        SignPreview {
            method: signed.method.clone(),
            url: signed.url.clone(),
            host: signed.host.clone(),
            x_dci_date: signed.x_dci_date.clone(),
            authorization: redact_signature(&signed.authorization),
            canonical_request: signed.canonical_request.clone(),
            string_to_sign: signed.string_to_sign.clone(),
        }
    }
}

/// What "Copy" of a signed request puts on the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, specta::Type)]
#[serde(rename_all = "kebab-case")]
pub enum SignedCopyForm {
    /// A curl line that sends the request, body included.
    Curl,
    /// The two header lines, `X-DCI-Date: …` and `Authorization: …`.
    Headers,
}

impl SignedCopyForm {
    fn text(self, signed: &SignedRequest) -> Secret {
        match self {
            SignedCopyForm::Curl => Secret::new(signed.curl.as_str()),
            SignedCopyForm::Headers => Secret::new(
                signed
                    .headers()
                    .iter()
                    .map(|(name, value)| format!("{name}: {value}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SignedCopyForm::Curl => "signed curl command",
            SignedCopyForm::Headers => "signed request headers",
        }
    }
}

/// Signs a request with a `dci-hmac` profile's key. The profile goes to the
/// core by name, which is unique, so that a name that looks like a number is
/// never taken for another profile's id.
async fn sign_for(
    shell: &Shell,
    profile_id: i64,
    method: &str,
    url: &str,
    body: &str,
) -> Reply<(ProfileView, SignedRequest)> {
    let view = shell.core.profile_view(profile_id).await?;
    let signed = shell
        .core
        .sign_request(&view.name, method, url, body.as_bytes())
        .await?;
    Ok((view, signed))
}

/// What signing `method url` with `body` for a `dci-hmac` profile produces,
/// without the signature: for the "Sign a request" dialog. `url` is absolute
/// or a path on the profile's server.
#[tauri::command]
#[specta::specta]
pub async fn sign_preview(
    shell: State<'_, Shell>,
    profile_id: i64,
    method: String,
    url: String,
    body: String,
) -> Reply<SignPreview> {
    let (_, signed) = sign_for(&shell, profile_id, &method, &url, &body).await?;
    Ok(SignPreview::from(&signed))
}

/// Signs a request for a `dci-hmac` profile and puts it on the clipboard as a
/// curl line or as its two headers, cleared again like a copied token. The
/// signature goes from Rust to the clipboard; the page gets the receipt.
#[tauri::command]
#[specta::specta]
pub async fn copy_signed_request(
    app: AppHandle,
    shell: State<'_, Shell>,
    profile_id: i64,
    method: String,
    url: String,
    body: String,
    form: SignedCopyForm,
) -> Reply<CopyReceipt> {
    let (view, signed) = sign_for(&shell, profile_id, &method, &url, &body).await?;
    let text = form.text(&signed);
    shell.core.record_signed(&view.name, &signed).await?;
    drop(signed);
    let clear_after_seconds = shell.core.settings().await?.clipboard_clear_seconds;
    crate::clipboard::put(&app, text, clear_after_seconds).map_err(|message| IpcError {
        code: ErrorCode::Internal,
        message,
        field: None,
    })?;
    Ok(CopyReceipt {
        profile: view.name,
        tenant: view.tenant,
        what: form.describe().to_string(),
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

/// Whether this build can start the offline sandbox, and where it serves.
#[tauri::command]
#[specta::specta]
pub async fn sandbox_status(
    sandbox: State<'_, crate::sandbox::SandboxState>,
) -> Reply<crate::sandbox::SandboxStatus> {
    Ok(sandbox.status().await)
}

/// The first-run screen's "Start the offline sandbox": serves every protocol on
/// loopback in this process and seeds a server and a profile per login kind.
#[tauri::command]
#[specta::specta]
pub async fn start_sandbox(
    app: AppHandle,
    shell: State<'_, Shell>,
    sandbox: State<'_, crate::sandbox::SandboxState>,
) -> Reply<crate::sandbox::SandboxStarted> {
    let started = sandbox
        .start(&shell.core)
        .await
        .map_err(|message| IpcError {
            code: ErrorCode::Internal,
            message,
            field: None,
        })?;
    shell.changed(&app).await;
    Ok(started)
}

/// One of the page's start-up marks (the Performance API's): its name, and
/// when it was made, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct PageMark {
    pub name: String,
    pub at_ms: f64,
}

/// The page has rendered for the first time. With `LATCHKEY_TRACE_STARTUP` set
/// the shell prints the time since launch (the bench script reads it), and
/// that of each of the page's start-up `marks` (its script started, data
/// asked, data received, the first screen in the DOM), in launch order.
#[tauri::command]
#[specta::specta]
pub fn ui_ready(shell: State<'_, Shell>, marks: Vec<PageMark>) {
    for mark in &marks {
        crate::startup::mark_at(&format!("page {}", mark.name), mark.at_ms);
    }
    shell.ui_ready();
}

/// The command and event registry; the same one serves the app and the
/// bindings export.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            app_info,
            check_keyring,
            catalog,
            list_servers,
            add_server,
            update_server,
            remove_server,
            add_tenant,
            remove_tenant,
            list_profiles,
            first_profiles,
            add_profile,
            update_profile,
            remove_profile,
            get_settings,
            set_settings,
            redirect_outcomes,
            ui_ready,
            sandbox_status,
            start_sandbox,
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
            sign_preview,
            copy_signed_request,
            copy_plain,
        ])
        .events(tauri_specta::collect_events![
            RedirectOutcome,
            DataChanged,
            FocusProfile,
            Lifecycle,
            KeyringChanged
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

    fn signed_example() -> SignedRequest {
        let at = latchkey_core::clock::system().now();
        latchkey_core::dci::sign(
            "POST",
            "http://127.0.0.1:8080/api/v1/jobs?limit=5",
            br#"{"name":"job"}"#,
            "remoteci/ci-1",
            &Secret::new("the-secret-key"),
            at,
        )
        .unwrap()
    }

    fn signature_of(signed: &SignedRequest) -> String {
        let (_, sig) = signed.authorization.split_once("Signature=").unwrap();
        assert!(sig.len() >= 64, "a hex HMAC-SHA256: {sig}");
        sig.to_string()
    }

    #[test]
    fn sign_preview_shows_everything_signed_but_never_the_signature() {
        let signed = signed_example();
        let signature = signature_of(&signed);
        let preview = SignPreview::from(&signed);
        assert_eq!(preview.method, "POST");
        assert_eq!(preview.url, "http://127.0.0.1:8080/api/v1/jobs?limit=5");
        assert_eq!(preview.host, "127.0.0.1:8080");
        assert_eq!(preview.x_dci_date, signed.x_dci_date);
        assert_eq!(preview.canonical_request, signed.canonical_request);
        assert_eq!(preview.string_to_sign, signed.string_to_sign);
        assert!(preview
            .authorization
            .starts_with("DCI2-HMAC-SHA256 Credential=remoteci/ci-1/"));
        assert!(preview
            .authorization
            .ends_with("SignedHeaders=host;x-dci-date, Signature=…"));
        let json = serde_json::to_string(&preview).unwrap();
        assert!(!json.contains(&signature), "{json}");
    }

    #[test]
    fn an_authorization_without_a_signature_field_keeps_only_its_scheme() {
        assert_eq!(
            redact_signature("DCI2-HMAC-SHA256 abcdef"),
            "DCI2-HMAC-SHA256 …"
        );
        assert_eq!(
            redact_signature("X Credential=a, Signature=0123"),
            "X Credential=a, Signature=…"
        );
    }

    #[test]
    fn a_signed_request_copies_as_curl_or_as_its_two_header_lines() {
        let signed = signed_example();
        let signature = signature_of(&signed);
        let curl = SignedCopyForm::Curl.text(&signed);
        assert_eq!(curl.expose(), signed.curl);
        assert!(curl.expose().contains(&signature));
        let headers = SignedCopyForm::Headers.text(&signed);
        assert_eq!(
            headers.expose(),
            format!(
                "X-DCI-Date: {}\nAuthorization: {}",
                signed.x_dci_date, signed.authorization
            )
        );
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
