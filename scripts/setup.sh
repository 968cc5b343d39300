#!/usr/bin/env bash
# Installs what `npm start` and `npm test` need, once: system tools (apt-get when run as root on
# Debian/Ubuntu) and the npm dependencies from the lock file. `setup.sh test` adds what only the
# tests use (Chromium for the dashboard test, nginx for the malformed-HTTP comparison, and for the
# boot stand-ins' own tests jq, which the CloudWatch agent stand-in checks configs with, and
# systemd-analyze, which verifies the units the dnf stand-in writes);
# `setup.sh bench` what `npm run bench` uses (nginx to compare against, wrk for the load);
# `setup.sh boot` what `npm run test:boot` uses (systemd-nspawn, mmdebstrap for the instances' root).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v node >/dev/null 2>&1; then
  echo "aviary: Node.js with npm is required to bootstrap (any version npm runs on; e.g. apt-get install nodejs npm), then run again." >&2
  exit 1
fi
# Aviary runs on Node.js 24 LTS whatever the machine's own Node is: the `node` dev dependency
# (the npm registry's real Node 24 binary) is put first on PATH for every npm script.

# command → Debian package that provides it.
declare -A tools=([redis-server]=redis-server [haproxy]=haproxy)
if [ "${1:-}" = test ]; then tools[chromium]=chromium; tools[nginx]=nginx; tools[jq]=jq; tools[systemd-analyze]=systemd; fi
if [ "${1:-}" = bench ]; then tools[nginx]=nginx; tools[wrk]=wrk; fi
if [ "${1:-}" = boot ]; then tools[systemd-nspawn]=systemd-container; tools[mmdebstrap]=mmdebstrap; tools[nsenter]=util-linux; tools[ip]=iproute2; fi
missing=()
for cmd in "${!tools[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${tools[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "aviary: installing ${missing[*]} with apt-get (first run, ~30 s)…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "aviary: missing ${missing[*]}: install with 'sudo apt-get install ${missing[*]}' (or put them on PATH) and run again." >&2
    exit 1
  fi
fi

# Install when node_modules is missing or older than the lock file: `npm ci`, exactly the lock
# file (which lists every platform's optional binaries), never rewriting it.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "aviary: installing npm dependencies from package-lock.json (first run, ~40 s)…"
  npm ci --no-audit --no-fund
fi
# The policy pack's own dependencies (@pulumi/awsguard pins @pulumi/aws 4 and aws-sdk v2), kept out of the program's.
if [ ! -f policy/node_modules/.package-lock.json ] || [ policy/package-lock.json -nt policy/node_modules/.package-lock.json ]; then
  echo "aviary: installing the policy pack's npm dependencies from policy/package-lock.json (first run, ~30 s)…"
  npm ci --prefix policy --no-audit --no-fund
fi
