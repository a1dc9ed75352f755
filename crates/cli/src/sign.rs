//! `latchkey sign PROFILE METHOD URL [--data STRING|@FILE|@-] [--format headers|curl|json]`
//! signs a DCI request with a `dci-hmac` profile's key
//! ([`Latchkey::sign_request`]); `latchkey sign PROFILE --check` sends a
//! signed identity request and prints whose key it is
//! ([`Latchkey::dci_identity`]).
//!
//! The URL may be a path on the profile's server (`/api/v1/jobs?limit=10`).
//! The signature covers the exact `Host`, path, query and body bytes, so the
//! request must go out as printed: the URL as given back, the body unchanged.
//! Results go to stdout; what to do with them goes to stderr.

use latchkey_core::dci::SignedRequest;
use latchkey_core::{Error, Latchkey};
use serde_json::{json, Map, Value};
use std::io::Read;

#[derive(clap::Args)]
pub struct SignArgs {
    /// The dci-hmac profile whose key signs
    profile: String,
    /// The HTTP method, e.g. GET, POST, PUT or DELETE
    #[arg(required_unless_present = "check")]
    method: Option<String>,
    /// An absolute URL, or a path on the profile's server such as
    /// '/api/v1/jobs?where=name:foo bar'
    #[arg(required_unless_present = "check")]
    url: Option<String>,
    /// The body, byte for byte as it will be sent: text, @FILE, or @- for stdin
    #[arg(long, value_name = "STRING|@FILE|@-")]
    data: Option<String>,
    /// headers: the X-DCI-Date and Authorization lines; curl: a ready curl
    /// line; json: everything, with the canonical request and string to sign
    #[arg(long, value_enum, conflicts_with_all = ["curl", "json"])]
    format: Option<SignFormat>,
    /// Same as --format curl
    #[arg(long, conflicts_with = "json")]
    curl: bool,
    /// Same as --format json
    #[arg(long)]
    json: bool,
    /// Send a signed GET /api/v1/identity and print whose key this is (and
    /// how far this computer's clock is from the server's)
    #[arg(long, conflicts_with_all = ["method", "url", "data", "curl"])]
    check: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SignFormat {
    Headers,
    Curl,
    Json,
}

impl SignArgs {
    fn format(&self) -> SignFormat {
        match (self.format, self.curl, self.json) {
            (Some(f), _, _) => f,
            (None, true, _) => SignFormat::Curl,
            (None, _, true) => SignFormat::Json,
            _ => SignFormat::Headers,
        }
    }
}

/// The body and, when it came from a file, the file (for curl to read).
struct Body {
    bytes: Vec<u8>,
    file: Option<String>,
    from_stdin: bool,
}

fn read_body(data: Option<&str>) -> Result<Body, Error> {
    let Some(data) = data else {
        return Ok(Body {
            bytes: Vec::new(),
            file: None,
            from_stdin: false,
        });
    };
    match data.strip_prefix('@') {
        Some("-") => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(|e| {
                Error::invalid("data", format!("cannot read the body from stdin: {e}"))
            })?;
            Ok(Body {
                bytes,
                file: None,
                from_stdin: true,
            })
        }
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Error::invalid("data", format!("cannot read {path}: {e}")))?;
            Ok(Body {
                bytes,
                file: Some(path.to_string()),
                from_stdin: false,
            })
        }
        None => Ok(Body {
            bytes: data.as_bytes().to_vec(),
            file: None,
            from_stdin: false,
        }),
    }
}

pub async fn run(core: &Latchkey, args: SignArgs) -> Result<(), Error> {
    if args.check {
        return check(core, &args.profile, args.format() == SignFormat::Json).await;
    }
    let (Some(method), Some(url)) = (args.method.as_deref(), args.url.as_deref()) else {
        return Err(Error::invalid(
            "url",
            "give the METHOD and URL to sign, e.g. `latchkey sign PROFILE GET /api/v1/identity`",
        ));
    };
    let body = read_body(args.data.as_deref())?;
    let signed = core
        .sign_request(&args.profile, method, url, &body.bytes)
        .await?;
    core.record_signed(&args.profile, &signed).await?;
    let curl = match &body.file {
        Some(path) => signed.curl_with_body_file(path),
        None => signed.curl.clone(),
    };
    match args.format() {
        SignFormat::Headers => {
            for (name, value) in signed.headers() {
                println!("{name}: {value}");
            }
            eprintln!("{}", advice(&signed));
        }
        SignFormat::Curl => {
            println!("{curl}");
            if body.file.is_none() && signed.curl_reads_stdin() {
                eprintln!(
                    "the body is not text a shell line can hold: pipe the same bytes into this curl line{}",
                    if body.from_stdin { " (as you did into latchkey)" } else { "" }
                );
            }
        }
        SignFormat::Json => println!("{}", to_json(&signed, &curl)),
    }
    Ok(())
}

/// What the caller must keep as it is for the signature to hold.
fn advice(signed: &SignedRequest) -> String {
    let mut text = format!(
        "signed {} {} (Host {}); valid for 15 minutes either side of X-DCI-Date",
        signed.method, signed.url, signed.host
    );
    if let Some(ct) = &signed.content_type {
        text.push_str(&format!(
            "; send the body unchanged ({} bytes) with Content-Type: {ct}",
            signed.body.len()
        ));
    }
    text
}

fn to_json(signed: &SignedRequest, curl: &str) -> Value {
    let mut headers = Map::new();
    for (name, value) in signed.headers() {
        headers.insert(name.into(), json!(value));
    }
    if let Some(ct) = &signed.content_type {
        headers.insert("Content-Type".into(), json!(ct));
    }
    let mut doc = serde_json::to_value(signed).expect("a signed request serializes");
    if let Value::Object(map) = &mut doc {
        map.insert("headers".into(), Value::Object(headers));
        map.insert("curl".into(), json!(curl));
        map.insert("body_length".into(), json!(signed.body.len()));
    }
    doc
}

async fn check(core: &Latchkey, profile: &str, as_json: bool) -> Result<(), Error> {
    let items = core.dci_identity(profile).await?;
    if as_json {
        let identity: Map<String, Value> = items
            .iter()
            .map(|i| (i.name.clone(), json!(i.value)))
            .collect();
        println!("{}", json!({"profile": profile, "identity": identity}));
    } else {
        for item in &items {
            println!("{}: {}", item.name, item.value);
        }
        eprintln!("the server accepts the key of {profile}");
    }
    Ok(())
}
