#!/usr/bin/env bash
# Runs inside the fresh machine (see .ci/run), in a clean clone: the README's commands one after
# another, each of which must leave the clone as it was (everything they write is under an
# ignored path), then a short `npm start` stopped with Ctrl-C's SIGINT and a quick bench, after
# which no process they started may be left.
set -euo pipefail
cd "$(dirname "$0")/.."

clean() {
  local dirty
  dirty=$(git status --porcelain --untracked-files=all)
  if [ -n "$dirty" ]; then
    echo "aviary CI: '$1' left the clone dirty (write under an ignored path instead):" >&2
    echo "$dirty" >&2
    exit 1
  fi
  echo "aviary CI: the clone is clean after '$1'"
}

leftovers() {
  local left
  left=$(for name in haproxy redis-server nginx wrk; do pgrep -a -x "$name" || true; done)
  if [ -n "$left" ]; then
    echo "aviary CI: '$1' left processes running:" >&2
    echo "$left" >&2
    exit 1
  fi
  echo "aviary CI: no process left after '$1'"
}

echo "machine node $(node --version); npm scripts run on the node dev dependency (tests/integration/build/runtime.test.ts checks 24)"
npm test
clean "npm test"
npm run test:faults
clean "npm run test:faults"

# `npm start` in its own process group (as in a terminal), until its banner, then SIGINT to the group.
log=$(mktemp)
setsid npm start >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
  grep -q "Aviary local stack is up." "$log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "aviary CI: npm start exited before its banner" >&2; exit 1; }
  sleep 1
done
grep -q "Aviary local stack is up." "$log" || { cat "$log" >&2; kill -KILL -- "-$pid"; echo "aviary CI: no banner from npm start within 240 s" >&2; exit 1; }
kill -INT -- "-$pid"
for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$pid" 2>/dev/null; then
  kill -KILL -- "-$pid"
  echo "aviary CI: npm start still running 60 s after SIGINT" >&2
  exit 1
fi
rm -f "$log"
clean "npm start"
leftovers "npm start"

# The bench, quick (a few rounds per section; its figures go to the ignored test-output/).
AVIARY_BENCH_QUICK=1 npm run bench
clean "AVIARY_BENCH_QUICK=1 npm run bench"
leftovers "AVIARY_BENCH_QUICK=1 npm run bench"
