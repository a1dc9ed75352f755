#!/usr/bin/env python3
"""Latchkey's logins against curl doing the same HTTP requests, for
scripts/bench.sh login (inside scripts/session.sh, with the sandbox running
and the profiles added).

    login.py --latchkey BIN --sandbox URL --password PW [-n RUNS] [--also LABEL=BIN ...]

(--also: another build of the CLI, logging in to the same profiles in the
same rounds, for an A/B of a change.)

Avassa password login: `latchkey login edge-alice --password-stdin` (one
POST /v1/login, then the token into the keyring and its metadata into the
store) against one curl POST of the same body.

OIDC loopback login: `latchkey login sso --no-browser` (discovery and JWKS,
then it waits on its loopback port; a browser, here curl, follows the
authorization URL it prints to the redirect and opens it; then the code is
exchanged and the tokens stored) against curl fetching the discovery
document, the authorization redirect, the token and the JWKS in turn: the
same requests, without the keyring and the store.

A third side, "curl+keyring", is how a script keeps its token in the
Secret Service: curl's requests, then the token they got stored by
Debian's `secret-tool store` (libsecret; attributes of its own, never a
key Latchkey uses). Against bare curl, Latchkey pays for the keyring and
the store, which curl does not do at all; against this side both keep
the token in the keyring (a second process and its own Secret Service
session here, so it is not a floor: Latchkey can be faster).

Every step of each is a process started the same way (posix_spawn, waited
for), so each side pays for the processes it needs. Rounds alternate the four;
prints medians, then, last, the client-side overhead of each login:
Latchkey / curl - 1 and Latchkey / (curl+keyring) - 1 (medians of the
round-by-round ratios).
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
import urllib.parse

CLIENT = "sandbox-oidc-client"


def spawn(argv, stdin=None, capture=False):
    """Runs argv to the end; its stdout when capture."""
    done = subprocess.run(
        argv, input=stdin, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE, check=False,
    )
    if done.returncode != 0:
        sys.exit(f"login.py: {' '.join(argv[:3])} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def latchkey_password(args, cli=None):
    spawn([cli or args.latchkey, "login", "edge-alice", "--password-stdin"],
          stdin=args.password.encode())


def curl_password(args, keep=False):
    body = json.dumps({"username": "alice", "password": args.password, "tenant": "acme"})
    answer = spawn(["curl", "-sSf", "-H", "Content-Type: application/json",
                    "-d", body, f"{args.sandbox}/avassa/v1/login"], capture=True)
    if keep:
        store_in_keyring("password", json.loads(answer)["token"])


def store_in_keyring(login, token):
    """What a client that keeps its token in the Secret Service must at least do."""
    spawn(["secret-tool", "store", "--label=latchkey bench floor",
           "service", "latchkey-bench-floor", "login", login], stdin=token.encode())


def latchkey_oidc(args, cli=None):
    proc = subprocess.Popen(
        [cli or args.latchkey, "login", "sso", "--no-browser"], stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    url = proc.stdout.readline().decode().strip()
    redirect = spawn(["curl", "-sS", "-o", "/dev/null", "-w", "%{redirect_url}", url],
                     capture=True).decode()
    spawn(["curl", "-sSf", "-o", "/dev/null", redirect])
    _, err = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"login.py: latchkey login sso failed: {err.decode(errors='replace')}")


def curl_oidc(args, keep=False):
    issuer = f"{args.sandbox}/oidc"
    discovery = json.loads(spawn(
        ["curl", "-sSf", f"{issuer}/.well-known/openid-configuration"], capture=True))
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    redirect_uri = "http://127.0.0.1:9/callback"
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": CLIENT, "redirect_uri": redirect_uri,
        "scope": "openid offline_access", "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16), "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    location = spawn(["curl", "-sS", "-o", "/dev/null", "-w", "%{redirect_url}",
                      f"{discovery['authorization_endpoint']}?{query}"], capture=True).decode()
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)["code"][0]
    tokens = spawn(["curl", "-sSf", "-d", "grant_type=authorization_code",
                    "-d", f"code={code}", "-d", f"redirect_uri={redirect_uri}",
                    "-d", f"client_id={CLIENT}", "-d", f"code_verifier={verifier}",
                    discovery["token_endpoint"]], capture=True)
    spawn(["curl", "-sSf", "-o", "/dev/null", discovery["jwks_uri"]])
    if keep:
        tokens = json.loads(tokens)
        store_in_keyring("oidc", tokens["access_token"])
        if "refresh_token" in tokens:
            store_in_keyring("oidc-refresh", tokens["refresh_token"])


VARIANTS = [
    ("Avassa password login", "latchkey", latchkey_password),
    ("Avassa password login", "curl", curl_password),
    ("Avassa password login", "curl+keyring", lambda args: curl_password(args, keep=True)),
    ("OIDC loopback login", "latchkey", latchkey_oidc),
    ("OIDC loopback login", "curl", curl_oidc),
    ("OIDC loopback login", "curl+keyring", lambda args: curl_oidc(args, keep=True)),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latchkey", required=True)
    parser.add_argument("--sandbox", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("-n", "--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=BIN")
    args = parser.parse_args()
    variants = list(VARIANTS)
    for also in args.also:
        label, _, cli = also.partition("=")
        if not cli:
            sys.exit(f"login.py: --also '{also}' is not LABEL=BIN")
        variants += [
            ("Avassa password login", label, lambda args, cli=cli: latchkey_password(args, cli)),
            ("OIDC loopback login", label, lambda args, cli=cli: latchkey_oidc(args, cli)),
        ]

    times = {(login, who): [] for login, who, _ in variants}
    rounds = []
    for r in range(args.warmup + args.runs):
        this_round = {}
        shift = r % len(variants)
        for login, who, run in variants[shift:] + variants[:shift]:
            start = time.perf_counter()
            run(args)
            took = time.perf_counter() - start
            if r >= args.warmup:
                times[(login, who)].append(took)
                this_round[(login, who)] = took
        if r >= args.warmup:
            rounds.append(this_round)

    print(f"{args.runs} rounds, interleaved, after {args.warmup} warm-up rounds")
    for (login, who), t in times.items():
        print(f"{login}, {who:12}  median {statistics.median(t) * 1000:7.1f} ms  "
              f"(min {min(t) * 1000:.1f}, max {max(t) * 1000:.1f})")
    overheads = []
    for login in dict.fromkeys(login for login, _, _ in VARIANTS):
        parts = []
        for floor in ("curl", "curl+keyring") + tuple(a.partition("=")[0] for a in args.also):
            ratio = statistics.median(r[(login, "latchkey")] / r[(login, floor)] for r in rounds)
            parts.append(f"{ratio:.2f}x {floor}, overhead {(ratio - 1) * 100:+.0f} %")
        overheads.append(f"{login}: " + ", ".join(parts))
    print("client-side overhead, Latchkey / curl and / curl+keyring "
          "(median of round-by-round ratios): " + "; ".join(overheads))


if __name__ == "__main__":
    main()
