// Who owns a directory below /run, and with which mode, when a service starts: RuntimeDirectory= or tmpfiles.d.
// Written from systemd.exec(5) of systemd 252 ("the innermost specified directories will be owned by
// the user and group specified in User= and Group=. If the specified directories already exist and
// their owning user or group do not match ... their file ownership [is] recursively changed";
// "RuntimeDirectoryMode= ... defaults to 0755"; User= "For system services ... the default is root";
// "If no group is set, the default group of the user is used"; DynamicUser= allocates a user named
// after User= or the unit) and tmpfiles.d(5) ("d": create a directory; "-" for mode means 0755, for
// user and group the invoking user, root at boot). Debian's haproxy package uses tmpfiles.d for
// /run/haproxy (/usr/lib/tmpfiles.d/haproxy.conf); the Fedora-built package of Amazon Linux 2023 has
// neither a tmpfiles rule nor RuntimeDirectory= and runs haproxy as root without User=.
import { booleanValue, lastValue, listValue, type UnitFile } from "./systemdUnitFile";

export interface FileNode {
  owner: string;
  group: string;
  mode: number;
}

export interface RunDirectoryOwnership extends FileNode {
  /** What decided it: the service's RuntimeDirectory= or a tmpfiles.d line. */
  source: "RuntimeDirectory" | "tmpfiles";
}

export interface ServiceContext {
  /** The service's unit merged with its drop-ins (mergeUnitFiles). */
  service: UnitFile;
  /** Unit name without ".service": the DynamicUser= name when User= is unset. */
  unitName: string;
  /** Primary group of each account, for User= without Group=. */
  primaryGroups: Readonly<Record<string, string>>;
  /** Every tmpfiles.d line in effect (other types than d/D are ignored). */
  tmpfiles: readonly string[];
}

const DEFAULT_DIR_MODE = 0o755;

function octal(value: string, what: string): number {
  if (!/^[0-7]{3,4}$/.test(value)) throw new Error(`${what}: not an octal mode: ${JSON.stringify(value)}`);
  return parseInt(value, 8);
}

/** The user and group a service's RuntimeDirectory= directories get. */
export function runtimeDirectoryOwner(c: Pick<ServiceContext, "service" | "unitName" | "primaryGroups">): { owner: string; group: string } {
  const user = lastValue(c.service, "Service", "User");
  const group = lastValue(c.service, "Service", "Group");
  if (booleanValue(lastValue(c.service, "Service", "DynamicUser"))) {
    const name = user ?? c.unitName;
    return { owner: name, group: group ?? name };
  }
  const owner = user ?? "root";
  const primary = owner === "root" ? "root" : c.primaryGroups[owner];
  const resolved = group ?? primary;
  if (resolved === undefined) throw new Error(`runtimeDirectoryOwner: primary group of ${owner} unknown`);
  return { owner, group: resolved };
}

/** A tmpfiles.d "d"/"D" line for `path`, if any (the first one wins, as tmpfiles.d(5) says for duplicates). */
function tmpfilesDirectory(lines: readonly string[], path: string): FileNode | undefined {
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [type, p, mode = "-", user = "-", group = "-"] = line.split(/\s+/);
    if ((type === "d" || type === "D") && p === path) {
      return {
        owner: user === "-" ? "root" : user,
        group: group === "-" ? "root" : group,
        mode: mode === "-" ? DEFAULT_DIR_MODE : octal(mode, "tmpfiles mode"),
      };
    }
  }
  return undefined;
}

/**
 * Owner, group and mode of `path` (below /run) once the service has started, or undefined when
 * nothing creates it. RuntimeDirectory= is applied at every start, after tmpfiles ran at boot, so it wins.
 */
export function runDirectoryAtStart(c: ServiceContext, path: string): RunDirectoryOwnership | undefined {
  if (!path.startsWith("/run/")) throw new Error(`runDirectoryAtStart: ${path} is not below /run`);
  const name = path.slice("/run/".length);
  if (listValue(c.service, "Service", "RuntimeDirectory").includes(name)) {
    const modeSetting = lastValue(c.service, "Service", "RuntimeDirectoryMode");
    return {
      ...runtimeDirectoryOwner(c),
      mode: modeSetting === undefined || modeSetting === "" ? DEFAULT_DIR_MODE : octal(modeSetting, "RuntimeDirectoryMode"),
      source: "RuntimeDirectory",
    };
  }
  const fromTmpfiles = tmpfilesDirectory(c.tmpfiles, path);
  return fromTmpfiles && { ...fromTmpfiles, source: "tmpfiles" };
}
