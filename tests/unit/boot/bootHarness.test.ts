// The boot harness's pure adaptations: the Redis data volume as a directory, the proxy's maxconn
// within this machine's open-file limit. Each must fail loudly when the script it adapts changes.
import { DataVolumeBlockNotFound, withDataVolumeAsDirectory } from "../../../boot/dataVolume";
import { hardFileLimit, maxconnWithin, withMaxconnWithin } from "../../../boot/fileLimit";
import { networkFile, USER_DATA_UNIT_TEXT } from "../../../boot/machine";
import { renderProxyUserData } from "../../../components/proxy";
import { redisUserData } from "../../../components/redisServer";

const proxy = renderProxyUserData({
  appPort: 3000, deployment: "aviary-prod", bucket: "b-1", agentKeyParameterName: "/aviary/prod/agent", redisUrlParameterName: "/aviary/prod/redis/url",
  region: "us-east-1", latencyThresholdMs: 500, accessLog: "errors",
});

describe("withDataVolumeAsDirectory", () => {
  const script = redisUserData({ passwordParameterName: "/aviary/prod/redis/password", region: "us-east-1" });
  it("replaces only the find/format/mount block", () => {
    const out = withDataVolumeAsDirectory(script);
    expect(out).not.toMatch(/lsblk|mkfs|fstab|mount -a/);
    expect(out).toContain("mkdir -p /data\n");
    expect(out).toContain("chown redis6:redis6 /data/redis");
    expect(out).toContain("dir /data/redis");
  });
  it("throws when the block is not there", () => {
    expect(() => withDataVolumeAsDirectory(script.replace("# Data volume:", "# Volume:"))).toThrow(DataVolumeBlockNotFound);
  });
});

describe("fileLimit", () => {
  it.each([
    ["Max open files            20000                20000                files     ", 20000],
    ["Max open files            1024                 unlimited            files     ", Infinity],
  ])("hardFileLimit(%j) = %d", (line, want) => {
    expect(hardFileLimit(`Limit Soft Hard Units\n${line}\n`)).toBe(want);
  });
  it.each([[20000, 9950], [524288, 262094]])("maxconnWithin(%d) = %d", (limit, want) => {
    expect(maxconnWithin(limit)).toBe(want);
  });
  it("lowers the proxy's global maxconn only when it does not fit", () => {
    expect(proxy).toMatch(/^ {4}maxconn 20000$/m);
    expect(withMaxconnWithin(proxy, 20000)).toMatch(/^ {4}maxconn 9950$/m);
    expect(withMaxconnWithin(proxy, 524288)).toBe(proxy);
  });
  it("throws when there is no maxconn line", () => {
    expect(() => withMaxconnWithin("#!/bin/bash\n", 20000)).toThrow(/maxconn/);
  });
});

describe("the instance's own files", () => {
  it("user data runs after network-online.target, once per instance", () => {
    expect(USER_DATA_UNIT_TEXT).toMatch(/^After=network-online.target$/m);
    expect(USER_DATA_UNIT_TEXT).toMatch(/^Wants=network-online.target$/m);
    expect(USER_DATA_UNIT_TEXT).toMatch(/^ConditionPathExists=!\/var\/lib\/aviary-boot\/user-data.done$/m);
  });
  it("the network has the /24 and the metadata address, and no gateway", () => {
    const f = networkFile("10.213.7.10");
    expect(f).toContain("Address=10.213.7.10/24");
    expect(f).toContain("Destination=169.254.169.254/32");
    expect(f).not.toMatch(/Gateway|DHCP=yes/);
  });
});
