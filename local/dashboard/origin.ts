// Which requests the dashboard answers. It listens on 127.0.0.1 only, but a page on any site can
// reach it through the browser: by DNS rebinding (its own name resolving to 127.0.0.1, so the Host
// header carries that name) or by a cross-site POST (the Origin header names the other site).
// Only the dashboard's own loopback origin may read it, and only a page from it may write.

export type OriginCheck = { ok: true } | { ok: false; status: 403; message: string };

/** The Host values the dashboard's own origin can send: the loopback names, with its port. */
export function ownHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

const refused = (message: string): OriginCheck => ({ ok: false, status: 403, message });

/** GETs: the Host header must name the dashboard's own loopback origin. */
export function checkHost(host: string | undefined, port: number): OriginCheck {
  if (host === undefined || host === "") return refused("missing Host header: open the dashboard at http://127.0.0.1:" + port);
  if (!ownHosts(port).includes(host.toLowerCase())) {
    return refused(`Host ${JSON.stringify(host)} is not this dashboard's origin: open it at http://127.0.0.1:${port} (a foreign Host is how DNS rebinding reaches a local server)`);
  }
  return { ok: true };
}

/** Writes: the Host check, and an Origin header that is exactly the dashboard's own origin. */
export function checkWrite(host: string | undefined, origin: string | undefined, port: number): OriginCheck {
  const h = checkHost(host, port);
  if (!h.ok) return h;
  if (origin === undefined) return refused("writes need an Origin header: use the dashboard page");
  if (!ownHosts(port).map((x) => `http://${x}`).includes(origin.toLowerCase())) {
    return refused(`Origin ${JSON.stringify(origin)} may not change this dashboard's state: only http://127.0.0.1:${port} (or localhost) may`);
  }
  return { ok: true };
}
