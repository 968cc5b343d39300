// Local mode's HAProxy follows the prod stack file as the proxy instance does: aviary:proxy's
// testerRouting and accessLog, the canary p99 bound, slots for the fleet's max and the canaries.
import { join } from "node:path";
import { aviaryKeys, parseStackConfig, type CanaryConfig, type ProdConfig } from "../../../core/config/stackConfig";
import { readStackFile } from "../../../config/stackFile";
import { renderHaproxyConfig, TESTER_HEADER } from "../../../haproxy/config";
import { localHaproxyOptions } from "../../../local/startProxy";
import { REPO_ROOT } from "../../support/repoRoot";

const file = (name: string) => readStackFile(join(REPO_ROOT, name));
const config = (proxy?: Record<string, unknown>) => ({
  prod: parseStackConfig(aviaryKeys({ ...file("Pulumi.prod.yaml"), ...(proxy ? { "aviary:proxy": JSON.stringify(proxy) } : {}) })) as ProdConfig,
  canary: parseStackConfig(aviaryKeys(file("Pulumi.canary.yaml"))) as CanaryConfig,
});
const at = { port: 18080, statsPort: 18404, socket: "/tmp/aviary-test/haproxy.sock", periodFactor: 10 };

test("the shipped stack files: tester routing off, slots and bound from the files, checks 10× faster", () => {
  const c = config();
  expect(localHaproxyOptions(c, at)).toEqual({
    bind: "127.0.0.1:18080", statsBind: "127.0.0.1:18404", socketPath: at.socket,
    prodSlots: c.prod.prodFleet.max, canarySlots: c.canary.canaryCount, checkIntervalMs: 100,
    latencyThresholdMs: c.prod.thresholds.canaryP99Ms, accessLog: "errors", testerRouting: false,
  });
  expect(renderHaproxyConfig(localHaproxyOptions(c, at))).not.toContain(TESTER_HEADER);
});

test("aviary:proxy {testerRouting: true, accessLog: all} in Pulumi.prod.yaml reaches the local HAProxy", () => {
  const options = localHaproxyOptions(config({ testerRouting: true, accessLog: "all" }), at);
  expect(options).toMatchObject({ testerRouting: true, accessLog: "all" });
  expect(renderHaproxyConfig(options)).toContain(`    acl aviary_tester req.hdr(${TESTER_HEADER}) -m str 1\n`);
});
