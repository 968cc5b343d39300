// The OpenFeature spec suite's test flags (open-feature/spec specification/assets/gherkin/
// test-flags.json), written as Aviary flag definitions. Its CEL `contextEvaluator`s become rules;
// `null-default-flag` and `undefined-default-flag` have no Aviary form (a flag always names its
// default variant) and no scenario uses them.
import type { Condition, FlagDefinitionInput, FlagType, FlagValue } from "../../core/flags/model";

export const TEMPLATE = { showImages: true, title: "Check out these pics!", imagesPerPage: 100 };
/** `email == 'ballmer@macrosoft.com' ? 'zero' : ''` */
const BALLMER: Condition = { attribute: "email", op: "equals", value: "ballmer@macrosoft.com" };

function flag(key: string, type: FlagType, variants: Record<string, FlagValue>, defaultVariant: string, extra: Partial<FlagDefinitionInput> = {}): FlagDefinitionInput {
  return { key, type, enabled: true, variants, defaultVariant, owner: "spec-suite", ...extra };
}

/** The five flags of one type: plain, disabled, zero, targeted zero. */
function family(name: string, type: FlagType, plain: [Record<string, FlagValue>, string], zero: FlagValue, nonZero: FlagValue): FlagDefinitionInput[] {
  const zeros = { zero, "non-zero": nonZero };
  return [
    flag(`${name}-flag`, type, ...plain),
    flag(`${name}-disabled-flag`, type, ...plain, { enabled: false }),
    flag(`${name}-zero-flag`, type, zeros, "zero"),
    flag(`${name}-targeted-zero-flag`, type, zeros, "zero", { rules: [{ conditions: [BALLMER], variant: "zero" }] }),
  ];
}

export const SPEC_FLAGS: FlagDefinitionInput[] = [
  ...family("boolean", "boolean", [{ on: true, off: false }, "on"], false, true),
  ...family("string", "string", [{ greeting: "hi", parting: "bye" }, "greeting"], "", "str"),
  ...family("integer", "integer", [{ one: 1, ten: 10 }, "ten"], 0, 1),
  ...family("float", "number", [{ tenth: 0.1, half: 0.5 }, "half"], 0.0, 1.0),
  ...family("object", "object", [{ empty: {}, template: TEMPLATE }, "template"], {}, TEMPLATE),
  flag("metadata-flag", "boolean", { on: true, off: false }, "on", { metadata: { string: "1.0.2", integer: 2, boolean: true, float: 0.1 } }),
  // `!customer && email == 'ballmer@macrosoft.com' && age > 10 ? 'internal' : ''`
  flag("complex-targeted", "string", { internal: "INTERNAL", external: "EXTERNAL" }, "external", {
    rules: [{ match: "all", conditions: [{ attribute: "customer", op: "equals", value: false }, BALLMER, { attribute: "age", op: "gt", value: 10 }], variant: "internal" }],
  }),
  flag("wrong-flag", "string", { one: "uno", two: "dos" }, "one"),
  // The deprecated evaluation.feature's context-aware flag: fn, ln, age, customer.
  flag("context-aware", "string", { internal: "INTERNAL", external: "EXTERNAL" }, "external", {
    rules: [
      {
        conditions: [
          { attribute: "fn", op: "equals", value: "Sulisław" },
          { attribute: "ln", op: "equals", value: "Świętopełk" },
          { attribute: "age", op: "gt", value: 10 },
          { attribute: "customer", op: "equals", value: false },
        ],
        variant: "internal",
      },
    ],
  }),
];
