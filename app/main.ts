// Minimal Aviary sample app (no dependencies). Flags, /hiddenfeature and self-registration come in a later issue.
import * as http from "node:http";

const version = process.env.AVIARY_VERSION ?? "dev";
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "0.0.0.0";

export function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader("x-aviary-version", version);
  res.setHeader("content-type", "text/plain; charset=utf-8");
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end("method not allowed\n");
  } else if (path === "/") {
    res.writeHead(200).end(`aviary ${version}\n`);
  } else if (path === "/healthz") {
    res.writeHead(200).end("ok\n");
  } else {
    res.writeHead(404).end("not found\n");
  }
}

if (require.main === module) {
  const server = http.createServer(handle);
  server.listen(port, host, () => console.log(`aviary ${version} listening on ${host}:${port}`));
  // Graceful stop: finish in-flight requests, close idle keep-alive sockets, then exit.
  process.on("SIGTERM", () => {
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => process.exit(1), 10_000).unref();
  });
}
