// How a validation problem reads: "<field>: <what is wrong>", the field named by its dotted path
// (alerts.emails.0). One formatter for every validator, so the CLI, the stores, the controller and
// the stack config all name the offending field the same way; each caller picks only the words
// that stand for the value itself and the separator, which its messages have always used.

/** What a problem line needs of a validation issue: zod's and zod/mini's issues both have it. */
export interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

export interface IssueFormat {
  /** Names the field at `path`. Default: the dotted path, or `root` when the path is empty. */
  readonly name?: (path: readonly PropertyKey[]) => string;
  /** Stands for the value itself (an empty path) in the default name. Default "(root)". */
  readonly root?: string;
  /** Between the field and the message. Default ": ". */
  readonly separator?: string;
}

/** One issue as one line. */
export function describeIssue(issue: Issue, format: IssueFormat = {}): string {
  const { root = "(root)", separator = ": " } = format;
  const name = format.name ?? ((path) => (path.length === 0 ? root : path.map(String).join(".")));
  return `${name(issue.path)}${separator}${issue.message}`;
}

/** One line per issue, so errors name every offending field. */
export function describeIssues(issues: readonly Issue[], format?: IssueFormat): string[] {
  return issues.map((i) => describeIssue(i, format));
}

/** Every issue on one line, "; " between them (for an error message or a log field). */
export function issuesLine(issues: readonly Issue[], format?: IssueFormat): string {
  return describeIssues(issues, format).join("; ");
}
