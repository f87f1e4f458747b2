#!/usr/bin/env bash
# Starts the real `certsmith solver` on a free loopback port and fetches challenges with curl,
# as the CA's validator (through the solver Service/Ingress) would; then stops it with SIGTERM,
# as the kubelet does, and checks that it exits promptly and cleanly.
set -euo pipefail
bin=${CERTSMITH_BIN:?CERTSMITH_BIN is not set}
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
"$bin" solver --help >/dev/null 2>&1 || { echo "SKIP: this certsmith has no solver command"; exit 77; }

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

token1=evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA
key1=$token1.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI
token2=second_token-2
key2=$token2.thumb2

"$bin" solver --listen 127.0.0.1:0 --domain www.example.test --token "$token1" --key "$key1" \
  --domain api.example.test --token "$token2" --key "$key2" >"$work/log" 2>&1 &
pid=$!

port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*msg="\{0,1\}listening"\{0,1\} .*port=\([0-9]*\).*/\1/p' "$work/log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log"; echo "FAIL: solver exited early"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/log"; echo "FAIL: solver did not report its port"; exit 1; }

fail=0
check() {  # check NAME WANT_CODE WANT_BODY HOST PATH
  local out code body
  out=$(curl -s -m 5 -H "Host: $4" -w '\n%{http_code}' "http://127.0.0.1:$port$5")
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  if [ "$code" != "$2" ] || { [ -n "$3" ] && [ "$body" != "$3" ]; }; then
    echo "FAIL: $1: got $code '$body', want $2 '$3'"
    fail=1
  else
    echo "ok: $1"
  fi
}
check "first challenge" 200 "$key1" www.example.test:80 "/.well-known/acme-challenge/$token1"
check "second challenge" 200 "$key2" api.example.test "/.well-known/acme-challenge/$token2"
check "unknown token" 404 "" www.example.test "/.well-known/acme-challenge/nope"
check "other path" 404 "" www.example.test "/"
check "prefix only" 404 "" www.example.test "/.well-known/acme-challenge/"

if grep -q -- "$key1" "$work/log"; then echo "FAIL: key authorization in the log"; fail=1; fi

kill -TERM "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: solver still running 5 s after SIGTERM"; fail=1
else
  wait "$pid" && rc=0 || rc=$?
  pid=""
  [ "$rc" = 0 ] || { echo "FAIL: exit code $rc after SIGTERM"; fail=1; }
  grep -Eq 'msg="?stopping' "$work/log" || { echo "FAIL: no stopping log line"; fail=1; }
fi
[ "$fail" = 0 ] || { echo "--- solver log"; cat "$work/log"; }
exit "$fail"
