// The alarm catalogue is the one home of each alarm's key, stack and action: the factories build
// CloudWatch alarms from it and the controller looks actions up in it, so neither may say otherwise.
import { ALARM_CATALOGUE, ALARM_KEYS, alarmName, thresholdOf, type AlarmThresholds } from "../../../core/alarms/catalogue";
import { canaryAlarms, prodAlarms } from "../../../core/alarms/definitions";
import { actionOf, scaleOutAlarmNames } from "../../../core/controller/decide";

// Distinct values, so an alarm reading another alarm's threshold shows.
const thresholds: AlarmThresholds = { scaleOutCpu: 61, scaleInCpu: 22, memory: 83, canaryErrorRate: 4, canaryP99Ms: 1234 };
const built = [...prodAlarms(thresholds, { autoScalingGroupName: "asg", deployment: "d" }), ...canaryAlarms(thresholds, { deployment: "d" })];

test.each([
  ["prod-cpu-high", "prod", "scaleOut", "scaleOutCpu"],
  ["prod-cpu-low", "prod", "scaleIn", "scaleInCpu"],
  ["prod-memory-high", "prod", "notify", "memory"],
  ["canary-5xx-rate", "canary", "rollbackCanary", "canaryErrorRate"],
  ["canary-p99-latency", "canary", "rollbackCanary", "canaryP99Ms"],
  ["canary-judge-abort", "canary", "rollbackCanary", { fixed: 1 }],
] as const)("%s: the %s stack declares it, the controller does %s, it compares against %o", (key, role, action, threshold) => {
  expect(ALARM_CATALOGUE[key]).toMatchObject({ role, action, threshold });
});

// The program tests and the docs group alarms by this prefix.
test.each(ALARM_KEYS)("%s is named for the stack that declares it", (key) => {
  expect(key.startsWith(`${ALARM_CATALOGUE[key].role}-`)).toBe(true);
});

test("each stack's factory builds exactly the catalogue's alarms of that stack", () => {
  const keysOf = (role: string) => ALARM_KEYS.filter((k) => ALARM_CATALOGUE[k].role === role);
  expect(prodAlarms(thresholds, { autoScalingGroupName: "asg", deployment: "d" }).map((a) => a.key)).toEqual(keysOf("prod"));
  expect(canaryAlarms(thresholds, { deployment: "d" }).map((a) => a.key)).toEqual(keysOf("canary"));
});

test.each(ALARM_KEYS)("%s is built with the role, action, threshold and description of its catalogue entry", (key) => {
  const entry = ALARM_CATALOGUE[key];
  const alarm = built.find((a) => a.key === key);
  expect(alarm).toMatchObject({
    role: entry.role,
    action: entry.action,
    threshold: thresholdOf(entry, thresholds),
    description: entry.describe(thresholdOf(entry, thresholds)),
  });
  expect(alarm?.description).toContain(String(thresholdOf(entry, thresholds)));
});

test.each(ALARM_KEYS)("the controller acts on %s as its catalogue entry says", (key) => {
  expect(actionOf(alarmName("aviary-prod", key))).toEqual({ key, action: ALARM_CATALOGUE[key].action });
});

test("the scale-out alarms the controller checks before scaling in are the catalogue's scaleOut alarms", () => {
  const scaleOut = ALARM_KEYS.filter((k) => ALARM_CATALOGUE[k].action === "scaleOut").map((k) => alarmName("aviary-prod", k));
  expect(scaleOut.length).toBeGreaterThan(0);
  expect(scaleOutAlarmNames(alarmName("aviary-prod", "prod-cpu-low"))).toEqual(scaleOut);
});
