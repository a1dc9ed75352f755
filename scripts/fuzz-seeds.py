#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/TARGET/*), which are
committed: the protocol vectors (/work/shared/protocols/vectors or
$LATCHKEY_VECTORS), answers captured from a running latchkey-sandbox (its
base URL as the first argument, e.g. from `target/debug/latchkey-sandbox`),
and a few hand-made edge cases. Run it again when a protocol changes:

    target/debug/latchkey-sandbox --port 0 > /tmp/sb & sleep 1
    scripts/fuzz-seeds.py "$(head -1 /tmp/sb)"
"""

import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
VECTORS = os.environ.get("LATCHKEY_VECTORS", "/work/shared/protocols/vectors")
# The first byte of an answer target's input picks the HTTP status:
# scripts' index into fuzz_surface::STATUSES.
STATUS = {200: 0, 201: 1, 204: 2, 302: 3, 400: 4, 401: 5, 403: 6, 404: 7,
          405: 8, 412: 9, 429: 10, 500: 11, 502: 12, 503: 13}


def seed(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def answer_seed(target, name, status, body, extra=b""):
    if isinstance(body, str):
        body = body.encode()
    seed(target, name, bytes([STATUS[status]]) + body + extra)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def call(method, url, data=None, headers=None):
    """Status, headers and body of one request, redirects not followed."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as res:
            return res.status, res.headers, res.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(header, claims, sig=b"signature"):
    return ".".join([b64url(json.dumps(header).encode()),
                     b64url(json.dumps(claims).encode()), b64url(sig)])


def hand_made():
    hs = jwt({"alg": "HS256", "typ": "JWT"},
             {"sub": "user-1", "exp": 1796285691, "iat": 1796282091,
              "identities": [{"provider": "github", "access_token": "gho_" + "x" * 36}]})
    padded = ".".join(base64.b64encode(p.encode()).decode()
                      for p in ['{"alg":"HS256"}', '{"user_id":"1","exp":1.5e9}', "sig"])
    for i, t in enumerate([hs, padded, "Bearer " + hs, hs[:40], "a.b.c.d.e",
                           jwt({"alg": "none"}, {"exp": "tomorrow", "nbf": 1e300}),
                           jwt({"alg": "RS256", "kid": "k1"}, {"aud": ["a", "b"]})]):
        seed("jwt_lenient", f"hand-{i}", t)
        seed("jwt_strict", f"hand-{i}", t + "\nsecret")
    seed("jwt_strict", "jwks", hs + "\n" + json.dumps({"keys": [
        {"kty": "RSA", "kid": "k1", "n": "sXch", "e": "AQAB", "alg": "RS256"},
        {"kty": "EC", "crv": "P-256", "x": "f83O", "y": "x_FE"}]}))
    seed("jwt_strict", "pem", hs + "\n-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n")

    deep = "latchkey://callback"
    loop = "http://127.0.0.1:8765/callback"
    for i, u in enumerate([
            f"{deep}?code=c&state=state-deep",
            f"{loop}?code=c&state=state-loop&iss=https%3A%2F%2Fid.example",
            f"{loop}?state=state-loop&iss=https%3A%2F%2Fevil.example",
            f"{deep}?state=evil&state=state-deep",
            f"{deep}?error=access_denied&error_description=no&state=state-deep",
            f"{loop}?scope=repo&state=state-loop#access_token=tok&token_type=Bearer&expires_in=315576000",
            f"{deep}/x?state=state-deep", "https://evil.example/callback?state=state-deep",
            f"{deep}?state=%FF%FE", ""]):
        seed("redirect_router", f"hand-{i}", u)

    for i, loc in enumerate([
            "http://127.0.0.1:8765/cb?scope=repo%3Aread+user%3Aread&state=xyz#access_token=Zq3abc&token_type=Bearer&expires_in=315576000",
            "http://127.0.0.1:8765/cb?error=unauthorized_client&state=xyz",
            "/oauth/localapp#access_token=abc", "not a url at all", "//evil.example/#x=%"]):
        seed("quay_location", f"hand-{i}", loc)

    avassa = [(200, {"token": "t" * 36, "expires-in": 3600, "accessor": "acc",
                     "creation-time": "2026-06-01T09:00:00Z", "renewal-time": "2026-06-01T09:00:00Z"}),
              (200, {"token": "t" * 36, "expires": "2026-06-01T10:00:00Z"}),
              (200, {"totp-required": True}),
              (200, {"token": "x", "expires-in": 9223372036854775807}),
              (401, {"errors": [{"error-message": "Login failed: bad password"}]}),
              (503, {"errors": [{"error-message": "sealed"}]})]
    for i, (status, body) in enumerate(avassa):
        answer_seed("avassa_answer", f"hand-{i}", status, json.dumps(body))
    answer_seed("avassa_answer", "html", 502, "<html><body>Bad gateway</body></html>")

    gh = [(200, {"access_token": "gho_" + "a" * 36, "token_type": "bearer", "scope": "repo,read:org"}),
          (200, {"access_token": "ghu_x", "expires_in": 28800, "refresh_token": "ghr_y",
                 "refresh_token_expires_in": 15811200, "token_type": "bearer", "scope": ""}),
          (200, {"error": "authorization_pending", "error_description": "wait"}),
          (200, {"device_code": "d" * 40, "user_code": "ABCD-1234", "verification_uri": "https://github.com/login/device",
                 "expires_in": 900, "interval": 5}),
          (200, {"jwt": jwt({"alg": "HS256"}, {"user_id": "1"}), "user_id": "1"}),
          (401, {"Message": "Access Token is empty"}),
          (200, {"access_token": "t", "token_type": "bearer", "expires_in": 18446744073709551615})]
    for i, (status, body) in enumerate(gh):
        answer_seed("github_answer", f"hand-{i}", status, json.dumps(body))

    quay = [(200, {"username": "alice", "email": "a@example.com", "verified": True,
                   "organizations": [{"name": "acme", "is_org_admin": True}], "super_user": False}),
            (200, {"authorizations": [{"uuid": "u1", "scopes": [{"scope": "repo:read"}, "user:read"]}]}),
            (200, {"token": jwt({"alg": "RS256"}, {"access": [{"type": "repository", "name": "acme/app", "actions": ["pull"]}],
                                                 "context": {"oauth": "u1"}}), "expires_in": 3600}),
            (403, {"needsEmailVerification": False, "invalidCredentials": True, "message": "Invalid Username or Password"}),
            (429, {"detail": "slow down"}),
            (401, {"errors": [{"code": "UNAUTHORIZED", "message": "access to the requested resource is not authorized"}]})]
    headers = ["_csrf_token=abc; Max-Age=2678400; Path=/; HttpOnly",
               'Bearer realm="https://quay.example/v2/auth",service="quay.example"',
               "120", "session=; Expires=Sun, 06 Nov 1994 08:49:37 GMT"]
    for i, (status, body) in enumerate(quay):
        answer_seed("quay_answer", f"hand-{i}", status, json.dumps(body), b"\0" + headers[i % len(headers)].encode())

    dci = [(200, {"identity": {"id": "3a8e", "name": "sandbox-remoteci", "fullname": "Sandbox",
                               "teams": {"8d6c": {"team_name": "sandbox-lab"}}}}),
           (401, {"status_code": 401, "message": "Authentication failed: signature is expired", "payload": {}}),
           (401, {"status_code": 401, "message": "signature is invalid"}),
           (412, {"message": "team is not active"}),
           (200, {"identity": []})]
    for i, (status, body) in enumerate(dci):
        answer_seed("dci_answer", f"hand-{i}", status, json.dumps(body), b"\0Sun, 06 Nov 1994 08:49:37 GMT")

    for name, body in [("error", {"error": "invalid_grant", "error_description": "reused"}),
                       ("minimal", {"access_token": "a", "token_type": "Bearer"}),
                       ("huge-expiry", {"access_token": "a", "token_type": "Bearer", "expires_in": 18446744073709551615})]:
        seed("oidc_token", f"hand-{name}", json.dumps(body))

    transfer = [
        """version = 1

[[server]]
name = "edge"
kind = "avassa"
url = "https://api.edge.example"
tenants = ["acme", "beta"]

[[server]]
name = "idp"
kind = "oidc"
url = "https://id.example/realms/dev"
ca_pem = \"\"\"-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUNnBvAWfC0RwnMLBu+IWSPfuhiQMwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKaWQuZXhhbXBsZTAeFw0yNjEyMDMxMDMzNTNaFw0zNjExMzAx
MDMzNTNaMBUxEzARBgNVBAMMCmlkLmV4YW1wbGUwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQEcumvtBzGZqkbk/aNSo+ZfcVJCx9iCTrORPPgxCdsYB4E+wsGLNkg
V9ubh0bXZQDR5qc43sLfJphwv35Y7txZo1MwUTAdBgNVHQ4EFgQUoM2V6sWyPDTh
XkMfoxeK15NCIl8wHwYDVR0jBBgwFoAUoM2V6sWyPDThXkMfoxeK15NCIl8wDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBZL8AMQWyIWWXuHkcAAL6O
ftW1xNi8lvtrx6ehvdnlDAIhAK+Bjj+VAh/7WbOqwy2gv78OG3n76dF3fhLnTvI7
DtX6
-----END CERTIFICATE-----\"\"\"

[[profile]]
name = "edge-alice"
server = "edge"
tenant = "acme"
login = "avassa-password"
label = "on call"

[profile.settings]
username = "alice"

[[profile]]
name = "dev"
server = "idp"
login = "oidc"

[profile.settings]
client_id = "cli"
scopes = ["openid", "offline_access"]
redirect = "loopback"
""",
        "version = 2\n",
        "[[server]]\nname = \"x\"\n",
        "version = 1\n[[server]]\nname = \"q\"\nkind = \"quay\"\nurl = \"https://quay.example\"\ncolour = \"red\"\n",
        "version = 1\n[[profile]]\nname = \"p\"\nserver = \"nowhere\"\nlogin = \"quay-registry\"\n[profile.settings]\nregistry = \"quay.example\"\nscopes = [\"repository:acme/app:pull\"]\n",
        "version = 1\n[[profile]]\nname = \"p\"\nserver = \"s\"\nlogin = \"oidc\"\n[profile.settings]\nusername = { a = 1 }\n",
        "version = \"1\"\n",
    ]
    for i, text in enumerate(transfer):
        seed("transfer_file", f"hand-{i}", text)


def vectors():
    path = os.path.join(VECTORS, "dci_vectors.json")
    if not os.path.exists(path):
        print(f"no vectors at {VECTORS}: skipped", file=sys.stderr)
        return
    for i, v in enumerate(json.load(open(path))):
        inp = v["input"]
        query = urllib.parse.urlencode(inp.get("params") or {})
        url = f"https://{inp['host']}{inp['endpoint']}" + (f"?{query}" if query else "")
        data = inp.get("data") or ""
        if not isinstance(data, str):
            data = json.dumps(data)
        seed("dci_canonical", f"vector-{i}", f"{inp['method']}\n{url}\n{inp['access_key']}\n{data}")


def sandbox(base):
    got = 0
    for flavor in ["oidc", "auth0"]:
        status, _, body = call("GET", f"{base}/{flavor}/.well-known/openid-configuration")
        if status == 200:
            seed("oidc_discovery", f"sandbox-{flavor}", body)
            meta = json.loads(body)
            s, _, jwks = call("GET", meta["jwks_uri"])
            if s == 200:
                seed("oidc_jwks", f"sandbox-{flavor}", jwks)
            got += 1
        client = "sandbox-oidc-client" if flavor == "oidc" else "sandbox-auth0-client"
        verifier = "v" * 50
        challenge = b64url(hashlib.sha256(verifier.encode()).digest())
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": client, "redirect_uri": "latchkey://callback",
            "scope": "openid email offline_access", "state": "state-deep", "nonce": "n",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        s, h, _ = call("GET", f"{base}/{flavor}/authorize?{q}")
        location = h.get("Location") if h else None
        if s in (302, 303) and location:
            seed("redirect_router", f"sandbox-{flavor}", location)
            code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
            form = urllib.parse.urlencode({
                "grant_type": "authorization_code", "code": code, "redirect_uri": "latchkey://callback",
                "client_id": client, "code_verifier": verifier}).encode()
            for attempt in ["token", "reused"]:
                s, _, body = call("POST", meta["token_endpoint"], form,
                                  {"Content-Type": "application/x-www-form-urlencoded"})
                seed("oidc_token", f"sandbox-{flavor}-{attempt}", body)
                if attempt == "token" and s == 200:
                    idt = json.loads(body).get("id_token")
                    if idt:
                        seed("jwt_lenient", f"sandbox-{flavor}-id-token", idt)
                        seed("jwt_strict", f"sandbox-{flavor}-id-token", idt + "\n" + jwks.decode())
            got += 1
    for user, pw in [("alice", "alice-sandbox-password"), ("alice", "wrong"), ("bob", "bob-sandbox-password")]:
        s, _, body = call("POST", f"{base}/avassa/v1/login",
                          json.dumps({"username": user, "password": pw, "tenant": "acme"}).encode(),
                          {"Content-Type": "application/json"})
        if s in STATUS:
            answer_seed("avassa_answer", f"sandbox-{user}-{pw[:5]}", s, body)
            got += 1
    robot = base64.b64encode(b"acme+deployer:R0B0TT0KENACMEDEPL0YER0000000000SANDB0X0NLY000000000000000000001").decode()
    s, h, body = call("GET", f"{base}/quay/v2/auth?service=" + urllib.parse.quote(base.split("//")[1]) +
                      "&scope=repository:acme/web:pull", headers={"Authorization": f"Basic {robot}"})
    if s in STATUS:
        answer_seed("quay_answer", "sandbox-v2-auth", s, body)
        got += 1
    s, h, body = call("GET", f"{base}/quay/v2/")
    if s in STATUS and h and h.get("WWW-Authenticate"):
        answer_seed("quay_answer", "sandbox-v2-challenge", s, body, b"\0" + h["WWW-Authenticate"].encode())
    s, h, body = call("GET", f"{base}/quay/csrf_token")
    if s in STATUS:
        cookie = (h.get("Set-Cookie") or "").encode() if h else b""
        answer_seed("quay_answer", "sandbox-csrf", s, body, b"\0" + cookie)
        got += 1
    print(f"captured from the sandbox: {got} exchanges", file=sys.stderr)


if __name__ == "__main__":
    hand_made()
    vectors()
    if len(sys.argv) > 1:
        sandbox(sys.argv[1].rstrip("/"))
    for t in sorted(os.listdir(CORPUS)):
        print(f"{t}: {len(os.listdir(os.path.join(CORPUS, t)))} seeds")
