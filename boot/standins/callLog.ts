// How every stand-in script records its calls: one JSON line per call, {"args": [...], "exit": N},
// written when the script exits, so a test reads what a boot script ran and how each call ended.
import * as fs from "node:fs";
import { shellQuote } from "../../components/bootShell";

/** One recorded call: the arguments after the command's name, and its exit status. */
export interface RecordedCall {
  args: string[];
  exit: number;
}

/** Bash that records this run's arguments and exit status to logFile (call it before any shift). */
export function renderCallRecorder(logFile: string): string {
  return `CALL_LOG=${shellQuote(logFile)}
CALL_ARGS=("$@")
json_string() {
  local s=$1
  s=\${s//\\\\/\\\\\\\\}
  s=\${s//\\"/\\\\\\"}
  s=\${s//$'\\n'/\\\\n}
  s=\${s//$'\\t'/\\\\t}
  s=\${s//$'\\r'/\\\\r}
  printf '"%s"' "$s"
}
record_call() {
  local code=$1 sep="" a
  mkdir -p "$(dirname "$CALL_LOG")"
  {
    printf '{"args":['
    for a in "\${CALL_ARGS[@]}"; do printf '%s' "$sep"; json_string "$a"; sep=,; done
    printf '],"exit":%d}\\n' "$code"
  } >> "$CALL_LOG"
}
trap 'record_call $?' EXIT`;
}

/** The calls recorded in logFile, in order; none when the file does not exist. */
export function readCallLog(logFile: string): RecordedCall[] {
  if (!fs.existsSync(logFile)) return [];
  return fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as RecordedCall);
}
