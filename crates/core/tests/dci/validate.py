"""Checks signed DCI requests with dciauth from PyPI, as the DCI server does.

Usage: python validate.py CASES.json

CASES.json is a list of requests as Latchkey would send them:

    {"id": "...", "method": "POST", "url": "https://host:8443/path?query",
     "headers": {"X-DCI-Date": "...", "Authorization": "...", ...},
     "body_b64": "...", "secret": "...", "now": "20250102T030405Z"}

For each, this reads the request the way the server's stack does (the HTTP
client's Host header, werkzeug's decoded path and first-value query dict,
the raw body bytes), then calls dciauth.v2.headers.parse_headers and
dciauth.v2.signature.is_valid exactly as dci/auth_mechanism.py's
HmacMechanism does, with dciauth's clock frozen at "now". It also has
dciauth generate the headers for the same request and timestamp.

Prints one JSON line per case: {"id", "valid", "message", "authorization"}.
"""

import base64
import datetime
import json
import sys
from urllib.parse import parse_qsl, unquote, urlsplit

import dciauth.v2.signature as signature
from dciauth.v2.headers import generate_headers, parse_headers

TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def host_header(parts):
    """The Host an HTTP client sends: the default port left out."""
    netloc = parts.netloc.rsplit("@", 1)[-1]
    default = {"http": ":80", "https": ":443"}.get(parts.scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return netloc


def server_view(case):
    """method, endpoint, params, data as HmacMechanism passes them."""
    parts = urlsplit(case["url"])
    # The WSGI server percent-decodes the path; werkzeug reads it as UTF-8.
    endpoint = unquote(parts.path, errors="replace")
    params = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True, errors="replace"):
        # request.args.to_dict(flat=True) keeps a key's first value.
        params.setdefault(key, value)
    data = base64.b64decode(case["body_b64"])
    return {
        "method": case["method"].upper(),
        "endpoint": endpoint,
        "data": data,
        "params": params,
    }, host_header(parts)


def check(case):
    request, host = server_view(case)
    headers = dict(case["headers"])
    headers["Host"] = host
    now = datetime.datetime.strptime(case["now"], TIMESTAMP_FORMAT)
    signature.get_now = lambda: now
    parsed = parse_headers(headers)
    valid, message = signature.is_valid(
        dict(request), {"secret_key": case["secret"]}, parsed
    )
    # dciauth's own signer on what the server read, at the client's time.
    regenerated = None
    reparsed = parse_headers(headers)
    if reparsed is not None:
        again = dict(request)
        again.update(
            {
                "host": host,
                "timestamp": reparsed["timestamp"],
                "datestamp": reparsed["datestamp"],
            }
        )
        access_key = "%s/%s" % (reparsed["client_type"], reparsed["client_id"])
        regenerated = generate_headers(
            again, {"access_key": access_key, "secret_key": case["secret"]}
        ).get("Authorization")
    return {
        "id": case["id"],
        "valid": valid,
        "message": message,
        "authorization": regenerated,
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    results = [check(case) for case in cases]
    for result in results:
        print(json.dumps(result, ensure_ascii=False))
    valid = sum(1 for r in results if r["valid"])
    print("dciauth: %d valid, %d invalid" % (valid, len(results) - valid), file=sys.stderr)


if __name__ == "__main__":
    main()
