// The controller's SMS lines (controller/smsText.ts): one segment whatever the decision says.
import { alarmSms, configSms, SMS_MAX_CHARS, smsLine } from "../../../controller/smsText";

// GSM 03.38 basic character set, printable ASCII part (no backtick, no extension-table characters).
const GSM_BASIC_ASCII = /^[A-Za-z0-9 @$_!"#%&'()*+,\-./:;<=>?]*$/;

describe("smsLine", () => {
  test.each([
    ["plain text stays", "scale out 3 -> 4", "scale out 3 -> 4"],
    ["newlines and runs of spaces collapse", "line one\nReason:   two\r\n", "line one Reason: two"],
    ["extension-table characters are replaced by one-septet ones", "[a]{b}\\c^d~e|f`g", "(a)(b)/c'd-e/f'g"],
    ["non-ASCII characters become spaces (no UCS-2: 70 characters a segment)", "café → ok ✓", "caf ok"],
  ])("%s", (_name, input, expected) => {
    expect(smsLine(input)).toBe(expected);
  });

  test.each([139, 140, 141, 500])("a %i-character text fits one segment", (n) => {
    const line = smsLine("x".repeat(n));
    expect(line.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    if (n > SMS_MAX_CHARS) expect(line.endsWith("...")).toBe(true);
    else expect(line).toBe("x".repeat(n));
  });

  test("a long decision is cut, never split into a second billed SMS", () => {
    const reason = "Threshold Crossed: 2 out of the last 3 datapoints [81.2 (24/11/26 09:59:00), 78.9 (24/11/26 09:58:00)] were greater than or equal to the threshold (70.0)";
    const line = alarmSms("aviary-prod-prod-cpu-high", "ALARM", `no scale-out: at max 6 - ${reason}`);
    expect(line.length).toBeLessThanOrEqual(SMS_MAX_CHARS);
    expect(line).toMatch(GSM_BASIC_ASCII);
    expect(line.startsWith("Aviary aviary-prod-prod-cpu-high ALARM: no scale-out: at max 6")).toBe(true);
  });
});

test("alarm and configuration lines name what happened", () => {
  expect(alarmSms("aviary-prod-canary-5xx-rate", "ALARM", "disable canary (weight 20 kept)")).toBe("Aviary aviary-prod-canary-5xx-rate ALARM: disable canary (weight 20 kept)");
  expect(configSms("canary weight set to 0")).toBe("Aviary: canary weight set to 0");
});
