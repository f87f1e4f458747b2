#!/usr/bin/python3
"""POST-as-GET (RFC 8555 §6.3) of an ACME resource with an account's EC P-256 key, to look at
what the CA holds (e.g. an authorization's status) from an e2e test. Standard library and the
openssl command only.

    acme_get.py DIRECTORY_URL CA_BUNDLE ACCOUNT_KEY_PEM ACCOUNT_URL RESOURCE_URL

Prints the resource's JSON; exits 1 with the CA's answer on an error."""

import base64
import json
import ssl
import subprocess
import sys
import urllib.error
import urllib.request


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(der):
    """ECDSA-Sig-Value (SEQUENCE of two INTEGERs) -> r||s, 32 bytes each (JWS ES256)."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        value = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += value.rjust(32, b"\0")
        i += 2 + n
    return out


def main():
    directory_url, ca_bundle, key_pem, account_url, url = sys.argv[1:6]
    ctx = ssl.create_default_context(cafile=ca_bundle)
    with urllib.request.urlopen(directory_url, context=ctx, timeout=30) as r:
        directory = json.load(r)
    head = urllib.request.Request(directory["newNonce"], method="HEAD")
    with urllib.request.urlopen(head, context=ctx, timeout=30) as r:
        nonce = r.headers["Replay-Nonce"]
    protected = b64url(json.dumps({"alg": "ES256", "kid": account_url, "nonce": nonce,
                                   "url": url}).encode())
    signing_input = f"{protected}.".encode()
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_pem], input=signing_input,
                         capture_output=True, check=True).stdout
    body = json.dumps({"protected": protected, "payload": "",
                       "signature": b64url(der_to_raw(der))}).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/jose+json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            print(r.read().decode())
    except urllib.error.HTTPError as e:
        print(f"HTTP {e.code}: {e.read().decode()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
