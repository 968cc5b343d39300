// The container root every boot test starts from: Debian bookworm built by mmdebstrap from this
// machine's apt sources, with systemd and every package the boot scripts' `dnf install` stands for,
// plus the Node 24 binary at the path the scripts run (NODE_BIN). Built once per package list and
// harness version, into a temporary directory renamed into place, so a half-built root is never used.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { NODE_BIN } from "../components/systemdUnit";

/** Bump when the steps below change what is in the root (the package list is in the key already). */
export const ROOT_VERSION = 2;

/**
 * Debian packages in the root. Against Amazon Linux 2023: haproxy 2.6 (AL2023 2.8), redis-server 7.0
 * under the name redis (AL2023 redis6 6.2), systemd 252 (AL2023 252), Node 24 from the npm package
 * (AL2023 nodejs24); Debian's haproxy and redis units are disabled here, as AL2023's are after dnf install.
 */
export const ROOT_PACKAGES = [
  "systemd", "systemd-sysv", "dbus", "curl", "iproute2", "ca-certificates", "passwd", "mawk", "procps",
  "haproxy", "redis-server", "xfsprogs", "jq",
] as const;

/** Units the packages enable that AL2023's packages leave disabled until the boot script enables them. */
const DISABLED_UNITS = ["haproxy.service", "redis-server.service"];

export const CACHE_BASE = process.env.AVIARY_BOOT_CACHE ?? "/var/cache/aviary-boot";
const NODE_SOURCE = path.join(__dirname, "..", "node_modules", "node", "bin", "node");

export function rootKey(packages: readonly string[] = ROOT_PACKAGES): string {
  return createHash("sha256").update(JSON.stringify({ v: ROOT_VERSION, packages: [...packages].sort() })).digest("hex").slice(0, 16);
}

/** The cached root's directory, building it first when it is not there. */
export function ensureRoot(log: (line: string) => void = () => {}): string {
  const dir = path.join(CACHE_BASE, `bookworm-${rootKey()}`);
  if (fs.existsSync(path.join(dir, ".complete"))) return dir;
  fs.mkdirSync(CACHE_BASE, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(CACHE_BASE, ".build-"));
  const root = path.join(tmp, "root");
  try {
    log(`building the boot tests' bookworm root (mmdebstrap, ~1 min) into ${dir}`);
    execFileSync("mmdebstrap", ["--variant=apt", "--quiet", `--include=${ROOT_PACKAGES.join(",")}`, "bookworm", root], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync("systemctl", ["--root", root, "disable", ...DISABLED_UNITS], { stdio: "ignore" });
    execFileSync("systemctl", ["--root", root, "enable", "systemd-networkd.service"], { stdio: "ignore" });
    // First boot must not wait on systemd-firstboot's console questions (EC2 images answer them in the image).
    execFileSync("systemctl", ["--root", root, "mask", "systemd-firstboot.service"], { stdio: "ignore" });
    // No name server: nothing outside the boot network is ever a target.
    fs.rmSync(path.join(root, "etc", "resolv.conf"), { force: true });
    fs.writeFileSync(path.join(root, "etc", "resolv.conf"), "");
    fs.copyFileSync(NODE_SOURCE, path.join(root, "usr", "bin", NODE_BIN));
    fs.chmodSync(path.join(root, "usr", "bin", NODE_BIN), 0o755);
    // Each container gets its own machine id at first boot, as a new EC2 instance does.
    fs.writeFileSync(path.join(root, "etc", "machine-id"), "uninitialized\n");
    fs.writeFileSync(path.join(root, ".complete"), `${new Date().toISOString()}\n`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(root, dir);
    return dir;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
