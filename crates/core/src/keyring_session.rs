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
use dbus::channel::Channel;
use dbus::message::MessageType;
use dbus::{Message, Path};
use num::BigUint;
use rand::Rng;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use zeroize::Zeroize;

/// The message bus itself, which a connection registers with.
const BUS: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";
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
        let connection = connect()?;
        let (request, exchange) = KeyExchange::start()?;
        let reply = connection
            .channel()
            .send_with_reply_and_block(request, TIMEOUT)
            .ok()?;
        exchange.finish(connection, &reply)
    }

    /// The secret of the entry `key` names under `service`, on a connection
    /// of its own, as [`SecretServiceSession::get`] would find it, in as few
    /// round trips as the bus allows: the session is asked for before the
    /// entry is known, and the search for the entry is sent as soon as `key`
    /// returns it (it may block, e.g. on a database read), without waiting
    /// for the session, whose key exchange the service is meanwhile doing.
    /// `key` returning `None` ends it: `Unsure`.
    pub fn get_once(
        service: &str,
        key: impl FnOnce() -> Option<SecretKey>,
    ) -> Lean<Option<Secret>> {
        Self::try_get_once(service, key).unwrap_or(Lean::Unsure)
    }

    fn try_get_once(
        service: &str,
        key: impl FnOnce() -> Option<SecretKey>,
    ) -> Result<Lean<Option<Secret>>, ()> {
        let connection = connect().ok_or(())?;
        let (request, exchange) = KeyExchange::start().ok_or(())?;
        let channel = connection.channel();
        let open_serial = channel.send(request)?;
        channel.flush();
        let Some(key) = key() else {
            return Ok(Lean::Unsure);
        };
        let account = key.account();
        let search = Message::new_method_call(BUS_NAME, SERVICE_PATH, SERVICE, "SearchItems")
            .map_err(drop)?
            .append1(search_attributes(service, &account));
        let search_serial = channel.send(search)?;
        channel.flush();
        let [opened, searched] = replies(channel, [open_serial, search_serial])?;
        let found: Found = searched.read2().map_err(drop)?;
        let session = exchange.finish(connection, &opened).ok_or(())?;
        match session.entry(service, &account, found)? {
            Entry::One(item) => session.secret_of(item),
            Entry::None => Ok(Lean::Sure(None)),
            Entry::Other => Ok(Lean::Unsure),
        }
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
        match self.find(service, &key.account())? {
            Entry::One(item) => self.secret_of(item),
            Entry::None => Ok(Lean::Sure(None)),
            Entry::Other => Ok(Lean::Unsure),
        }
    }

    /// The secret of one unlocked item, decrypted.
    fn secret_of(&self, item: Path<'static>) -> Result<Lean<Option<Secret>>, ()> {
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
        let found: Found = service_object(&self.connection)
            .method_call(
                SERVICE,
                "SearchItems",
                (search_attributes(service, account),),
            )
            .map_err(drop)?;
        self.entry(service, account, found)
    }

    /// The entry the answer to the first search of [`Self::find`] makes,
    /// after the legacy search when it found nothing.
    fn entry(&self, service: &str, account: &str, (unlocked, locked): Found) -> Result<Entry, ()> {
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

/// A connection to the session bus, registered with it by a `Hello` that
/// is sent but not waited for: the bus handles a connection's messages in
/// order, so the calls sent after it wait behind it there rather than here,
/// and a round trip is saved. Without `DBUS_SESSION_BUS_ADDRESS`, libdbus
/// finds the bus and registers as it always does.
fn connect() -> Option<Connection> {
    let Some(address) = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .ok()
        .filter(|address| !address.is_empty())
    else {
        return Connection::new_session().ok();
    };
    let channel = Channel::open_private(&address).ok()?;
    let hello = Message::new_method_call(BUS, BUS_PATH, BUS, "Hello").ok()?;
    channel.send(hello).ok()?;
    Some(Connection::from(channel))
}

/// Our half of the key exchange of `OpenSession`, between the request and
/// its answer.
struct KeyExchange {
    prime: BigUint,
    private: BigUint,
}

impl KeyExchange {
    /// A fresh private exponent and the `OpenSession` call that sends its
    /// public value.
    fn start() -> Option<(Message, Self)> {
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
        let request = Message::new_method_call(BUS_NAME, SERVICE_PATH, SERVICE, "OpenSession")
            .ok()?
            .append2(ALGORITHM, input);
        Some((request, Self { prime, private }))
    }

    /// The session the service's answer to [`Self::start`]'s call opened.
    fn finish(self, connection: Connection, reply: &Message) -> Option<SecretServiceSession> {
        let (output, session): (Variant<Box<dyn RefArg>>, Path<'_>) = reply.read2().ok()?;
        let session = session.into_static();
        let server_public = BigUint::from_bytes_be(dbus::arg::cast::<Vec<u8>>(&output.0)?);
        if server_public <= BigUint::from(1u32) || server_public >= self.prime {
            return None;
        }
        let mut shared = server_public
            .modpow(&self.private, &self.prime)
            .to_bytes_be();
        // The shared secret enters HKDF as a 128-byte big-endian number.
        let mut material = vec![0u8; 128usize.checked_sub(shared.len())?];
        material.extend_from_slice(&shared);
        shared.zeroize();
        let mut key = [0u8; 16];
        let expanded = hkdf::Hkdf::<sha2::Sha256>::new(None, &material).expand(&[], &mut key);
        material.zeroize();
        expanded.ok()?;
        Some(SecretServiceSession {
            connection,
            session,
            key,
        })
    }
}

/// The attributes the `keyring` crate searches an entry by.
fn search_attributes<'a>(service: &'a str, account: &'a str) -> HashMap<&'a str, &'a str> {
    HashMap::from([
        ("service", service),
        ("username", account),
        ("target", TARGET),
    ])
}

/// The answers to the two method calls sent as `serials`, in their order,
/// whatever order they come in; an error answer, a lost connection or no
/// answer within [`TIMEOUT`] is `Err`.
fn replies(channel: &Channel, serials: [u32; 2]) -> Result<[Message; 2], ()> {
    let deadline = Instant::now() + TIMEOUT;
    let mut answers: [Option<Message>; 2] = [None, None];
    while answers.iter().any(Option::is_none) {
        let left = deadline.checked_duration_since(Instant::now()).ok_or(())?;
        let Some(message) = channel.blocking_pop_message(left).map_err(drop)? else {
            continue;
        };
        // Anything else (the bus's NameAcquired signal) is not ours.
        let Some(at) = message
            .get_reply_serial()
            .and_then(|serial| serials.iter().position(|s| *s == serial))
        else {
            continue;
        };
        if message.msg_type() != MessageType::MethodReturn {
            return Err(());
        }
        answers[at] = Some(message);
    }
    let [Some(first), Some(second)] = answers else {
        return Err(());
    };
    Ok([first, second])
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
