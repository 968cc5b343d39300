// The BENCHMARKS.md section for the malformed-request comparison (harness/malformedHttp.ts runs it).
import type { MalformedRow } from "../harness/malformedHttp";

export function malformedSection(rows: readonly MalformedRow[]): string {
  const code = (n: number): string => (n === 0 ? "closed" : String(n));
  const reached = (n: number): string => (n === 0 ? "" : ` (${n} reached the backend)`);
  const line = (r: MalformedRow): string => `| ${r.name} | ${code(r.aviary)}${reached(r.reached.aviary)} | ${code(r.nginx)}${reached(r.reached.nginx)} |`;
  return `## Malformed and oversized HTTP requests

Raw bytes over TCP to 127.0.0.1, one connection per request, to Aviary's HAProxy (the rendered template, one prod slot) and to nginx with its defaults (\`proxy_pass\`, HTTP/1.1), each in front of its own backend that records what reaches it (\`harness/malformedHttp.ts\`; asserted in \`tests/integration/harness/malformedHttp.test.ts\`). "closed": the connection was closed without an answer. Two requests are ambiguous rather than invalid, and RFC 9112 lets a proxy either refuse them or normalise them before forwarding: Content-Length together with Transfer-Encoding (HAProxy drops the Content-Length while parsing, before any rule could see it, and forwards the chunked body alone; the trailing byte is not forwarded as a second request, so no desync) and obs-fold (HAProxy unfolds the header). Every other malformed request gets a 4xx from Aviary and never reaches the app; an unknown HTTP version is refused by a rule in the template (HAProxy would otherwise forward it as HTTP/1.1).

| request | Aviary (HAProxy) | nginx |
|---|---|---|
${rows.map(line).join("\n")}
`;
}
