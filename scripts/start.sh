#!/usr/bin/env bash
# `npm start`: local mode. Installs what is missing, bundles the local runner, and runs it in the
# foreground (Ctrl-C stops every process it started).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "aviary: bundling the local runner…"
sh bin/build local/main.ts dist/local.js
# Absolute path: a start elsewhere whose ports this stack holds can name this checkout.
exec node "$PWD/dist/local.js" "$@"
