// The one formatter that turns validation issues into the lines people read.
import * as z from "zod";
import * as zm from "zod/mini";
import { describeIssue, describeIssues, issuesLine, type Issue, type IssueFormat } from "../../../core/validation/issues";

describe("one issue as one line", () => {
  const nested: Issue = { path: ["alerts", "emails", 0], message: "must be an email address" };
  const root: Issue = { path: [], message: "must be an object" };
  test.each<[string, Issue, IssueFormat | undefined, string]>([
    ["a dotted path, numbers included", nested, undefined, "alerts.emails.0: must be an email address"],
    ["the value itself", root, undefined, "(root): must be an object"],
    ["a field whose name is empty is a field, not the value", { path: [""], message: "is unknown" }, undefined, ": is unknown"],
    ["the value itself, in the caller's words", root, { root: "<message>" }, "<message>: must be an object"],
    ["the value itself, unnamed", root, { root: "" }, ": must be an object"],
    ["a space between field and message", { path: ["ttlSeconds"], message: "must be an integer" }, { separator: " " }, "ttlSeconds must be an integer"],
    ["the value itself with a space", root, { root: "(value)", separator: " " }, "(value) must be an object"],
    ["a path the caller names", nested, { name: (p) => `aviary:${p.map(String).join(".")}` }, "aviary:alerts.emails.0: must be an email address"],
    ["root ignored when the caller names the path", root, { name: () => "aviary:<root>", root: "(root)" }, "aviary:<root>: must be an object"],
  ])("%s", (_what, issue, format, line) => {
    expect(describeIssue(issue, format)).toBe(line);
  });
});

test("every issue gets a line, in order; on one line they are separated by '; '", () => {
  const issues: Issue[] = [
    { path: ["a"], message: "is required" },
    { path: ["b", "c"], message: "must be a number" },
  ];
  expect(describeIssues(issues)).toEqual(["a: is required", "b.c: must be a number"]);
  expect(issuesLine(issues, { root: "<message>" })).toBe("a: is required; b.c: must be a number");
  expect(issuesLine([])).toBe("");
});

// The same schema in zod and zod/mini: both libraries' issues read the same.
test.each([
  ["zod", z.object({ name: z.string().min(1, "must not be empty"), tags: z.array(z.string()) }).safeParse({ name: "", tags: [1] })],
  ["zod/mini", zm.object({ name: zm.string().check(zm.minLength(1, "must not be empty")), tags: zm.array(zm.string()) }).safeParse({ name: "", tags: [1] })],
])("%s issues", (_lib, result) => {
  expect(result.success).toBe(false);
  expect(describeIssues(result.error?.issues ?? [])).toEqual(["name: must not be empty", "tags.0: Invalid input: expected string, received number"]);
});
