// Table tests of the boot-script rules (bootRules/): systemd's RuntimeDirectory= ownership, tmpfiles.d,
// UNIX socket access, HAProxy's stats socket, and the dnf/curl/AWS_REGION rules over bash text.
import { bootScriptProblems, splitBootScript } from "../../../bootRules/bootScript";
import { statsSocket } from "../../../bootRules/haproxyStatsSocket";
import { runDirectoryAtStart, runtimeDirectoryOwner } from "../../../bootRules/runtimeDirectory";
import { listValue, mergeUnitFiles, parseUnitFile, UnitFileError } from "../../../bootRules/systemdUnitFile";
import { canConnect, type Principal, type SocketPath } from "../../../bootRules/unixSocketAccess";

const unit = (text: string, ...dropIns: string[]) => mergeUnitFiles(parseUnitFile(text), dropIns.map(parseUnitFile));
const primaryGroups = { haproxy: "haproxy", aviary: "aviary", nobody: "nogroup" };

describe("systemd unit files", () => {
  test("drop-ins add to lists; an empty assignment resets them", () => {
    const merged = unit("[Service]\nRuntimeDirectory=a b\n", "[Service]\nRuntimeDirectory=c\n", "[Service]\nRuntimeDirectory=\nRuntimeDirectory=d\n");
    expect(listValue(merged, "Service", "RuntimeDirectory")).toEqual(["d"]);
    expect(listValue(unit("[Service]\nRuntimeDirectory=a b\n", "[Service]\nRuntimeDirectory=c\n"), "Service", "RuntimeDirectory")).toEqual(["a", "b", "c"]);
  });
  test("a line that is not Key=Value is an error naming the line", () => {
    expect(() => parseUnitFile("[Service]\nUser haproxy\n")).toThrow(UnitFileError);
    expect(() => parseUnitFile("User=haproxy\n")).toThrow(/line 1: assignment before any \[Section\]/);
  });
});

describe("RuntimeDirectory= ownership (systemd.exec(5))", () => {
  test.each([
    ["no User= (root service)", "[Service]\n", { owner: "root", group: "root" }],
    ["User= only: the user's primary group", "[Service]\nUser=haproxy\n", { owner: "haproxy", group: "haproxy" }],
    ["User= and Group=", "[Service]\nUser=nobody\nGroup=haproxy\n", { owner: "nobody", group: "haproxy" }],
    ["Group= without User=: root owner, that group", "[Service]\nGroup=haproxy\n", { owner: "root", group: "haproxy" }],
    ["DynamicUser= without User=: named after the unit", "[Service]\nDynamicUser=yes\n", { owner: "haproxy", group: "haproxy" }],
    ["DynamicUser= with User=", "[Service]\nDynamicUser=true\nUser=lb\n", { owner: "lb", group: "lb" }],
  ])("%s", (_, text, expected) => {
    expect(runtimeDirectoryOwner({ service: unit(text), unitName: "haproxy", primaryGroups })).toEqual(expected);
  });

  test("a drop-in's User= wins over the unit's", () => {
    expect(runtimeDirectoryOwner({ service: unit("[Service]\nUser=root\n", "[Service]\nUser=haproxy\n"), unitName: "x", primaryGroups })).toEqual({ owner: "haproxy", group: "haproxy" });
  });

  test.each([
    ["RuntimeDirectory= on a root unit", "[Service]\nRuntimeDirectory=haproxy\nRuntimeDirectoryMode=0750\n", [], { owner: "root", group: "root", mode: 0o750, source: "RuntimeDirectory" }],
    ["RuntimeDirectory= default mode", "[Service]\nUser=haproxy\nRuntimeDirectory=haproxy\n", [], { owner: "haproxy", group: "haproxy", mode: 0o755, source: "RuntimeDirectory" }],
    ["RuntimeDirectory= chowns back what tmpfiles made", "[Service]\nRuntimeDirectory=haproxy\n", ["d /run/haproxy 0700 haproxy haproxy -"], { owner: "root", group: "root", mode: 0o755, source: "RuntimeDirectory" }],
    ["tmpfiles d line", "[Service]\n", ["# comment", "d /run/haproxy 0700 haproxy haproxy -"], { owner: "haproxy", group: "haproxy", mode: 0o700, source: "tmpfiles" }],
    ["tmpfiles defaults", "[Service]\n", ["d /run/haproxy - - -"], { owner: "root", group: "root", mode: 0o755, source: "tmpfiles" }],
    ["Debian's haproxy tmpfiles line", "[Service]\n", ["d /run/haproxy 2775 haproxy haproxy -"], { owner: "haproxy", group: "haproxy", mode: 0o2775, source: "tmpfiles" }],
  ])("%s", (_, text, tmpfiles, expected) => {
    expect(runDirectoryAtStart({ service: unit(text), unitName: "haproxy", primaryGroups, tmpfiles }, "/run/haproxy")).toEqual(expected);
  });

  test("nothing creates the directory: undefined", () => {
    expect(runDirectoryAtStart({ service: unit("[Service]\nRuntimeDirectory=other\n"), unitName: "haproxy", primaryGroups, tmpfiles: ["d /run/elsewhere 0700 a a -"] }, "/run/haproxy")).toBeUndefined();
  });
});

describe("connecting to a UNIX socket (unix(7), path_resolution(7))", () => {
  const haproxy: Principal = { user: "haproxy", groups: ["haproxy"] };
  const nobody: Principal = { user: "nobody", groups: ["nogroup"] };
  const member: Principal = { user: "ops", groups: ["ops", "haproxy"] };
  const root: Principal = { user: "root", groups: ["root"] };
  const run = { path: "/run", owner: "root", group: "root", mode: 0o755 };
  const at = (dir: { owner: string; group: string; mode: number }, socket: { owner: string; group: string; mode: number }): SocketPath =>
    ({ directories: [run, { path: "/run/haproxy", ...dir }], socket });
  const sock600 = { owner: "haproxy", group: "root", mode: 0o600 };

  test.each<[string, Principal, SocketPath, boolean]>([
    ["socket owner in a root:root 0750 directory", haproxy, at({ owner: "root", group: "root", mode: 0o750 }, sock600), false],
    ["socket owner in its own 0700 directory", haproxy, at({ owner: "haproxy", group: "haproxy", mode: 0o700 }, sock600), true],
    ["another user in that directory", nobody, at({ owner: "haproxy", group: "haproxy", mode: 0o700 }, sock600), false],
    ["a haproxy-group member, 0750 dir, 0600 socket", member, at({ owner: "haproxy", group: "haproxy", mode: 0o750 }, sock600), false],
    ["a haproxy-group member, 0750 dir, 0660 socket of group haproxy", member, at({ owner: "haproxy", group: "haproxy", mode: 0o750 }, { owner: "haproxy", group: "haproxy", mode: 0o660 }), true],
    ["the owner class decides even when other bits would allow", haproxy, at({ owner: "haproxy", group: "haproxy", mode: 0o077 }, sock600), false],
    ["read-only socket", haproxy, at({ owner: "haproxy", group: "haproxy", mode: 0o700 }, { owner: "haproxy", group: "root", mode: 0o400 }), false],
    ["root passes everything (CAP_DAC_OVERRIDE)", root, at({ owner: "haproxy", group: "haproxy", mode: 0o700 }, sock600), true],
  ])("%s", (_, who, path, ok) => {
    expect(canConnect(who, path).ok).toBe(ok);
  });

  test("a refusal names the directory that stops the user", () => {
    expect(canConnect(haproxy, at({ owner: "root", group: "root", mode: 0o750 }, sock600))).toEqual({ ok: false, reason: "haproxy may not search /run/haproxy (root:root 0750)" });
  });
});

describe("HAProxy stats socket ownership", () => {
  test.each([
    ["user and mode", "global\n    stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners user haproxy\n", { path: "/run/haproxy/admin.sock", owner: "haproxy", group: "root", mode: 0o600 }],
    ["user, group and mode", "    stats socket /run/x.sock user lb group ops mode 660 level admin\n", { path: "/run/x.sock", owner: "lb", group: "ops", mode: 0o660 }],
    ["nothing: the creator and the umask", "    stats socket /run/x.sock level admin\n", { path: "/run/x.sock", owner: "root", group: "root", mode: 0o755 }],
  ])("%s", (_, cfg, expected) => {
    expect(statsSocket(cfg)).toEqual(expected);
  });
  test("a TCP stats socket is not a path", () => {
    expect(() => statsSocket("    stats socket ipv4@127.0.0.1:9999 level admin\n")).toThrow(/not a UNIX socket path/);
  });
});

describe("boot script rules", () => {
  test("here-documents are files, not commands", () => {
    const s = splitBootScript("echo a\ncat > /etc/x.conf <<'EOF'\ncurl http://not-a-command\nEOF\necho b");
    expect(s.commands).toEqual(["echo a", "echo b"]);
    expect(s.files).toEqual([{ path: "/etc/x.conf", body: "curl http://not-a-command" }]);
  });

  test.each([
    ["dnf under retry", "retry dnf install -y haproxy", []],
    ["bare dnf", "dnf install -y haproxy", ["dnf install outside retry: dnf install -y haproxy"]],
    ["dnf in an unbounded loop", "until dnf install -y x; do sleep 1; done", ["dnf install outside retry: until dnf install -y x; do sleep 1; done"]],
    ["curl -fsS", "t=$(retry curl -fsS -X PUT http://169.254.169.254/latest/api/token)", []],
    ["curl --fail", "curl --fail -o f http://x", []],
    ["curl -sS", "t=$(curl -sS -X PUT http://169.254.169.254/latest/api/token)", ["curl without -f: t=$(curl -sS -X PUT http://169.254.169.254/latest/api/token)"]],
    ["a comment is not a command", "# dnf install and curl are retried", []],
    ["unit with AWS_REGION", "cat > /etc/systemd/system/a.service <<UNIT\n[Service]\nEnvironment=AWS_REGION=eu-west-1\nUNIT", []],
    ["unit without AWS_REGION", "cat > /etc/systemd/system/a.service <<UNIT\n[Service]\nEnvironment=PORT=1\nUNIT", ["/etc/systemd/system/a.service: no Environment=AWS_REGION= in [Service]"]],
    ["a written script follows the rules too", "cat > /usr/local/sbin/x <<'X'\n#!/bin/bash\ncurl -s http://x\ndnf install -y y\nX", ["/usr/local/sbin/x: curl without -f: curl -s http://x", "/usr/local/sbin/x: dnf install outside retry: dnf install -y y"]],
    ["a written config file is not a script", "cat > /etc/x.conf <<'X'\ncurl -s http://x\nX", []],
    ["AWS_REGION in another section does not count", "cat > /etc/systemd/system/a.service <<UNIT\n[Unit]\nEnvironment=AWS_REGION=eu-west-1\n[Service]\nUser=x\nUNIT", ["/etc/systemd/system/a.service: no Environment=AWS_REGION= in [Service]"]],
  ])("%s", (_, script, problems) => {
    expect(bootScriptProblems(script)).toEqual(problems);
  });
});
