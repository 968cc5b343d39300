// Every error code has one exit code, and every typed error gets it from its code (not its class or message).
import { EXIT_CODES, exitCodeFor } from "../../../cli/exitCodes";
import { UsageError } from "../../../cli/common";
import { ConfigError, InvalidInputError, InvariantError, NotFoundError, ProcessError, TimeoutError, UnreachableError, type AviaryError, type ErrorCode } from "../../../core/errors";
import { ConflictError, GarbageValueError, RedisKeyError, WrongTypeError } from "../../../state/errors";
import { FlagValidationError } from "../../../state/flags";
import { RedisUnreachableError } from "../../../state/unreachable";

// A Record over ErrorCode: adding a code without an exit code here does not compile.
const EXPECTED: Record<ErrorCode, { exit: number; errors: AviaryError[] }> = {
  "invalid-input": { exit: 2, errors: [new InvalidInputError("x"), new UsageError("x"), new FlagValidationError("x")] },
  "invalid-config": { exit: 2, errors: [new ConfigError("x")] },
  "wrong-type": { exit: 3, errors: [new WrongTypeError("aviary:routing", { type: "string" }, "hash")] },
  "garbage-value": {
    exit: 3,
    errors: [new GarbageValueError({ key: "aviary:routing", field: "canaryWeight", found: { type: "string", size: 1, prefix: "x" }, expected: "an integer 0..100" }, "set a weight")],
  },
  conflict: { exit: 1, errors: [new ConflictError("x")] },
  "key-failed": { exit: 1, errors: [new RedisKeyError("aviary:controller", new Error("OOM"))] },
  unreachable: { exit: 1, errors: [new UnreachableError("x"), new RedisUnreachableError("127.0.0.1:6379", "connection refused")] },
  "not-found": { exit: 1, errors: [new NotFoundError("x")] },
  timeout: { exit: 1, errors: [new TimeoutError("x")] },
  "process-failed": { exit: 1, errors: [new ProcessError("x")] },
  internal: { exit: 1, errors: [new InvariantError("x")] },
};

const rows = Object.entries(EXPECTED).flatMap(([code, { exit, errors }]) => errors.map((err) => [code, err.name, exit, err] as const));

test.each(rows)("%s (%s) → exit %d", (code, _name, exit, err) => {
  expect(err.code).toBe(code);
  expect(EXIT_CODES[err.code]).toBe(exit);
  expect(exitCodeFor(err)).toBe(exit);
});

test("the table has exactly the codes there are", () => {
  expect(Object.keys(EXIT_CODES).sort()).toEqual(Object.keys(EXPECTED).sort());
});

test.each([
  ["a plain Error", new Error("REDIS_URL is not set")],
  ["a thrown string", "invalid-input"],
  ["an object that only looks typed", { code: "invalid-input", message: "x" }],
])("%s is not Aviary's own → exit 1", (_label, err) => {
  expect(exitCodeFor(err)).toBe(1);
});
