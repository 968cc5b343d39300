// What Aviary's boot scripts must do on every instance, checked over the rendered bash text:
// - every `dnf install` runs under retry() (package mirrors fail for a while after boot);
// - every curl has -f/--fail (without it an HTTP error page, e.g. IMDS's 401, is taken as data);
// - every systemd unit written to /etc/systemd/system has Environment=AWS_REGION= in [Service]
//   (the AWS SDK for JavaScript v3 takes its region from AWS_REGION, not from instance metadata);
// - every script the boot script writes (a file starting with #!) follows the same rules: it runs
//   later on the same instance (a service, or State Manager).
// Written from curl(1) (--fail: "Fail fast with no output at all on server errors") and the AWS SDK
// for JavaScript v3 developer guide ("Setting the AWS Region": AWS_REGION environment variable).
import { parseUnitFile } from "./systemdUnitFile";

export interface WrittenFile {
  path: string;
  body: string;
}

export interface SplitScript {
  /** Shell lines outside here-documents. */
  commands: string[];
  /** Files the script writes with `cat > PATH <<TAG`. */
  files: WrittenFile[];
}

const HEREDOC = /^cat > (\S+) <<'?([A-Z_]+)'?$/;

/** Separates the shell lines from the files written through here-documents. */
export function splitBootScript(script: string): SplitScript {
  const commands: string[] = [];
  const files: WrittenFile[] = [];
  const lines = script.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = HEREDOC.exec(line.trim());
    if (!m) {
      commands.push(line);
      continue;
    }
    const end = lines.indexOf(m[2]!, i + 1);
    if (end < 0) throw new Error(`boot script: here-document ${m[2]} is never closed`);
    files.push({ path: m[1]!, body: lines.slice(i + 1, end).join("\n") });
    i = end;
  }
  return { commands, files };
}

/** Every curl invocation in a line: the word curl and its arguments up to a pipe, `;`, `)` or the end. */
function curlInvocations(line: string): string[][] {
  const found: string[][] = [];
  const re = /(?:^|[\s($])curl\s+([^|;)]*)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) found.push(m[1]!.trim().split(/\s+/));
  return found;
}

const hasFail = (args: string[]): boolean => args.some((a) => a === "--fail" || /^-[A-Za-z]*f[A-Za-z]*$/.test(a));

/** Violations of the rules above, one sentence each; empty when the script follows them. */
export function bootScriptProblems(script: string): string[] {
  const problems: string[] = [];
  const { commands, files } = splitBootScript(script);
  for (const raw of commands) {
    const line = raw.trim();
    if (line.startsWith("#")) continue;
    if (/\bdnf\s+install\b/.test(line) && !/(^|\$\()retry dnf install\b/.test(line)) problems.push(`dnf install outside retry: ${line}`);
    for (const args of curlInvocations(line)) if (!hasFail(args)) problems.push(`curl without -f: ${line}`);
  }
  for (const f of files) {
    if (f.body.startsWith("#!")) problems.push(...bootScriptProblems(f.body).map((p) => `${f.path}: ${p}`));
    if (!/^\/etc\/systemd\/system\/[^/]+\.service$/.test(f.path)) continue;
    const envs = parseUnitFile(f.body).get("Service")?.get("Environment") ?? [];
    if (!envs.some((e) => /^"?AWS_REGION=[a-z0-9-]+"?$/.test(e))) problems.push(`${f.path}: no Environment=AWS_REGION= in [Service]`);
  }
  return problems;
}
