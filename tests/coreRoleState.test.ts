import { ALARM_STATES, isAlarmState } from "../core/alarms/state";
import { isRole, ROLES } from "../core/routing/role";

test("the roles are prod and canary, in slot order", () => {
  expect(ROLES).toEqual(["prod", "canary"]);
});

test.each([
  ["prod", true],
  ["canary", true],
  ["Prod", false],
  ["", false],
  [undefined, false],
])("isRole(%j) is %s", (value, expected) => {
  expect(isRole(value)).toBe(expected);
});

test("the alarm states are CloudWatch's three StateValues", () => {
  expect(ALARM_STATES).toEqual(["OK", "ALARM", "INSUFFICIENT_DATA"]);
});

test.each([
  ["OK", true],
  ["ALARM", true],
  ["INSUFFICIENT_DATA", true],
  ["ok", false],
  ["ALARM ", false],
  [undefined, false],
])("isAlarmState(%j) is %s", (value, expected) => {
  expect(isAlarmState(value)).toBe(expected);
});
