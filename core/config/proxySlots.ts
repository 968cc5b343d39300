// Server slots the proxy agent can fill through HAProxy's Runtime API, per backend. HAProxy's
// config is rendered with exactly these many servers, so a fleet may never outgrow them.
export const PROD_SLOTS = 20;
export const CANARY_SLOTS = 10;
