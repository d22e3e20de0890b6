"""Signs requests with botocore, for Gyre's sigv4 interop tests.

Reads one JSON object on stdin:

    {"access_key": "...", "secret_key": "...", "time": <unix seconds>,
     "requests": [{"name": "...", "signer": "v4a" | "v4a-query" | "v4",
                   "region": "*", "service": "execute-api",
                   "method": "POST", "url": "http://...", "headers": {...},
                   "body": "...", "expires": 300, "token": "...",
                   "access_key": "...", "secret_key": "...", "send": false}]}

and prints {"results": [...]} with, for each request, the method, URL,
headers (a list of [name, value] pairs, in order) and body as signed. With
"send", the script also sends the signed request itself, with requests for
the header forms and with urllib for presigned URLs, and adds the response's
status and body. Signing happens at "time", so the caller controls the clock.

SigV4a ("v4a", "v4a-query") uses botocore's common-runtime signers
(CrtSigV4AsymAuth, CrtSigV4AsymQueryAuth), for which "region" is the region
set; SigV4 ("v4") uses botocore's own SigV4Auth.
"""

import datetime
import json
import sys
import types
import urllib.error
import urllib.request

import botocore.auth  # before botocore.crt.auth, which it imports
import botocore.crt.auth
import requests
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def fix_clock(when):
    """Makes botocore's signers sign at when (a UTC datetime)."""

    class FixedDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when.replace(tzinfo=None)

    fixed = types.SimpleNamespace(datetime=FixedDatetime, timezone=datetime.timezone)
    botocore.auth.datetime = fixed
    botocore.crt.auth.datetime = fixed


def signer_for(spec, creds):
    kind = spec["signer"]
    if kind == "v4a":
        return botocore.crt.auth.CrtSigV4AsymAuth(creds, spec["service"], spec["region"])
    if kind == "v4a-query":
        return botocore.crt.auth.CrtSigV4AsymQueryAuth(
            creds, spec["service"], spec["region"], expires=spec.get("expires", 3600))
    if kind == "v4":
        return botocore.auth.SigV4Auth(creds, spec["service"], spec["region"])
    raise ValueError("unknown signer %r" % kind)


def send(method, url, headers, body, presigned):
    if presigned:
        req = urllib.request.Request(url, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()
    resp = requests.request(method, url, headers=dict(headers), data=body.encode(), timeout=30)
    return resp.status_code, resp.text


def main():
    job = json.load(sys.stdin)
    fix_clock(datetime.datetime.fromtimestamp(job["time"], tz=datetime.timezone.utc))
    results = []
    for spec in job["requests"]:
        creds = Credentials(
            spec.get("access_key", job["access_key"]),
            spec.get("secret_key", job["secret_key"]),
            spec.get("token"))
        body = spec.get("body", "")
        req = AWSRequest(
            method=spec["method"], url=spec["url"],
            headers=spec.get("headers", {}), data=body.encode())
        signer_for(spec, creds).add_auth(req)
        headers = [[k, v] for k, v in req.headers.items()]
        # A presigned request moves what it signs into the URL.
        body = req.body.decode() if isinstance(req.body, bytes) else (req.body or "")
        out = {"name": spec["name"], "method": req.method, "url": req.url,
               "headers": headers, "body": body}
        if spec.get("send"):
            out["status"], out["response"] = send(
                req.method, req.url, headers, body, spec["signer"].endswith("-query"))
        results.append(out)
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
