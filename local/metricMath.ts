// The slice of CloudWatch metric math that Aviary's alarm definitions use (numbers, metric ids,
// + - * /, comparisons, IF(cond, a, b)), evaluated locally so the expression string in
// core/alarms/definitions.ts is the one both CloudWatch and the local evaluator read.
import jsep from "jsep";
import { InvalidInputError } from "../core/errors";

const BINARY: Record<string, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  ">": (a, b) => Number(a > b),
  ">=": (a, b) => Number(a >= b),
  "<": (a, b) => Number(a < b),
  "<=": (a, b) => Number(a <= b),
  "==": (a, b) => Number(a === b),
  "!=": (a, b) => Number(a !== b),
};

function evaluate(node: jsep.Expression, values: Readonly<Record<string, number>>, text: string): number {
  switch (node.type) {
    case "Literal": {
      const v = (node as jsep.Literal).value;
      if (typeof v !== "number") throw new InvalidInputError(`metric math ${JSON.stringify(text)}: only numeric literals are supported`);
      return v;
    }
    case "Identifier": {
      const name = (node as jsep.Identifier).name;
      const v = values[name];
      if (v === undefined) throw new InvalidInputError(`metric math ${JSON.stringify(text)}: no value for metric id "${name}"`);
      return v;
    }
    case "UnaryExpression": {
      const u = node as jsep.UnaryExpression;
      if (u.operator !== "-") throw new InvalidInputError(`metric math ${JSON.stringify(text)}: unsupported operator ${u.operator}`);
      return -evaluate(u.argument, values, text);
    }
    case "BinaryExpression": {
      const b = node as jsep.BinaryExpression;
      const op = BINARY[b.operator];
      if (!op) throw new InvalidInputError(`metric math ${JSON.stringify(text)}: unsupported operator ${b.operator}`);
      return op(evaluate(b.left, values, text), evaluate(b.right, values, text));
    }
    case "CallExpression": {
      const c = node as jsep.CallExpression;
      const callee = c.callee as jsep.Identifier;
      if (callee.type !== "Identifier" || callee.name !== "IF" || c.arguments.length !== 3) {
        throw new InvalidInputError(`metric math ${JSON.stringify(text)}: only IF(condition, then, else) is supported`);
      }
      // Lazy like CloudWatch: the untaken branch may divide by zero without poisoning the result.
      return evaluate(c.arguments[0], values, text) !== 0 ? evaluate(c.arguments[1], values, text) : evaluate(c.arguments[2], values, text);
    }
    default:
      throw new InvalidInputError(`metric math ${JSON.stringify(text)}: unsupported syntax ${node.type}`);
  }
}

/** Compiles an expression once; the result evaluates it for one period's metric values. */
export function compileMetricMath(text: string): (values: Readonly<Record<string, number>>) => number {
  const ast = jsep(text);
  return (values) => evaluate(ast, values, text);
}
