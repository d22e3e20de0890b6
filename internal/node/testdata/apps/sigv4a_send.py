"""Sends one request signed with SigV4a, as the resilience sample's clients
do, for Gyre's app authentication tests.

    sigv4a_send.py METHOD URL BODY REGION_SET ACCESS_KEY SECRET_KEY [HEADER=VALUE...]

signs with botocore's common-runtime signer for the service execute-api and
prints {"status": ..., "body": ...} of the response.
"""

import json
import sys
import urllib.error
import urllib.request

import botocore.auth  # before botocore.crt.auth, which it imports
import botocore.crt.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

method, url, body, region_set, access_key, secret_key = sys.argv[1:7]
headers = dict(h.split("=", 1) for h in sys.argv[7:])
if body:
    headers["Content-Type"] = "application/json"
req = AWSRequest(method=method, url=url, data=body.encode() if body else None, headers=headers)
botocore.crt.auth.CrtSigV4AsymAuth(Credentials(access_key, secret_key), "execute-api", region_set).add_auth(req)
prepared = req.prepare()
out = urllib.request.Request(prepared.url, data=prepared.body, method=method, headers=dict(prepared.headers.items()))
try:
    with urllib.request.urlopen(out, timeout=10) as resp:
        status, text = resp.status, resp.read().decode()
except urllib.error.HTTPError as e:
    status, text = e.code, e.read().decode()
print(json.dumps({"status": status, "body": text}))
