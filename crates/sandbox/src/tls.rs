//! The sandbox over HTTPS, for testing servers behind a private CA: a
//! throwaway CA is generated at start, it issues a certificate for the names
//! asked (by default `127.0.0.1` and `localhost`), and the full [`router`] is
//! served with it on `127.0.0.1`. A client trusts the server only if it is
//! given [`TlsSandbox::ca_pem`].
//!
//! Certificates are made with OpenSSL and served with `native-tls`, the same
//! stack Latchkey's HTTP client uses on Linux. Their validity follows the wall
//! clock (TLS libraries check it), not the sandbox's [`SharedClock`].

use crate::faults::{FaultStream, Faults, Peer, TlsFault};
use crate::{avassa, router, States};
use latchkey_core::clock::SharedClock;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameBuilder, X509NameRef, X509};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_native_tls::{native_tls, TlsAcceptor, TlsStream};

/// The names the default certificate is for.
pub const DEFAULT_NAMES: &[&str] = &["127.0.0.1", "localhost"];

/// A running HTTPS sandbox. Dropping it stops the server.
pub struct TlsSandbox {
    addr: SocketAddr,
    ca_pem: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    states: States,
}

impl TlsSandbox {
    /// Serves on a free port of `127.0.0.1` with a certificate for
    /// `127.0.0.1` and `localhost`, with `clock` as the sandbox's "now".
    pub async fn start(clock: SharedClock) -> io::Result<Self> {
        Self::start_with_names(clock, DEFAULT_NAMES).await
    }

    /// Like [`TlsSandbox::start`], with a certificate for `names` only (IP
    /// addresses or DNS names), e.g. another host's name to test that a
    /// client refuses a certificate that is not for the host it connects to.
    pub async fn start_with_names(clock: SharedClock, names: &[&str]) -> io::Result<Self> {
        let ca = Ca::new().map_err(io::Error::other)?;
        let pems = ca
            .issue(names, Validity::Current)
            .map_err(io::Error::other)?;
        let acceptor = |pems: &IssuedPems| -> io::Result<TlsAcceptor> {
            let identity =
                native_tls::Identity::from_pkcs8(pems.cert.as_bytes(), pems.key.as_bytes())
                    .map_err(io::Error::other)?;
            Ok(TlsAcceptor::from(
                native_tls::TlsAcceptor::new(identity).map_err(io::Error::other)?,
            ))
        };
        // What a TLS fault presents instead: another CA's certificate, and
        // one of its own CA's that expired yesterday.
        let untrusted = issue_pem(names).map_err(io::Error::other)?;
        let expired = ca
            .issue(names, Validity::Expired)
            .map_err(io::Error::other)?;
        let tcp = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = tcp.local_addr()?;
        let states = States::new(clock, &format!("https://{addr}"));
        let app = router(states.clone()).into_make_service_with_connect_info::<Peer>();
        let listener = TlsListener {
            tcp,
            acceptors: Acceptors {
                valid: acceptor(&pems)?,
                untrusted: acceptor(&untrusted)?,
                expired: acceptor(&expired)?,
            },
            faults: states.faults.clone(),
            handshakes: JoinSet::new(),
        };
        let ca_pem = pems.ca;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            addr,
            ca_pem,
            stop: Some(stop),
            task: Some(task),
            states,
        })
    }

    /// The PEM of the CA that issued the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The Avassa server's controls (seal, TTLs, one-time codes).
    pub fn avassa(&self) -> &avassa::Avassa {
        &self.states.avassa
    }

    /// Every protocol's state, as [`crate::Sandbox`] gives it one by one.
    pub fn states(&self) -> &States {
        &self.states
    }

    /// The fault switches of every route, and of the TLS handshake.
    pub fn faults(&self) -> &Faults {
        &self.states.faults
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The base URL of one protocol, e.g. `https://127.0.0.1:PORT/avassa`.
    pub fn url_of(&self, protocol: &str) -> String {
        format!("{}/{protocol}", self.base_url())
    }

    /// Stops serving and waits for the server task to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TlsSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Accepts TCP connections and hands axum those whose TLS handshake
/// succeeded. Handshakes run in their own tasks, so a client that refuses the
/// certificate (the point of these tests) or stalls holds up no one else.
struct TlsListener {
    tcp: TcpListener,
    acceptors: Acceptors,
    faults: Faults,
    handshakes: JoinSet<Option<(TlsStream<FaultStream>, SocketAddr)>>,
}

/// The certificate the sandbox presents, and those a [`TlsFault`] presents.
struct Acceptors {
    valid: TlsAcceptor,
    untrusted: TlsAcceptor,
    expired: TlsAcceptor,
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<FaultStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((tcp, addr)) => {
                        let acceptor = match self.faults.tls() {
                            None => self.acceptors.valid.clone(),
                            Some(TlsFault::Untrusted) => self.acceptors.untrusted.clone(),
                            Some(TlsFault::Expired) => self.acceptors.expired.clone(),
                        };
                        let stream = FaultStream::new(tcp, addr, self.faults.clone());
                        self.handshakes.spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => Some((tls, addr)),
                                _ => None,
                            }
                        });
                    }
                    // Out of file descriptors and the like: wait, as axum's own
                    // listener does.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(stream)) = done {
                        return stream;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// When a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    /// From a day ago for 30 days.
    Current,
    /// From 31 days ago until yesterday.
    Expired,
}

/// A throwaway CA and a server certificate it issued, in PEM, for serving
/// something else than the sandbox over HTTPS (e.g. a Node.js provider).
pub struct IssuedPems {
    /// The CA certificate, what clients must trust.
    pub ca: String,
    /// The server certificate, for `names`.
    pub cert: String,
    /// The server's private key, PKCS#8.
    pub key: String,
}

/// Makes a fresh CA and a server certificate for `names` (IP addresses or
/// DNS names).
pub fn issue_pem(names: &[&str]) -> Result<IssuedPems, BoxError> {
    let ca = Ca::new()?;
    ca.issue(names, Validity::Current)
}

/// A throwaway certificate authority.
struct Ca {
    cert: X509,
    key: PKey<Private>,
}

impl Ca {
    fn new() -> Result<Self, BoxError> {
        let key = key()?;
        let ca_name = name("Latchkey sandbox test CA")?;
        let mut ca = certificate(&ca_name, &ca_name, &key, Validity::Current)?;
        ca.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        ca.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        let ski = SubjectKeyIdentifier::new().build(&ca.x509v3_context(None, None))?;
        ca.append_extension(ski)?;
        ca.sign(&key, MessageDigest::sha256())?;
        Ok(Self {
            cert: ca.build(),
            key,
        })
    }

    /// A server certificate for `names`, valid as `validity` says.
    fn issue(&self, names: &[&str], validity: Validity) -> Result<IssuedPems, BoxError> {
        let ca = &self.cert;
        let leaf_key = key()?;
        let leaf_name = name(names.first().copied().unwrap_or("sandbox"))?;
        let mut leaf = certificate(&leaf_name, ca.subject_name(), &leaf_key, validity)?;
        leaf.append_extension(BasicConstraints::new().critical().build()?)?;
        leaf.append_extension(
            KeyUsage::new()
                .critical()
                .digital_signature()
                .key_encipherment()
                .build()?,
        )?;
        leaf.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
        let mut san = SubjectAlternativeName::new();
        for n in names {
            if n.parse::<IpAddr>().is_ok() {
                san.ip(n);
            } else {
                san.dns(n);
            }
        }
        let san = san.build(&leaf.x509v3_context(Some(ca), None))?;
        leaf.append_extension(san)?;
        let ski = SubjectKeyIdentifier::new().build(&leaf.x509v3_context(Some(ca), None))?;
        leaf.append_extension(ski)?;
        let aki = AuthorityKeyIdentifier::new()
            .keyid(true)
            .build(&leaf.x509v3_context(Some(ca), None))?;
        leaf.append_extension(aki)?;
        leaf.sign(&self.key, MessageDigest::sha256())?;
        let leaf = leaf.build();
        Ok(IssuedPems {
            ca: String::from_utf8(ca.to_pem()?)?,
            cert: String::from_utf8(leaf.to_pem()?)?,
            key: String::from_utf8(leaf_key.private_key_to_pem_pkcs8()?)?,
        })
    }
}

fn key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn name(common_name: &str) -> Result<X509Name, ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(name.build())
}

/// A v3 certificate for `key`, valid for `validity` in wall-clock time, with
/// a random serial; extensions and signature left to the caller.
fn certificate(
    subject: &X509NameRef,
    issuer: &X509NameRef,
    key: &PKey<Private>,
    validity: Validity,
) -> Result<X509Builder, Box<dyn std::error::Error + Send + Sync>> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let mut serial = BigNum::new()?;
    serial.rand(127, openssl::bn::MsbOption::MAYBE_ZERO, false)?;
    let serial: Asn1Integer = serial.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(subject)?;
    b.set_issuer_name(issuer)?;
    b.set_pubkey(key)?;
    let (from, until) = match validity {
        Validity::Current => (now - 86_400, now + 30 * 86_400),
        Validity::Expired => (now - 31 * 86_400, now - 86_400),
    };
    let not_before = Asn1Time::from_unix(from as _)?;
    let not_after = Asn1Time::from_unix(until as _)?;
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    Ok(b)
}
