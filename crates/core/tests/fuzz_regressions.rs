//! What the fuzz targets found, replayed: each input that crashed a target
//! (or broke what it checks) goes through the same entry point again, and the
//! behaviour it should have is asserted. `scripts/fuzz.sh` runs the fuzzers;
//! these keep the fixes.

use latchkey_core::fuzz_surface as surface;
use latchkey_core::tokens::{expiry_after, expiry_after_std, parse_expiry};
use time::macros::datetime;

/// The status byte of `surface::status_and_body` for 200.
const OK: u8 = 0;

fn with_status(status_byte: u8, body: &str) -> Vec<u8> {
    let mut data = vec![status_byte];
    data.extend_from_slice(body.as_bytes());
    data
}

#[test]
fn an_avassa_lifetime_past_the_year_9999_is_no_expiry_not_a_panic() {
    // avassa_answer crash-d818e250…: `from + Duration::seconds(i64::MAX)`.
    let (status, body) = surface::status_and_body(&with_status(
        OK,
        r#"{"token": "x", "expires-in": 9223372036854775807}"#,
    ));
    surface::avassa_answer(status, &body);
}

#[test]
fn an_oauth_expires_in_past_i64_is_no_expiry_not_one_in_the_past() {
    // github_answer crash-42593cd4… and oidc_token crash-d60998ec…:
    // `d.as_secs() as i64` turned u64::MAX into -1, a token that expired a
    // second before it was issued (and a larger i64 panicked).
    for body in [
        r#"{"access_token": "t", "token_type": "bearer", "expires_in": 18446744073709551615}"#,
        r#"{"access_token": "t", "token_type": "bearer", "expires_in": 9223372036854775807}"#,
        r#"{"access_token": "t", "token_type": "bearer", "expires_in": 9223372036854775}"#,
    ] {
        let (status, text) = surface::status_and_body(&with_status(OK, body));
        surface::github_answer(status, &text);
        surface::oidc_token(body.as_bytes());
    }
}

#[test]
fn an_access_token_whose_own_exp_is_past_is_recorded_as_it_says() {
    // oidc_token crash-40a4f3cf…: not a bug in Latchkey but in what the
    // target checked; without `expires_in` a JWT's own `exp` counts, even one
    // in the past. Kept so the target's check stays right.
    let claims = r#"{"aud":"x","exp":1696290709,"iat":1796287109,"sub":"user-1234"}"#;
    let body = format!(
        r#"{{"access_token":"eyJhbGciOiJSUzI1NiJ9.{}.c2ln","token_type":"Bearer"}}"#,
        base64url(claims)
    );
    surface::oidc_token(body.as_bytes());
}

fn base64url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[test]
fn quay_cookies_and_registry_tokens_with_absurd_lifetimes_do_not_panic() {
    for header in [
        "_csrf_token=abc; Max-Age=9223372036854775807",
        "_csrf_token=abc; Max-Age=-9223372036854775808",
    ] {
        surface::quay_answer(200, "{}", header);
    }
    surface::quay_answer(
        200,
        r#"{"token": "eyJhbGciOiJub25lIn0.e30.", "expires_in": 9223372036854775807}"#,
        "",
    );
}

#[test]
fn a_quay_retry_after_of_i64_max_is_said_in_hours_not_a_panic() {
    // quay_answer crash-a15a4554…: `(s + 3599) / 3600` overflowed for a
    // Retry-After of 9223372036854775807.
    let (status, rest) = surface::status_and_body(b"\xff\xe1P\x009223372036854775807");
    let (body, header) = rest.split_once('\0').unwrap();
    surface::quay_answer(status, body, header);
}

#[test]
fn expiry_arithmetic_saturates_to_no_expiry() {
    let now = datetime!(2026-06-01 09:00 UTC);
    assert_eq!(expiry_after(now, 60), Some(datetime!(2026-06-01 09:01 UTC)));
    assert_eq!(
        expiry_after(now, -60),
        Some(datetime!(2026-06-01 08:59 UTC))
    );
    assert_eq!(expiry_after(now, i64::MAX), None);
    assert_eq!(
        expiry_after_std(now, std::time::Duration::from_secs(u64::MAX)),
        None
    );
}

#[test]
fn a_typed_expiry_too_far_away_is_refused_with_a_message() {
    let now = datetime!(2026-06-01 09:00 UTC);
    for text in [
        "99999999999999d",
        "9223372036854775807s",
        "153722867280912930h",
    ] {
        let err = parse_expiry(text, now).unwrap_err();
        assert_eq!(err.field(), Some("token_expires"), "{text}: {err}");
        assert!(err.to_string().contains("9999"), "{err}");
    }
    assert_eq!(
        parse_expiry("30d", now).unwrap(),
        datetime!(2026-07-01 09:00 UTC)
    );
}

#[test]
fn the_transfer_target_reaches_its_round_trip_on_an_export_and_refuses_a_wrong_file() {
    // The seed the fuzzer starts from is a file `latchkey import` accepts,
    // so the target's write-and-read-back check runs, not only the parser.
    let export = include_str!("../../../fuzz/corpus/transfer_file/hand-0");
    assert!(surface::transfer_file(export));
    assert!(!surface::transfer_file("version = 2\n"));
    assert!(!surface::transfer_file(
        &export.replace("avassa-password", "avassa-pasword")
    ));
}

#[test]
fn an_avassa_answer_of_control_characters_is_refused_with_a_message() {
    // avassa_answer crash-fc1e70f8…: a 200 whose body is two control
    // characters (`\x05\x00`) was refused with an empty message, as was an
    // error whose own message is empty.
    for (status_byte, body) in [
        (OK, "\u{5}\u{0}"),
        (OK, r#"{"errors": [{"error-message": ""}]}"#),
        (4, r#"{"errors": [{"error-message": "\u0005"}]}"#),
        (11, "\u{5}\u{0}"),
        // crash-cd4c704e…: a 412 of `\x7f\t\x7f\0\0` was shown as " ".
        (9, "\u{7f}\t\u{7f}\u{0}\u{0}"),
    ] {
        let (status, text) = surface::status_and_body(&with_status(status_byte, body));
        surface::avassa_answer(status, &text);
    }
    let refused = latchkey_core::http::not_an_answer("https://edge.example", 502, "\u{5}\u{0}");
    assert!(
        refused.to_string().contains("nothing printable"),
        "{refused}"
    );
}

#[test]
fn a_masked_credential_that_is_also_part_of_an_ordinary_claim_is_still_masked() {
    // jwt_lenient crash-dd3938b0…: the check, not the masking, was wrong. The
    // `access_token` (`xxy` and 16 `x`) is also part of the ordinary claim
    // beside it, which the inspector shows as it is; the target counted
    // that as the credential shown whole. It now asks that the page show
    // the text no more often than the rest of the token holds it.
    let token = "Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAidXNlci0xIiwgImV4cCI6IDE3OTYyODU2OTEsICJpaWRlbnRpdGllcyI6IFt7InByb3ZpZGV9IjogImd4eHh4eHh4eHh4eHh5eHh4eHh4eHh4eHh4eHh4eHhpdGh0YiIsICJhY2Nlc3NfdG9rZW4iOiAieHh5eHh4eHh4eHh4eHh4eHh4eCJ9XX0.c2lnbmF0dXJl";
    surface::jwt_lenient(token);
    let decoded = latchkey_core::jwt::decode(token).unwrap();
    let secret = decoded.claims["iidentities"][0]["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut claims = decoded.claims.clone();
    let masked = latchkey_core::jwt::mask_credentials(&mut claims);
    assert_eq!(masked, ["iidentities[0].access_token"]);
    assert_ne!(claims["iidentities"][0]["access_token"], secret.as_str());
}
