import { ALARM_STATES, isAlarmState } from "../../../core/alarms/state";
import { isRole, ROLES } from "../../../core/routing/role";

test("the roles are prod and canary, in slot order; the alarm states are CloudWatch's three StateValues", () => {
  expect(ROLES).toEqual(["prod", "canary"]);
  expect(ALARM_STATES).toEqual(["OK", "ALARM", "INSUFFICIENT_DATA"]);
});

const is = { isRole, isAlarmState };
test.each<[keyof typeof is, unknown, boolean]>([
  ["isRole", "prod", true],
  ["isRole", "canary", true],
  ["isRole", "Prod", false],
  ["isRole", "", false],
  ["isRole", undefined, false],
  ["isAlarmState", "OK", true],
  ["isAlarmState", "ALARM", true],
  ["isAlarmState", "INSUFFICIENT_DATA", true],
  ["isAlarmState", "ok", false],
  ["isAlarmState", "ALARM ", false],
  ["isAlarmState", undefined, false],
])("%s(%j) is %s", (fn, value, expected) => {
  expect(is[fn](value)).toBe(expected);
});
