#!/usr/bin/env bash
# `npm start`: local mode. The local runner (real redis-server, HAProxy, app processes, the alarm
# evaluator and the controller) is not built yet; until it lands this says so instead of pretending.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "aviary: local mode arrives with the local runner (not built yet). Today you can run the tests (npm test) or deploy to AWS (see README)." >&2
exit 1
