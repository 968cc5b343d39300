// Minimal HAProxy Runtime API client: one connection per call (non-interactive mode closes
// after the reply), so there is no session state to get out of sync.
import * as net from "net";
import { InvariantError, TimeoutError } from "../core/errors";

/** Sends one command (or several joined with ";") and resolves with the full reply text. */
export function runtimeCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socketPath);
    let out = "";
    c.setEncoding("utf8");
    c.on("connect", () => c.write(command + "\n"));
    c.on("data", (d: string) => (out += d));
    c.on("end", () => resolve(out));
    c.on("error", reject);
    c.setTimeout(timeoutMs, () => {
      c.destroy();
      reject(new TimeoutError(`runtime API timeout: ${command}`));
    });
  });
}

/** Runs commands as one ";"-joined batch; throws if any reply line looks like an error. */
export async function runtimeBatch(socketPath: string, commands: readonly string[]): Promise<string> {
  if (commands.length === 0) return "";
  const out = await runtimeCommand(socketPath, commands.join(";"));
  // Success replies are empty or "... changed ..." / "no need to change"; anything else is a failure.
  const bad = out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/changed|no need to change/i.test(l));
  if (bad.length > 0) throw new InvariantError(`runtime API rejected: ${bad.join(" | ")}`);
  return out;
}
