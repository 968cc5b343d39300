// Ports every part of Aviary agrees on (AWS and local mode alike).
export const APP_PORT = 3000;
export const PROXY_HTTP_PORT = 80;
export const REDIS_PORT = 6379;
