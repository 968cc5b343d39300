// The local runner owns starting redis-server; tests use the very same code.
export * from "../../local/redisServer";
