#!/usr/bin/python3
"""A `certsmith acme issue --dns01-hook` for tests: sets or clears the TXT record in
pebble-challtestsrv ($PEBBLE_CHALLTESTSRV_URL) and appends each call to $HOOK_LOG.

    challtestsrv_dns01_hook.py present|cleanup <record-name> <txt-value>

With HOOK_MANGLE=1 it publishes a wrong value (to drive a failed validation)."""
import json
import os
import sys
import urllib.request


def post(path, body):
    req = urllib.request.Request(os.environ["PEBBLE_CHALLTESTSRV_URL"] + path,
                                 data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req, timeout=10).close()


def main():
    action, name, value = sys.argv[1:4]
    fqdn = name if name.endswith(".") else name + "."
    log = os.environ.get("HOOK_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps({"action": action, "name": name, "value": value,
                                "env_domain": os.environ.get("CERTSMITH_DOMAIN"),
                                "env_value": os.environ.get("CERTSMITH_TXT_VALUE"),
                                "env_has_hmac": "CERTSMITH_EAB_HMAC_KEY" in os.environ}) + "\n")
    if action == "present":
        if os.environ.get("HOOK_MANGLE") == "1":
            value = "wrong-" + value
        post("/set-txt", {"host": fqdn, "value": value})
    elif action == "cleanup":
        post("/clear-txt", {"host": fqdn})
    else:
        print(f"unknown action {action}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
