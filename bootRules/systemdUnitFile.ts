// A systemd unit file as systemd reads it: a unit plus its drop-ins, merged into the effective settings.
// Written from systemd.unit(5) ("Drop-in files ... are parsed after the main unit file"; "assigning an
// empty string resets the list") and systemd.exec(5), as shipped with systemd 252 (man page on this machine).

/** Key → every value assigned to it, in the order systemd reads them. */
export type UnitSection = ReadonlyMap<string, readonly string[]>;
export type UnitFile = ReadonlyMap<string, UnitSection>;

export class UnitFileError extends Error {
  constructor(readonly line: number, message: string) {
    super(`unit file line ${line}: ${message}`);
    this.name = "UnitFileError";
  }
}

/** Parses one unit or drop-in file: [Section] headers, Key=Value lines, # and ; comments. */
export function parseUnitFile(text: string): UnitFile {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      const name = header[1]!;
      current = sections.get(name) ?? new Map<string, string[]>();
      sections.set(name, current);
      return;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) throw new UnitFileError(i + 1, `expected Key=Value, got ${JSON.stringify(line)}`);
    if (!current) throw new UnitFileError(i + 1, "assignment before any [Section]");
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  });
  return sections;
}

/** The unit with its drop-ins read after it (drop-ins in the order systemd sorts them: by file name). */
export function mergeUnitFiles(unit: UnitFile, dropIns: readonly UnitFile[]): UnitFile {
  const merged = new Map<string, Map<string, string[]>>();
  for (const file of [unit, ...dropIns]) {
    for (const [name, section] of file) {
      const into = merged.get(name) ?? new Map<string, string[]>();
      merged.set(name, into);
      for (const [key, values] of section) into.set(key, [...(into.get(key) ?? []), ...values]);
    }
  }
  return merged;
}

/** A single-valued setting: the last assignment wins. */
export function lastValue(file: UnitFile, section: string, key: string): string | undefined {
  const values = file.get(section)?.get(key);
  return values === undefined || values.length === 0 ? undefined : values[values.length - 1];
}

/** A list setting: whitespace-separated values accumulate; an empty assignment resets what came before. */
export function listValue(file: UnitFile, section: string, key: string): string[] {
  let list: string[] = [];
  for (const value of file.get(section)?.get(key) ?? []) {
    list = value === "" ? [] : [...list, ...value.split(/\s+/)];
  }
  return list;
}

/** systemd's boolean syntax (systemd.syntax(7)): 1/yes/y/true/t/on and 0/no/n/false/f/off. */
export function booleanValue(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.toLowerCase();
  if (["1", "yes", "y", "true", "t", "on"].includes(v)) return true;
  if (["0", "no", "n", "false", "f", "off"].includes(v)) return false;
  throw new Error(`not a systemd boolean: ${JSON.stringify(value)}`);
}
