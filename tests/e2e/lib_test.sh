#!/bin/bash
# The e2e harness itself (ctest e2e_lib, no testbed): lib.sh's exit path hands e2e_cleanup the
# script's own exit status, whatever the cleanup registered with on_exit returns, so
# CERTSMITH_E2E_KEEP_WORKDIR keeps the workdirs of failed runs and only those; and no e2e script
# replaces that EXIT trap with its own (test_metrics.sh once did: `trap 'stop_replicas;
# e2e_cleanup' EXIT` handed e2e_cleanup the status of stop_replicas).
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d -t certsmith-e2e-lib.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
check() {  # DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; failures=$((failures + 1)); fi
}

# A script like an e2e test: sources lib.sh, registers a cleanup that fails (as `wait` on a
# killed process does), prints its workdir, exits with $1.
cat >"$tmp/script.sh" <<EOF
. "$here/lib.sh"
on_exit false
echo "workdir: \$WORK"
exit \$1
EOF

run() {  # EXIT_CODE KEEP: runs the script; sets RC, OUT, DIR
  OUT=$(CERTSMITH_E2E_KEEP_WORKDIR=$2 bash "$tmp/script.sh" "$1" 2>&1)
  RC=$?
  DIR=$(sed -n 's/^workdir: //p' <<<"$OUT")
  [ "$RC" -eq 77 ] && { echo "$OUT"; exit 77; }  # lib.sh's own tool check: skipped
}
kept() { [ -n "$DIR" ] && [ -d "$DIR" ]; }
gone() { [ -n "$DIR" ] && [ ! -e "$DIR" ]; }

run 3 1
check "a failed script keeps its exit status (3, got $RC)" [ "$RC" -eq 3 ]
check "KEEP_WORKDIR=1 keeps a failed run's workdir" kept
[ -n "$DIR" ] && rm -rf "$DIR"

run 0 1
check "a passing script exits 0 although its cleanup failed (got $RC)" [ "$RC" -eq 0 ]
check "KEEP_WORKDIR=1 deletes a passing run's workdir" gone

run 0 always
check "KEEP_WORKDIR=always keeps a passing run's workdir" kept
[ -n "$DIR" ] && rm -rf "$DIR"

run 3 ""
check "without KEEP_WORKDIR a failed run's workdir goes" gone

own_traps=$(grep -ln 'trap .*EXIT' "$here"/test_*.sh)
check "no e2e script sets its own EXIT trap (use on_exit): ${own_traps:-none}" [ -z "$own_traps" ]

[ $failures -eq 0 ] || { echo "FAIL: $failures checks"; exit 1; }
echo PASS
