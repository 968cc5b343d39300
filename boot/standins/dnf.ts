// A stand-in for Amazon Linux 2023's dnf at /usr/bin/dnf inside boot-test containers (Debian
// bookworm). `dnf install -y PKG...` maps each AL2023 package a boot script installs to the Debian
// package with the same role, already in the cached root (nothing is fetched at boot), checks it is
// really there, and lays out what AL2023's package gives on top of Debian's files: its unit under
// its own name, its user, its paths. It also takes away what Debian adds and AL2023 lacks (Debian's
// haproxy ships /usr/lib/tmpfiles.d/haproxy.conf, `d /run/haproxy 2775 haproxy haproxy -`, which
// would hide a boot script that leaves /run/haproxy root-only). An unknown name fails as dnf does.
//
// Written from dnf(8) (exit 1 on an error dnf handled; `install` resolves every spec before it
// changes anything, "No match for argument: PKG" then "Error: Unable to find a match: PKG"; without
// -y/--assumeyes it asks "Is this ok [y/N]:" and with no answer aborts), the units of the Fedora
// packages AL2023's are built from (haproxy.service: ExecStartPre config check, -Ws -f haproxy.cfg
// -f conf.d, no User=, no RuntimeDirectory=, no Restart=, as a dnf-installed haproxy's `systemctl
// status` shows them; redis.service renamed redis6: redis6-server with /etc/redis6/redis6.conf,
// Type=notify, User=redis6; neither unit was checked against an AL2023 RPM here), and the Debian
// bookworm packages' file lists (dpkg -c haproxy_2.6.12-1+deb12u4, redis-server_7.0.15-1~deb12u10).
import { shellQuote } from "../../components/bootShell";
import { NODE_BIN } from "../../components/systemdUnit";
import { renderCallRecorder } from "./callLog";
import { CLOUDWATCH_AGENT_CTL_PATH, CLOUDWATCH_AGENT_PAYLOAD } from "./cloudwatchAgent";

export const DNF_PATH = "/usr/bin/dnf";
/** The stand-in's own state: what it installed, its call log. */
export const DNF_STATE_DIR = "/var/lib/dnf-standin";
export const DNF_CALLS_LOG = `${DNF_STATE_DIR}/calls.log`;

/** One AL2023 package a boot script installs, and what stands for it here. */
export interface DnfPackage {
  /** The AL2023 package name. */
  name: string;
  /** Debian packages in the cached root that play its role (dpkg must list them as installed). */
  debian: string[];
  /** Commands the boot scripts run once it is installed; each must be found afterwards. */
  commands: string[];
  /** Where this differs from AL2023's package (the boot tests' README names these). */
  difference: string;
  /** Bash (paths under $ROOT) laying out what AL2023's package provides beyond Debian's files. */
  install: string;
}

/**
 * haproxy.service as Amazon Linux 2023's haproxy package (built from Fedora's spec) installs it: no
 * User=, no RuntimeDirectory=, no tmpfiles.d rule; HAProxy starts as root and drops to `user haproxy`.
 */
export const AL2023_HAPROXY_SERVICE = `[Unit]
Description=HAProxy Load Balancer
After=network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=-/etc/sysconfig/haproxy
Environment="CONFIG=/etc/haproxy/haproxy.cfg" "PIDFILE=/run/haproxy.pid" "CFGDIR=/etc/haproxy/conf.d"
ExecStartPre=/usr/sbin/haproxy -f $CONFIG -f $CFGDIR -c -q $OPTIONS
ExecStart=/usr/sbin/haproxy -Ws -f $CONFIG -f $CFGDIR -p $PIDFILE $OPTIONS
ExecReload=/usr/sbin/haproxy -f $CONFIG -f $CFGDIR -c -q $OPTIONS
ExecReload=/bin/kill -USR2 $MAINPID
KillMode=mixed
SuccessExitStatus=143
Type=notify

[Install]
WantedBy=multi-user.target
`;

const REDIS6_UNIT = `[Unit]
Description=Redis persistent key-value database
After=network.target
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/bin/redis6-server /etc/redis6/redis6.conf --daemonize no --supervised systemd
Type=notify
User=redis6
Group=redis6
RuntimeDirectory=redis6
RuntimeDirectoryMode=0755

[Install]
WantedBy=multi-user.target
`;

/** A package's unit under /usr/lib/systemd/system, replacing Debian's (also where /lib is not /usr/lib). */
function packageUnit(name: string, body: string): string {
  return `install -d "$ROOT/usr/lib/systemd/system"
cat > "$ROOT/usr/lib/systemd/system/${name}" <<'UNIT'
${body}UNIT
[ "$ROOT/lib/systemd/system/${name}" -ef "$ROOT/usr/lib/systemd/system/${name}" ] || rm -f "$ROOT/lib/systemd/system/${name}"
# An unmasked unit: the root masks what is not installed yet.
[ "$(readlink "$ROOT/etc/systemd/system/${name}" 2>/dev/null)" = /dev/null ] && rm -f "$ROOT/etc/systemd/system/${name}"
true`;
}

export const DNF_PACKAGES: readonly DnfPackage[] = [
  {
    name: "haproxy",
    debian: ["haproxy"],
    commands: ["haproxy"],
    difference: "Debian bookworm haproxy 2.6.12 (AL2023: haproxy 2.8); AL2023's unit (config check before start, conf.d, no Restart=) and no tmpfiles rule for /run/haproxy, as on AL2023",
    install: `rm -f "$ROOT/usr/lib/tmpfiles.d/haproxy.conf" "$ROOT/lib/tmpfiles.d/haproxy.conf"
install -d -m 755 "$ROOT/etc/haproxy/conf.d" "$ROOT/etc/sysconfig"
[ -e "$ROOT/etc/sysconfig/haproxy" ] || printf '# Command line options to pass to HAProxy at startup\\nOPTIONS=""\\n' > "$ROOT/etc/sysconfig/haproxy"
${packageUnit("haproxy.service", AL2023_HAPROXY_SERVICE)}`,
  },
  {
    name: "redis6",
    debian: ["redis-server", "redis-tools"],
    commands: ["redis6-server", "redis6-cli"],
    difference: "Debian bookworm redis-server 7.0.15 (AL2023: redis6 6.2) under AL2023's names: redis6-server, redis6-cli, user redis6, /etc/redis6/redis6.conf, redis6.service",
    install: `if ! grep -q '^redis6:' "$ROOT/etc/passwd"; then
  useradd \${ROOT:+--prefix "$ROOT"} --system --user-group --home-dir /var/lib/redis6 --no-create-home --shell /sbin/nologin --comment "Redis Database Server" redis6
fi
owner=""
while IFS=: read -r user _ uid gid _; do [ "$user" = redis6 ] && owner="$uid:$gid"; done < "$ROOT/etc/passwd"
[ -n "$owner" ] || { echo "redis6: no redis6 user after useradd" >&2; exit 1; }
ln -sfn redis-server "$ROOT/usr/bin/redis6-server"
ln -sfn redis-cli "$ROOT/usr/bin/redis6-cli"
install -d -m 750 "$ROOT/etc/redis6" && chown "0:\${owner#*:}" "$ROOT/etc/redis6"
install -d -m 750 "$ROOT/var/lib/redis6" "$ROOT/var/log/redis6" && chown "$owner" "$ROOT/var/lib/redis6" "$ROOT/var/log/redis6"
if [ ! -e "$ROOT/etc/redis6/redis6.conf" ]; then
  printf 'bind 127.0.0.1 -::1\\nport 6379\\ndir /var/lib/redis6\\nlogfile /var/log/redis6/redis6.log\\n' > "$ROOT/etc/redis6/redis6.conf"
  chown "0:\${owner#*:}" "$ROOT/etc/redis6/redis6.conf" && chmod 640 "$ROOT/etc/redis6/redis6.conf"
fi
${packageUnit("redis6.service", REDIS6_UNIT)}`,
  },
  {
    name: "nodejs24",
    debian: [],
    commands: [NODE_BIN],
    difference: `the npm package node's Node 24 binary copied to /usr/bin/${NODE_BIN} (AL2023: nodejs24 RPM, same command name)`,
    install: `v=$(PATH="$ROOT/usr/bin:$PATH" ${NODE_BIN} --version 2>/dev/null) && [[ "$v" == v24.* ]] || { echo "nodejs24 stand-in: ${NODE_BIN} is \${v:-missing}, not Node 24" >&2; exit 1; }`,
  },
  {
    name: "amazon-cloudwatch-agent",
    // jq: the recorder's own check that the configuration is JSON.
    debian: ["jq"],
    commands: [CLOUDWATCH_AGENT_CTL_PATH],
    difference: "a recorder of the configuration it is given (no agent runs, no metric is sent)",
    install: `install -d -m 755 "$ROOT/opt/aws/amazon-cloudwatch-agent/bin" "$ROOT/opt/aws/amazon-cloudwatch-agent/etc" "$ROOT/opt/aws/amazon-cloudwatch-agent/logs" "$ROOT/opt/aws/amazon-cloudwatch-agent/var"
install -m 755 "$ROOT${CLOUDWATCH_AGENT_PAYLOAD}" "$ROOT${CLOUDWATCH_AGENT_CTL_PATH}"`,
  },
];

/** The Debian packages the cached root must hold for these stand-ins. */
export function debianPackagesFor(packages: readonly DnfPackage[] = DNF_PACKAGES): string[] {
  return [...new Set(packages.flatMap((p) => p.debian))].sort();
}

export interface DnfOptions {
  /** A prefix for every path the installs write: empty inside a container; a temp dir in tests. */
  root?: string;
}

/** The bash script installed as /usr/bin/dnf. */
export function renderDnf(o: DnfOptions = {}, packages: readonly DnfPackage[] = DNF_PACKAGES): string {
  const root = o.root ?? "";
  const fns = packages.map((p, i) => `present_${i}() {
${p.debian.map((d) => `  [ "$(dpkg-query -W -f='\${Status}' ${shellQuote(d)} 2>/dev/null)" = "install ok installed" ] || { echo "dnf stand-in: ${p.name} stands for Debian's ${d}, which is not installed in this root (add it to the root's package list)" >&2; return 1; }`).join("\n")}
  true
}
install_${i}() {
${p.install}
}
found_${i}() {
${p.commands.map((c) => `  ${c.startsWith("/") ? `[ -x "$ROOT"${shellQuote(c)} ]` : `PATH="$ROOT/usr/sbin:$ROOT/usr/bin:$PATH" command -v ${shellQuote(c)} >/dev/null`} || { echo "dnf stand-in: ${p.name} installed, but ${c} is not there" >&2; return 1; }`).join("\n")}
  true
}`).join("\n");
  return `#!/bin/bash
# Stand-in for Amazon Linux 2023's dnf (boot tests; rendered by boot/standins/dnf.ts): installs from
# the Debian packages already in this root, under AL2023's names. Only \`dnf install\` is served.
set -uo pipefail
ROOT=${shellQuote(root)}
STATE="$ROOT${DNF_STATE_DIR}"
${renderCallRecorder(`${root}${DNF_CALLS_LOG}`)}
fail() { local code=$1; shift; printf '%s\\n' "$*" >&2; exit "$code"; }
${fns}
index_of() {
  case "$1" in
${packages.map((p, i) => `    ${shellQuote(p.name)}) echo ${i} ;;`).join("\n")}
    *) return 1 ;;
  esac
}

[ "\${1:-}" = install ] || fail 1 "dnf stand-in: unsupported call: dnf $* (only dnf install [-y] PKG... is served)"
shift
assumeyes="" specs=()
for a in "$@"; do
  case "$a" in
    -y|--assumeyes) assumeyes=1 ;;
    -q|--quiet) ;;
    -*) fail 1 "dnf stand-in: unsupported option $a in: dnf install $*" ;;
    *) specs+=("$a") ;;
  esac
done
[ \${#specs[@]} -gt 0 ] || fail 1 "Error: Need to pass a list of pkgs to install"

# Resolve every name before changing anything, as dnf does.
missing=() chosen=()
for s in "\${specs[@]}"; do
  if i=$(index_of "$s"); then chosen+=("$i"); else echo "No match for argument: $s" >&2; missing+=("$s"); fi
done
[ \${#missing[@]} -eq 0 ] || fail 1 "Error: Unable to find a match: \${missing[*]}"
for i in "\${chosen[@]}"; do present_$i || exit 1; done
[ -n "$assumeyes" ] || fail 1 "Is this ok [y/N]: Operation aborted."

mkdir -p "$STATE/installed"
installed=()
for k in "\${!specs[@]}"; do
  name=\${specs[$k]} i=\${chosen[$k]}
  if [ -e "$STATE/installed/$name" ]; then echo "Package $name is already installed."; continue; fi
  # Not under || or &&: there bash would ignore set -e inside the subshell.
  ( set -e; install_$i )
  [ $? -eq 0 ] || fail 1 "Error: installing $name failed"
  found_$i || exit 1
  touch "$STATE/installed/$name"
  installed+=("$name")
done
# RPM's systemd trigger reloads units after a transaction; only where systemd runs.
if [ \${#installed[@]} -gt 0 ] && [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
if [ \${#installed[@]} -eq 0 ]; then echo "Dependencies resolved."; echo "Nothing to do."; else printf 'Installed:\\n'; printf '  %s\\n' "\${installed[@]}"; fi
echo "Complete!"
exit 0
`;
}
