// What the local dashboard shows for each flag and the one action it offers (pure: no Redis).
import { booleanFlag, storedFlagSchema, type FlagDefinition } from "../../../core/flags/model";
import { describeFlags, type FlagSummary } from "../../../local/flags";

const stored = (def: FlagDefinition) => storedFlagSchema.parse({ ...def, updatedBy: "t", updatedAt: "2026-01-01T00:00:00.000Z", version: 1 });
const bool = (patch: Partial<FlagDefinition>) => stored({ ...booleanFlag("hiddenfeature", "web"), ...patch });
const rate = (patch: Partial<FlagDefinition>) =>
  stored({ key: "demo-error-rate", type: "number", enabled: true, variants: { none: 0, on: 50 }, defaultVariant: "none", rules: [], description: "", owner: "demo", ...patch });

test.each<[string, ReturnType<typeof stored>, Pick<FlagSummary, "killed" | "on" | "summary" | "action">]>([
  ["boolean off → turn on", bool({}), { killed: false, on: false, summary: "serves off (false)", action: { kind: "toggle", on: true, label: "turn on" } }],
  ["boolean on → turn off", bool({ defaultVariant: "on" }), { killed: false, on: true, summary: "serves on (true)", action: { kind: "toggle", on: false, label: "turn off" } }],
  [
    "killed after set on: killed, the code's default, only un-kill",
    bool({ defaultVariant: "on", enabled: false }),
    { killed: true, on: false, summary: "KILLED: every request gets the code's default value", action: { kind: "unkill", label: "un-kill" } },
  ],
  ["killed number flag: only un-kill", rate({ enabled: false, defaultVariant: "on" }), { killed: true, on: false, summary: "KILLED: every request gets the code's default value", action: { kind: "unkill", label: "un-kill" } }],
  ["live number flag: no dashboard action", rate({}), { killed: false, on: false, summary: "serves none (0)", action: undefined }],
])("%s", (_name, flag, expected) => {
  const [summary] = describeFlags([flag]);
  expect({ killed: summary.killed, on: summary.on, summary: summary.summary, action: summary.action }).toEqual(expected);
});
