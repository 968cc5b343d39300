// What the dashboard's page may load and run: only files from its own origin (its HTML, its script
// and stylesheet, the charting library it serves from node_modules) and requests back to itself. No
// inline script or style, no eval, no frames, no form posts elsewhere, and it cannot be framed.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
