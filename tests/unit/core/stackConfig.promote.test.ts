// aviary:promote (prod stack): where an autoPromote rollout dispatches the promote workflow, and the
// token it does so with. One line per problem; a bad token's value is never shown.
import { REPO_ROOT } from "../../support/repoRoot";
import { stackConfigProblems as problems } from "../../support/stackConfigProblems";
import { join } from "node:path";
import { aviaryKeys, parseStackConfig } from "../../../core/config/stackConfig";
import { readStackFile } from "../../../config/stackFile";

const prod = readStackFile(join(REPO_ROOT, "Pulumi.prod.yaml"));
const canary = readStackFile(join(REPO_ROOT, "Pulumi.canary.yaml"));
const TOKEN = "github_pat_11AAAAAAA0abcdefghij_klmnopqrstuvwxyz0123456789";
const withPromote = (file: Record<string, string>, promote: unknown) => aviaryKeys({ ...file, "aviary:promote": JSON.stringify(promote) });


test("absent: no promote target (the committed prod stack sets none)", () => {
  const cfg = parseStackConfig(aviaryKeys(prod));
  expect(cfg.role === "prod" && cfg.promote).toBeUndefined();
});

test("parses with ref main by default", () => {
  const cfg = parseStackConfig(withPromote(prod, { repository: "acme/aviary", token: TOKEN }));
  expect(cfg.role === "prod" && cfg.promote).toEqual({ repository: "acme/aviary", ref: "main", token: TOKEN });
  const release = parseStackConfig(withPromote(prod, { repository: "acme/aviary.web", ref: "release/2026-12", token: TOKEN }));
  expect(release.role === "prod" && release.promote?.ref).toBe("release/2026-12");
});

test.each([
  ["no owner", { repository: "aviary", token: TOKEN }, ["aviary:promote.repository: must be the GitHub repository as owner/name (got \"aviary\")"]],
  ["a URL", { repository: "https://github.com/acme/aviary", token: TOKEN }, [expect.stringMatching(/^aviary:promote\.repository: must be the GitHub repository as owner\/name/)]],
  ["a ref with ..", { repository: "acme/aviary", ref: "main..x", token: TOKEN }, [expect.stringMatching(/^aviary:promote\.ref: must be a branch or tag name like main/)]],
  ["no token", { repository: "acme/aviary" }, ["aviary:promote.token: is required"]],
  ["an unknown field", { repository: "acme/aviary", token: TOKEN, workflow: "x.yml" }, ["aviary:promote: unknown field \"workflow\""]],
  ["two problems, two lines", { repository: "aviary", ref: "/main" }, [expect.stringMatching(/^aviary:promote\.repository:/), expect.stringMatching(/^aviary:promote\.ref:/), "aviary:promote.token: is required"]],
])("%s", (_, promote, expected) => {
  expect(problems(withPromote(prod, promote))).toEqual(expected);
});

test("a bad token is named, its value never shown", () => {
  const bad = "ghp_short token with spaces";
  const lines = problems(withPromote(prod, { repository: "acme/aviary", token: bad }));
  expect(lines).toEqual(["aviary:promote.token: must be a GitHub token (20-255 letters, digits, _), set with pulumi config set --secret --path aviary:promote.token (got a value that is not shown)"]);
  expect(lines.join("\n")).not.toContain("ghp_short");
});

test("a key of the prod stack only", () => {
  expect(problems(withPromote(canary, { repository: "acme/aviary", token: TOKEN }))).toEqual(["aviary:promote: is not a key of the canary stack"]);
});
