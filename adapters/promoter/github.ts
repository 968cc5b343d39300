// Promoter port on GitHub Actions: dispatches the repository's promote workflow
// (.github/workflows/promote.yml) through the REST API's workflow-dispatch endpoint, with a token
// read at call time (AWS: the SSM SecureString only the controller role may decrypt). The workflow
// checks that the canary still runs the version it was asked to promote.
import { AviaryError, type ErrorCode } from "../../core/errors";
import type { Promoter } from "../../controller/ports";

export const PROMOTE_WORKFLOW = "promote.yml";
const API = "https://api.github.com";

/** `owner/name`, as GitHub allows them. */
export const REPOSITORY = /^[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;

export interface GithubPromoteTarget {
  /** `owner/name`. */
  repository: string;
  /** Branch (or tag) the workflow runs from. */
  ref: string;
}

/**
 * The dispatch failed: `status` is GitHub's HTTP status (undefined when no answer came). A 4xx is
 * the stack's configuration (token, repository, ref, workflow inputs) and will fail again; a 5xx or
 * no answer may pass on a retry.
 */
export class WorkflowDispatchError extends AviaryError {
  readonly code: ErrorCode;
  constructor(readonly status: number | undefined, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = status !== undefined && status >= 400 && status < 500 ? "invalid-config" : "unreachable";
  }
}

/** What the promote workflow's dispatch sends: its ref and the inputs promote.yml declares. */
export function dispatchRequest(target: GithubPromoteTarget, appVersion: string, rolloutId: string): { url: string; body: { ref: string; inputs: Record<string, string> } } {
  return {
    url: `${API}/repos/${target.repository}/actions/workflows/${PROMOTE_WORKFLOW}/dispatches`,
    body: { ref: target.ref, inputs: { appVersion, rolloutId } },
  };
}

export class GithubPromoter implements Promoter {
  constructor(
    private readonly target: GithubPromoteTarget,
    private readonly token: () => Promise<string>,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  async promote(appVersion: string, rolloutId: string): Promise<void> {
    const { url, body } = dispatchRequest(this.target, appVersion, rolloutId);
    const token = await this.token();
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method: "POST",
        headers: {
          Accept: "application/vnd.github+json",
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
          "X-GitHub-Api-Version": "2022-11-28",
          "User-Agent": "aviary-controller",
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new WorkflowDispatchError(undefined, `promote workflow of ${this.target.repository}: no answer from GitHub (${(err as Error).message})`, { cause: err });
    }
    if (response.ok) return;
    // GitHub's error body is JSON with a message; it never echoes the token.
    const detail = await response.text().then((t) => t.slice(0, 300), () => "");
    throw new WorkflowDispatchError(response.status, `promote workflow of ${this.target.repository}@${this.target.ref}: GitHub answered HTTP ${response.status}${detail ? `: ${detail}` : ""}`);
  }
}
