#!/usr/bin/env bash
# `npm start`: local mode. Installs what is missing, bundles the local runner, and runs it in the
# foreground (Ctrl-C stops every process it started).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx esbuild local/main.ts --bundle --platform=node --target=node24 --packages=external --outfile=dist/local.js --log-level=warning
exec node dist/local.js "$@"
