//! latchkey-core: everything Latchkey decides without a window. The app shell
//! (`src-tauri/`) and the CLI (`crates/cli`) translate their input into calls on
//! [`Latchkey`] and its results into their output; neither holds a rule.

pub mod clock;
pub mod dci;
pub mod env;
pub mod error;
pub mod flows;
#[doc(hidden)]
pub mod fuzz_surface;
pub mod handoff;
pub mod http;
pub mod inspector;
pub mod jwt;
#[cfg(target_os = "linux")]
pub mod keyring_session;
pub mod login;
pub mod loopback;
pub mod model;
pub mod oauth;
pub mod process;
pub mod providers;
pub mod renewal;
pub mod renewal_lock;
pub mod screen;
pub mod secret;
pub mod service;
pub mod settings;
pub mod signing;
pub mod store;
pub mod tokens;
pub mod tool_credentials;
pub mod transfer;
pub mod tray;
pub mod vault;

pub use error::{Error, ErrorCode, Result};
pub use service::{Catalog, CopyFormat, CredentialDetail, Latchkey, ProfileView, ServerView};
