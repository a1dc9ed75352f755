//! Forged redirects, by the ten thousand. Two OpenID logins wait at once, one
//! for the deep link and one on the loopback listener, against the sandbox's
//! provider; then a generated set of redirect URLs, each wrong in at least one
//! way a redirect can be (a missing, unknown, altered, spent, expired or
//! foreign `state`; another issuer (RFC 9207); `error=`; a parameter given
//! twice; oversized; bytes that are not UTF-8; another scheme, host, port or
//! path), goes to the deep-link path (the hub's `route`, which is all the
//! app's deep-link handler calls) and, as raw HTTP requests, to the real
//! loopback listener. Every one must be refused with a message, nothing may
//! be stored, and afterwards both logins still finish with their genuine
//! redirects. The counts are printed.

mod common;
use common::{profile, ProfileInputExt, World};
use latchkey_core::model::RedirectMode;
use latchkey_core::vault::SecretSlot;
use latchkey_sandbox::oidc as sb;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeSet;
use std::time::{Duration as StdDuration, Instant};
use time::macros::datetime;
use time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// At least this many distinct URLs go to each path.
const AT_LEAST: usize = 10_000;

async fn world() -> World {
    let w = World::at(datetime!(2026-06-01 09:00 UTC))
        .with_server("idp", "oidc")
        .build()
        .await;
    for (name, redirect) in [
        ("deep", RedirectMode::DeepLink),
        ("loop", RedirectMode::Loopback),
        ("spent", RedirectMode::DeepLink),
        ("late", RedirectMode::DeepLink),
    ] {
        let mut input = profile(name, "idp", "oidc").client_id(sb::PUBLIC_CLIENT_ID);
        input = input.scopes(&["openid", "offline_access"]);
        input.settings.redirect = Some(redirect);
        w.add(input).await;
    }
    w
}

/// A genuine redirect, taken apart.
#[derive(Clone, Debug)]
struct Genuine {
    location: String,
    /// `latchkey://callback` or `http://127.0.0.1:<port>/callback`.
    endpoint: String,
    state: String,
    code: String,
    iss: String,
}

impl World {
    /// Starts the login and plays the browser up to the provider's redirect,
    /// which it keeps instead of following.
    async fn authorize(&self, name: &str) -> Genuine {
        let (url, redirect_uri) = self.start_browser_login(name, true).await;
        let location = self.provider_redirect(&url).await;
        let parsed = url::Url::parse(&location).unwrap();
        let param = |name: &str| {
            parsed
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| panic!("{name} in {location}"))
        };
        Genuine {
            endpoint: redirect_uri,
            state: param("state"),
            code: param("code"),
            iss: param("iss"),
            location,
        }
    }

    async fn holds_token(&self, name: &str) -> bool {
        let profile = self.core.profile_named(name).await.unwrap();
        let slots = self.vault.slots(profile.id).await.unwrap();
        let meta = self.core.store().tokens_of(profile.id).await.unwrap();
        assert_eq!(
            slots.contains(&SecretSlot::AccessToken),
            !meta.is_empty(),
            "vault and store agree about {name}"
        );
        !meta.is_empty()
    }
}

fn enc(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// One redirect's query or fragment, in the order given (duplicates kept).
type Params = Vec<(String, String)>;

/// What is wrong with a generated redirect, apart from where it is sent.
#[derive(Clone)]
struct Fault {
    name: &'static str,
    query: Params,
    fragment: Params,
    /// The path instead of the right one, if the fault is the path.
    path: Option<&'static str>,
}

/// Everything the generator knows about the waiting login it forges for.
struct Target<'a> {
    own: &'a Genuine,
    /// The other waiting login's genuine redirect (its state is foreign here).
    other: &'a Genuine,
    spent_state: &'a str,
    expired_state: &'a str,
}

fn p(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

/// The faults each generated redirect carries one of. Every one of them is
/// enough to refuse the redirect on its own, whatever else it carries.
fn faults(t: &Target) -> Vec<Fault> {
    let g = &t.own.state;
    let code = p("code", t.own.code.clone());
    let iss = p("iss", t.own.iss.clone());
    let mut altered = g.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let q = |params: Vec<(String, String)>| Fault {
        name: "",
        query: params,
        fragment: vec![],
        path: None,
    };
    let mut all = vec![
        Fault {
            name: "no state",
            ..q(vec![code.clone(), iss.clone()])
        },
        Fault {
            name: "empty state",
            ..q(vec![p("state", ""), code.clone(), iss.clone()])
        },
        Fault {
            name: "unknown state",
            ..q(vec![
                p("state", "c29tZS1vdGhlci1sb2dpbg"),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "altered state",
            ..q(vec![p("state", altered), code.clone(), iss.clone()])
        },
        Fault {
            name: "state plus a character",
            ..q(vec![p("state", format!("{g}x")), code.clone(), iss.clone()])
        },
        Fault {
            name: "truncated state",
            ..q(vec![
                p("state", &g[..g.len() - 1]),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "upper-cased state",
            ..q(vec![
                p("state", g.to_uppercase()),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "state with a NUL",
            ..q(vec![
                p("state", format!("{g}\0")),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "replayed state",
            ..q(vec![p("state", t.spent_state), code.clone(), iss.clone()])
        },
        Fault {
            name: "expired state",
            ..q(vec![p("state", t.expired_state), code.clone(), iss.clone()])
        },
        Fault {
            name: "foreign state",
            ..q(vec![
                p("state", t.other.state.clone()),
                p("code", t.other.code.clone()),
                iss.clone(),
            ])
        },
        Fault {
            name: "state twice, genuine first",
            ..q(vec![
                p("state", g.clone()),
                p("state", "evil"),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "state twice, genuine last",
            ..q(vec![
                p("state", "evil"),
                p("state", g.clone()),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "state twice, both genuine",
            ..q(vec![
                p("state", g.clone()),
                p("state", g.clone()),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "code twice",
            ..q(vec![
                p("state", g.clone()),
                code.clone(),
                p("code", "evil-code"),
                iss.clone(),
            ])
        },
        Fault {
            name: "iss twice",
            ..q(vec![
                p("state", g.clone()),
                code.clone(),
                iss.clone(),
                p("iss", "https://evil.example"),
            ])
        },
        Fault {
            name: "foreign iss",
            ..q(vec![
                p("state", g.clone()),
                code.clone(),
                p("iss", "https://evil.example"),
            ])
        },
        Fault {
            name: "look-alike iss",
            ..q(vec![
                p("state", g.clone()),
                code.clone(),
                p("iss", format!("{}/", t.own.iss)),
            ])
        },
        Fault {
            name: "empty iss",
            ..q(vec![p("state", g.clone()), code.clone(), p("iss", "")])
        },
        Fault {
            name: "error with an unknown state",
            ..q(vec![
                p("error", "access_denied"),
                p("error_description", "no"),
                p("state", "bm90LWEtbG9naW4"),
            ])
        },
        Fault {
            name: "error without a state",
            ..q(vec![p("error", "server_error"), iss.clone()])
        },
        Fault {
            name: "oversized state",
            ..q(vec![
                p("state", "s".repeat(20_000)),
                code.clone(),
                iss.clone(),
            ])
        },
        Fault {
            name: "oversized redirect",
            ..q(vec![
                p("state", g.clone()),
                code.clone(),
                iss.clone(),
                p("junk", "j".repeat(17_000)),
            ])
        },
        Fault {
            name: "state in the fragment differs",
            query: vec![p("state", g.clone()), code.clone(), iss.clone()],
            fragment: vec![p("state", "evil")],
            path: None,
        },
        Fault {
            name: "wrong path",
            path: Some("/callbacks"),
            ..q(vec![p("state", g.clone()), code.clone(), iss.clone()])
        },
        Fault {
            name: "path below",
            path: Some("/callback/evil"),
            ..q(vec![p("state", g.clone()), code.clone(), iss.clone()])
        },
        Fault {
            name: "upper-case path",
            path: Some("/Callback"),
            ..q(vec![p("state", g.clone()), code.clone(), iss.clone()])
        },
        Fault {
            name: "doubled path",
            path: Some("//callback"),
            ..q(vec![p("state", g.clone()), code.clone(), iss.clone()])
        },
    ];
    for fault in &mut all {
        assert!(!fault.name.is_empty());
    }
    all
}

/// Extra parameters that change nothing about a fault.
fn extras(rng: &mut StdRng) -> (Params, Params) {
    const NAMES: &[&str] = &[
        "scope",
        "session_state",
        "token_type",
        "expires_in",
        "x",
        "redirect_uri",
        "nonce",
        "client_id",
        "prompt",
        "a b",
        "ü",
        "%",
    ];
    let mut query = Vec::new();
    let mut fragment = Vec::new();
    for _ in 0..rng.random_range(0..4) {
        let name = NAMES[rng.random_range(0..NAMES.len())];
        let len = rng.random_range(0..40);
        let value: String = (0..len)
            .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
            .collect();
        let pair = p(name, value);
        if query
            .iter()
            .chain(fragment.iter())
            .any(|(k, _): &(String, String)| *k == pair.0)
        {
            continue;
        }
        if rng.random_bool(0.3) {
            fragment.push(pair);
        } else {
            query.push(pair);
        }
    }
    (query, fragment)
}

fn encode(params: &Params) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Scheme-and-authority variants for the deep link: the real one, and others
/// that are wrong whatever the parameters say.
const DEEP_LINK_BASES: &[&str] = &[
    "latchkey://callback",
    "latchkey://CALLBACK",
    "latchkey://callback.evil.example",
    "latchkey://evil.example",
    "latchkey:callback",
    "latchkey:///callback",
    "https://evil.example",
    "http://evil.example",
    "http://127.0.0.1:1",
    "http://[::1]:2",
    "http://localhost",
    "file://",
    "javascript:alert(1)//",
    "data:text/html,",
    "ftp://callback",
];

/// The generated set, as (what it is, deep-link URL, loopback request target).
fn generate(deep: &Target, looping: &Target, count: usize) -> Vec<(String, String, String)> {
    let mut rng = StdRng::seed_from_u64(12);
    let deep_faults = faults(deep);
    let loop_faults = faults(looping);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut round = 0usize;
    while out.len() < count {
        for (i, (df, lf)) in deep_faults.iter().zip(&loop_faults).enumerate() {
            // Half on the real callback, so every fault is tried there often.
            let base = if (round + i).is_multiple_of(2) {
                DEEP_LINK_BASES[0]
            } else {
                DEEP_LINK_BASES[1 + (round + i) / 2 % (DEEP_LINK_BASES.len() - 1)]
            };
            let (mut eq, ef) = extras(&mut rng);
            let shuffle = rng.random_bool(0.5);
            let build = |f: &Fault, eq: &mut Params| {
                let mut query = f.query.clone();
                query.append(&mut eq.clone());
                if shuffle {
                    query.reverse();
                }
                let mut fragment = f.fragment.clone();
                fragment.extend(ef.iter().cloned());
                let mut tail = format!("{}?{}", f.path.unwrap_or(""), encode(&query));
                if !fragment.is_empty() {
                    tail.push('#');
                    tail.push_str(&encode(&fragment));
                }
                tail
            };
            let deep_tail = build(df, &mut eq);
            let loop_tail = build(lf, &mut eq);
            let deep_url = format!("{base}{deep_tail}");
            let target = format!(
                "{}{}",
                if lf.path.is_some() { "" } else { "/callback" },
                loop_tail
            );
            if seen.insert(deep_url.clone()) {
                out.push((df.name.to_string(), deep_url, target));
            }
            eq.clear();
        }
        round += 1;
    }
    out
}

/// Requests that are not even a redirect: another method, another form of
/// target, bytes that are not UTF-8, not HTTP at all.
fn raw_requests(own: &Genuine) -> Vec<(&'static str, Vec<u8>)> {
    let g = &own.state;
    let c = &own.code;
    let mut all: Vec<(&'static str, Vec<u8>)> = vec![
        (
            "POST",
            format!("POST /callback?state={g}&code={c} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes(),
        ),
        (
            "HEAD",
            format!("HEAD /callback?state={g}&code={c} HTTP/1.1\r\n\r\n").into_bytes(),
        ),
        (
            "absolute target",
            format!("GET http://evil.example/callback?state={g}&code={c} HTTP/1.1\r\n\r\n")
                .into_bytes(),
        ),
        (
            "no HTTP version",
            format!("GET /callback?state=x&code={c}\r\n\r\n").into_bytes(),
        ),
        (
            "HTTP/2 preface",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec(),
        ),
        ("garbage", b"\x00\x01\x02\xff\r\n\r\n".to_vec()),
        ("empty", b"\r\n\r\n".to_vec()),
        ("closed at once", Vec::new()),
        (
            "header without end",
            format!("GET /callback?state={g}&code={c} HTTP/1.1\r\nHost: x\r\n").into_bytes(),
        ),
    ];
    let mut not_utf8 = b"GET /callback?state=".to_vec();
    not_utf8.extend_from_slice(&[0xff, 0xfe, 0x80]);
    not_utf8.extend_from_slice(format!("&code={c} HTTP/1.1\r\n\r\n").as_bytes());
    all.push(("state not UTF-8", not_utf8));
    let mut not_utf8_genuine = format!("GET /callback?state={g}&code={c}&x=").into_bytes();
    not_utf8_genuine.extend_from_slice(&[0xc3, 0x28]);
    not_utf8_genuine.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    all.push(("genuine state, a byte not UTF-8", not_utf8_genuine));
    let mut huge = format!("GET /callback?state={g}&code={c}&junk=").into_bytes();
    huge.extend(std::iter::repeat_n(b'j', 40_000));
    huge.extend_from_slice(b" HTTP/1.1\r\n\r\n");
    all.push(("head larger than the limit", huge));
    all
}

/// Sends one raw request to the listener; its status and body.
async fn send_raw(port: u16, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    if !request.is_empty() {
        // The listener may answer and close before reading all of a huge head.
        let _ = stream.write_all(request).await;
    }
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(StdDuration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

fn port_of(endpoint: &str) -> u16 {
    url::Url::parse(endpoint).unwrap().port().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_forged_redirects_are_refused_and_the_real_logins_still_finish() {
    let w = world().await;

    // A state spent by a finished login, and one whose login expired.
    let spent = w.authorize("spent").await;
    let accepted = w.core.redirects().route(&spent.location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();
    let late = w.authorize("late").await;
    w.clock.advance(Duration::minutes(11));

    let deep = w.authorize("deep").await;
    let looping = w.authorize("loop").await;
    assert!(deep.endpoint.starts_with("latchkey://callback"));
    assert!(looping.endpoint.starts_with("http://127.0.0.1:"));
    let port = port_of(&looping.endpoint);
    let deep_target = Target {
        own: &deep,
        other: &looping,
        spent_state: &spent.state,
        expired_state: &late.state,
    };
    let loop_target = Target {
        own: &looping,
        other: &deep,
        spent_state: &spent.state,
        expired_state: &late.state,
    };
    let set = generate(&deep_target, &loop_target, AT_LEAST);
    assert!(set.len() >= AT_LEAST);

    // The deep-link path.
    let started = Instant::now();
    let mut deep_refused = 0;
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for (what, url, _) in &set {
        match w.core.redirects().route(url) {
            Ok(accepted) => panic!(
                "{what}: accepted {url} for profile {}",
                accepted.login.profile_id
            ),
            Err(refused) => {
                let message = refused.to_string();
                assert!(
                    message.len() > 20 && message.contains("nothing"),
                    "{what}: {message}"
                );
                *reasons
                    .entry(
                        format!("{refused:?}")
                            .split('(')
                            .next()
                            .unwrap()
                            .to_string(),
                    )
                    .or_default() += 1;
                deep_refused += 1;
            }
        }
    }
    let deep_time = started.elapsed();

    // The loopback listener: every generated target, then the raw oddities,
    // a few at a time.
    let started = Instant::now();
    let mut loop_tried = 0;
    let mut loop_refused = 0;
    for chunk in set.chunks(8) {
        let answers: Vec<_> = chunk
            .iter()
            .map(|(what, _, target)| {
                let request = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
                let (what, target) = (what.clone(), target.clone());
                tokio::spawn(
                    async move { (what, target, send_raw(port, request.as_bytes()).await) },
                )
            })
            .collect();
        for answer in answers {
            let (what, target, (status, body)) = answer.await.unwrap();
            loop_tried += 1;
            assert!(
                (400..500).contains(&status) && body.contains("nothing was"),
                "{what}: {status} for {}: {body}",
                &target[..target.len().min(200)]
            );
            loop_refused += 1;
        }
    }
    for (what, request) in raw_requests(&looping) {
        loop_tried += 1;
        let (status, body) = send_raw(port, &request).await;
        if what == "closed at once" {
            // Nothing was asked, so there is nobody to answer; it must not
            // end the listener either (checked below by the genuine one).
            assert_eq!(status, 400, "{what}: {body}");
        } else {
            assert!((400..500).contains(&status), "{what}: {status}: {body}");
        }
        assert!(
            body.contains("nothing was changed") || body.contains("nothing was stored"),
            "{what}: {body}"
        );
        loop_refused += 1;
    }
    let loop_time = started.elapsed();

    // Nothing was stored for either waiting login.
    assert!(!w.holds_token("deep").await);
    assert!(!w.holds_token("loop").await);
    let mut waiting = w.core.redirects().waiting();
    waiting.sort();
    let ids = [
        w.core.profile_named("deep").await.unwrap().id,
        w.core.profile_named("loop").await.unwrap().id,
    ];
    assert_eq!(waiting, ids, "both logins still wait");

    // Slow connections that never finish their request hold nothing up.
    let mut stalled = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(b"GET /callback?state=").await.unwrap();
        stalled.push(s);
    }

    // The genuine redirects finish both logins.
    let accepted = w.core.redirects().route(&deep.location).unwrap();
    w.core.finish_redirect(accepted).await.unwrap();
    assert!(w.holds_token("deep").await);
    let mut outcomes = w.core.login_outcomes();
    let genuine_started = Instant::now();
    let page = w.browser.get(&looping.location).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let outcome = tokio::time::timeout(StdDuration::from_secs(20), outcomes.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(outcome.accepted, "{outcome:?}");
    assert!(
        genuine_started.elapsed() < StdDuration::from_secs(4),
        "not held up by the stalled connections"
    );
    assert!(w.holds_token("loop").await);
    drop(stalled);

    println!(
        "forged redirects: deep link tried {} refused {deep_refused} ({:.1} s); \
         loopback tried {loop_tried} refused {loop_refused} ({:.1} s); {} kinds of fault; refusals {reasons:?}",
        set.len(),
        deep_time.as_secs_f64(),
        loop_time.as_secs_f64(),
        faults(&deep_target).len(),
    );
    assert_eq!(deep_refused, set.len());
    assert_eq!(loop_refused, loop_tried);
}
