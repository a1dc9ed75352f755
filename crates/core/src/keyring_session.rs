//! One lean session with the freedesktop Secret Service for the entries
//! [`crate::vault::KeyringStore`] keeps, which the `keyring` crate's layout
//! defines: one item per secret in the default collection, with the
//! attributes `service`, `username` (the [`SecretKey`]'s account), `target`
//! (`default`) and `application` (`rust-keyring`).
//!
//! Why not only the `keyring` crate: for every single call it opens a new
//! D-Bus connection and negotiates a new encrypted session, two of each to
//! write, with a square-and-divide exponentiation that costs more CPU than the
//! rest of `latchkey token`. Here one connection and one session
//! (`dh-ietf1024-sha256-aes128-cbc-pkcs7`, the same exchange, with Montgomery
//! exponentiation) serve every call of a process, and a session can be
//! negotiated before the entry is known, so the token hand-off overlaps it
//! with its database work.
//!
//! It answers only what it can answer exactly as the crate would: an entry
//! that is one unlocked item, or no item at all (in the crate's legacy
//! places too). A locked or ambiguous entry, an item written by an older
//! keyring version, a prompt, or any D-Bus error is [`Lean::Unsure`], and the
//! caller asks the `keyring` crate, which unlocks, prompts and words the
//! errors as it always did. Secrets are encrypted on the bus both ways and
//! decrypted only into a [`Secret`].

use crate::secret::{Secret, SecretKey};
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use dbus::arg::{PropMap, RefArg, Variant};
use dbus::blocking::{Connection, Proxy};
use dbus::Path;
use num::BigUint;
use rand::Rng;
use std::collections::HashMap;
use std::time::Duration;
use zeroize::Zeroize;

const BUS_NAME: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";
const ITEM: &str = "org.freedesktop.Secret.Item";
const PROMPT: &str = "org.freedesktop.Secret.Prompt";
const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";
const CONTENT_TYPE: &str = "text/plain";
/// The collection the `keyring` crate's entries belong to, and its alias.
const TARGET: &str = "default";
const APPLICATION: &str = "rust-keyring";
/// The label the `keyring` crate gives the items it creates, so that a
/// keyring browser shows one kind of entry whichever path wrote it.
const LABEL_SUFFIX: &str = "(keyring v3.6.3)";
/// A keyring daemon answers at once or not at all: do not hang a script.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The size of our private Diffie-Hellman exponent (see [`SecretServiceSession::open`]).
const PRIVATE_EXPONENT_BYTES: usize = 32;

/// The 1024-bit MODP group of RFC 2409 §6.2 (the "Second Oakley Group"),
/// generator 2, which the Secret Service specification names for this
/// algorithm.
const PRIME_HEX: &[u8] = b"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1\
29024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437\
4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5\
AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF";

/// What the lean path knows for sure.
#[derive(Debug)]
pub enum Lean<T> {
    /// The answer, exactly as the `keyring` crate would give it.
    Sure(T),
    /// Not a case it handles, or the connection failed: ask the crate.
    Unsure,
}

/// A connection to the Secret Service with an encrypted session open.
pub struct SecretServiceSession {
    connection: Connection,
    session: Path<'static>,
    key: [u8; 16],
}

type Found = (Vec<Path<'static>>, Vec<Path<'static>>);

impl SecretServiceSession {
    /// Connects to the session bus and negotiates a session key; `None` if
    /// anything is amiss (the `keyring` crate will then say what).
    pub fn open() -> Option<Self> {
        let connection = Connection::new_session().ok()?;
        let prime = BigUint::parse_bytes(PRIME_HEX, 16)?;
        // A 256-bit private exponent: twice the ~80-bit strength of this
        // 1024-bit group is what the exponent needs (RFC 3526 §8, NIST SP
        // 800-56A); a full-size one makes both exponentiations four times
        // slower (about 1.5 ms of CPU per `latchkey token`) for no more.
        let mut private_bytes = [0u8; PRIVATE_EXPONENT_BYTES];
        rand::rng().fill(&mut private_bytes[..]);
        let private = BigUint::from_bytes_be(&private_bytes);
        private_bytes.zeroize();
        let public = BigUint::from(2u32).modpow(&private, &prime);
        let input = Variant(Box::new(public.to_bytes_be()) as Box<dyn RefArg>);
        let (output, session): (Variant<Box<dyn RefArg>>, Path<'static>) =
            service_object(&connection)
                .method_call(SERVICE, "OpenSession", (ALGORITHM, input))
                .ok()?;
        let server_public = BigUint::from_bytes_be(dbus::arg::cast::<Vec<u8>>(&output.0)?);
        if server_public <= BigUint::from(1u32) || server_public >= prime {
            return None;
        }
        let mut shared = server_public.modpow(&private, &prime).to_bytes_be();
        // The shared secret enters HKDF as a 128-byte big-endian number.
        let mut material = vec![0u8; 128usize.checked_sub(shared.len())?];
        material.extend_from_slice(&shared);
        shared.zeroize();
        let mut key = [0u8; 16];
        let expanded = hkdf::Hkdf::<sha2::Sha256>::new(None, &material).expand(&[], &mut key);
        material.zeroize();
        expanded.ok()?;
        Some(Self {
            connection,
            session,
            key,
        })
    }

    /// The secret of `key` under `service`: `Sure(None)` when there is no
    /// such entry.
    pub fn get(&self, service: &str, key: &SecretKey) -> Lean<Option<Secret>> {
        self.try_get(service, key).unwrap_or(Lean::Unsure)
    }

    /// Stores `secret` as the entry of `key` under `service`, replacing it.
    pub fn set(&self, service: &str, key: &SecretKey, secret: &Secret) -> Lean<()> {
        self.try_set(service, key, secret).unwrap_or(Lean::Unsure)
    }

    /// Removes the entry of `key` under `service`, if there is one.
    pub fn delete(&self, service: &str, key: &SecretKey) -> Lean<()> {
        self.try_delete(service, key).unwrap_or(Lean::Unsure)
    }

    fn try_get(&self, service: &str, key: &SecretKey) -> Result<Lean<Option<Secret>>, ()> {
        let account = key.account();
        let item = match self.find(service, &account)? {
            Entry::One(item) => item,
            Entry::None => return Ok(Lean::Sure(None)),
            Entry::Other => return Ok(Lean::Unsure),
        };
        let ((_, iv, value, _),): ((Path<'static>, Vec<u8>, Vec<u8>, String),) = self
            .proxy(item)
            .method_call(ITEM, "GetSecret", (self.session.clone(),))
            .map_err(drop)?;
        let clear = cbc::Decryptor::<aes::Aes128>::new_from_slices(&self.key, &iv)
            .map_err(drop)?
            .decrypt_padded_vec_mut::<Pkcs7>(&value)
            .map_err(drop)?;
        // The crate refuses what is not UTF-8 with its own error: let it.
        Ok(match String::from_utf8(clear) {
            Ok(text) => Lean::Sure(Some(Secret::new(text))),
            Err(err) => {
                err.into_bytes().zeroize();
                Lean::Unsure
            }
        })
    }

    fn try_set(&self, service: &str, key: &SecretKey, secret: &Secret) -> Result<Lean<()>, ()> {
        let account = key.account();
        let encrypted = self.encrypt(secret.expose().as_bytes());
        match self.find(service, &account)? {
            Entry::One(item) => {
                self.proxy(item)
                    .method_call::<(), _, _, _>(ITEM, "SetSecret", (encrypted,))
                    .map_err(drop)?;
                Ok(Lean::Sure(()))
            }
            Entry::None => {
                let collection = self.default_collection()?;
                let attributes: HashMap<String, String> = HashMap::from([
                    ("service".to_string(), service.to_string()),
                    ("username".to_string(), account.clone()),
                    ("target".to_string(), TARGET.to_string()),
                    ("application".to_string(), APPLICATION.to_string()),
                ]);
                let label = format!("{account}@{service}:{TARGET} {LABEL_SUFFIX}");
                let mut properties = PropMap::new();
                properties.insert(
                    "org.freedesktop.Secret.Item.Label".into(),
                    Variant(Box::new(label)),
                );
                properties.insert(
                    "org.freedesktop.Secret.Item.Attributes".into(),
                    Variant(Box::new(attributes)),
                );
                let (item, prompt): (Path<'static>, Path<'static>) = self
                    .proxy(collection)
                    .method_call(COLLECTION, "CreateItem", (properties, encrypted, true))
                    .map_err(drop)?;
                Ok(self.settled(&prompt, item.len() > 1))
            }
            Entry::Other => Ok(Lean::Unsure),
        }
    }

    fn try_delete(&self, service: &str, key: &SecretKey) -> Result<Lean<()>, ()> {
        match self.find(service, &key.account())? {
            Entry::One(item) => {
                let (prompt,): (Path<'static>,) = self
                    .proxy(item)
                    .method_call(ITEM, "Delete", ())
                    .map_err(drop)?;
                Ok(self.settled(&prompt, true))
            }
            Entry::None => Ok(Lean::Sure(())),
            Entry::Other => Ok(Lean::Unsure),
        }
    }

    /// What the `keyring` crate would find for an entry: first items with all
    /// the search attributes anywhere, then, if none, items of the default
    /// collection with `service` and `username` (where keyring v1 put them).
    fn find(&self, service: &str, account: &str) -> Result<Entry, ()> {
        let attributes: HashMap<&str, &str> = HashMap::from([
            ("service", service),
            ("username", account),
            ("target", TARGET),
        ]);
        let (unlocked, locked): Found = service_object(&self.connection)
            .method_call(SERVICE, "SearchItems", (attributes,))
            .map_err(drop)?;
        match (unlocked.as_slice(), locked.as_slice()) {
            ([item], []) => return Ok(Entry::One(item.clone())),
            ([], []) => {}
            _ => return Ok(Entry::Other),
        }
        let legacy: HashMap<&str, &str> =
            HashMap::from([("service", service), ("username", account)]);
        let (items,): (Vec<Path<'static>>,) = self
            .proxy(self.default_collection()?)
            .method_call(COLLECTION, "SearchItems", (legacy,))
            .map_err(drop)?;
        Ok(if items.is_empty() {
            Entry::None
        } else {
            Entry::Other
        })
    }

    fn default_collection(&self) -> Result<Path<'static>, ()> {
        let (path,): (Path<'static>,) = service_object(&self.connection)
            .method_call(SERVICE, "ReadAlias", (TARGET,))
            .map_err(drop)?;
        if path.len() <= 1 {
            // No default collection yet: the crate creates one.
            return Err(());
        }
        Ok(path)
    }

    /// Done when the service needed no prompt ("/"). A prompt would wait for
    /// the user: dismiss it and let the crate, which can show it, do the call.
    fn settled(&self, prompt: &Path<'static>, done: bool) -> Lean<()> {
        if prompt.len() > 1 {
            let _ = self
                .proxy(prompt.clone())
                .method_call::<(), _, _, _>(PROMPT, "Dismiss", ());
            return Lean::Unsure;
        }
        if done {
            Lean::Sure(())
        } else {
            Lean::Unsure
        }
    }

    /// A secret as the bus carries it: (session, IV, ciphertext, type).
    fn encrypt(&self, clear: &[u8]) -> (Path<'static>, Vec<u8>, Vec<u8>, &'static str) {
        let mut iv = [0u8; 16];
        rand::rng().fill(&mut iv[..]);
        let value = cbc::Encryptor::<aes::Aes128>::new(&self.key.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(clear);
        (self.session.clone(), iv.to_vec(), value, CONTENT_TYPE)
    }

    fn proxy(&self, path: Path<'static>) -> Proxy<'_, &Connection> {
        self.connection.with_proxy(BUS_NAME, path, TIMEOUT)
    }
}

impl Drop for SecretServiceSession {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

/// The items an entry matches.
enum Entry {
    One(Path<'static>),
    None,
    /// Locked, several, or only legacy ones.
    Other,
}

fn service_object(connection: &Connection) -> Proxy<'_, &Connection> {
    connection.with_proxy(BUS_NAME, SERVICE_PATH, TIMEOUT)
}
