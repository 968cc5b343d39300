/**
 * The rule text language people type and read: `plan in [pro, team] and version >= 2.1.0`.
 * parseRuleText turns text into conditions (validated like stored ones), ruleText turns conditions
 * back into text that parses to the same conditions, ruleInWords/segmentInWords say it in English.
 * Hand-written tokenizer and recursive parser: jsep's expression grammar has no semver literals
 * (2.1.0 is not a JS expression) and no multi-word operators (`starts with`, `not in segment`).
 *
 *   rule      := condition (("and" | "or") condition)*          one kind of joiner per rule
 *   condition := "in segment" NAME | "not in segment" NAME | attribute test
 *   attribute := word | "quoted string"
 *   test      := ("=" | "!=") value | ("<" | "<=" | ">" | ">=") (number | semver)
 *              | ["not"] "in" "[" value ("," value)* "]"
 *              | ["not"] ("starts with" | "ends with" | "contains") text
 *   value     := number | true | false | semver | word | "quoted string"
 * A bare semver with = != < <= > >= means a semver comparison; a bare number a numeric one; a
 * quoted value is always a string ("1" and "2.1.0" stay strings). Keywords are case-insensitive.
 */
import { InvalidInputError } from "../errors";
import { describeIssues, type Issue } from "../validation/issues";
import { conditionSchema, type Condition, type FlagRule, type MatchMode, type Scalar, type SegmentDefinition } from "./model";
import { parseSemver } from "./semver";

/** Rule text that does not parse, or parses to conditions that are invalid: one problem per line. */
export class RuleSyntaxError extends InvalidInputError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid rule: ${problems.join("; ")}`);
  }
}

type Token = { kind: "word" | "quoted" | "symbol" | "end"; text: string; column: number };

const SYMBOLS = ["==", "!=", "<=", ">=", "=", "<", ">", "[", "]", ",", "(", ")"];
const WORD = /[^\s[\],"=<>!()]+/y;
const BARE = /^[^\s[\],"=<>!()]+$/;
const NUMBER = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;
/** Words with a meaning of their own: a string spelled like one is quoted by ruleText. */
const KEYWORDS = new Set(["and", "or", "in", "not", "segment", "starts", "ends", "with", "contains", "true", "false"]);

function syntaxError(at: Token | number, expected: string, found: Token | string): RuleSyntaxError {
  const column = typeof at === "number" ? at : at.column;
  const what = typeof found === "string" ? found : found.kind === "end" ? "end of text" : JSON.stringify(found.text);
  return new RuleSyntaxError([`at column ${column}: expected ${expected}, found ${what}`]);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i])) {
      i++;
      continue;
    }
    const column = i + 1;
    if (text[i] === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) throw syntaxError(text.length + 1, `a closing " for the string at column ${column}`, "end of text");
      let value: unknown;
      try {
        value = JSON.parse(text.slice(i, j + 1));
      } catch {
        throw syntaxError(column, 'a string with JSON escapes (\\" \\\\ \\n \\uXXXX)', JSON.stringify(text.slice(i, j + 1)));
      }
      tokens.push({ kind: "quoted", text: value as string, column });
      i = j + 1;
      continue;
    }
    const symbol = SYMBOLS.find((s) => text.startsWith(s, i));
    if (symbol !== undefined) {
      tokens.push({ kind: "symbol", text: symbol, column });
      i += symbol.length;
      continue;
    }
    WORD.lastIndex = i;
    const word = WORD.exec(text);
    if (word === null) throw syntaxError(column, "a name, a value or an operator", JSON.stringify(text[i]));
    tokens.push({ kind: "word", text: word[0], column });
    i += word[0].length;
  }
  tokens.push({ kind: "end", text: "", column: text.length + 1 });
  return tokens;
}

const isWord = (t: Token, keyword: string): boolean => t.kind === "word" && t.text.toLowerCase() === keyword;
const isSymbol = (t: Token, symbol: string): boolean => t.kind === "symbol" && t.text === symbol;
const isSemver = (s: string): boolean => parseSemver(s) !== undefined;

/** A value as written: bare numbers and true/false are typed, everything else is a string. */
function scalarOf(t: Token): Scalar {
  if (t.kind === "quoted") return t.text;
  if (NUMBER.test(t.text)) return Number(t.text);
  const lower = t.text.toLowerCase();
  if (lower === "true" || lower === "false") return lower === "true";
  return t.text;
}

const ORDER_OPS = { "<": ["lt", "semverLt"], "<=": ["lte", "semverLte"], ">": ["gt", "semverGt"], ">=": ["gte", "semverGte"] } as const;
const STRING_WORDS = { starts: ["startsWith", "notStartsWith"], ends: ["endsWith", "notEndsWith"], contains: ["contains", "notContains"] } as const;

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== "end") this.pos++;
    return t;
  }

  private expectWord(keyword: string, after: string): void {
    const t = this.next();
    if (!isWord(t, keyword)) throw syntaxError(t, `"${keyword}" after "${after}"`, t);
  }

  /** A value token: anything but a symbol, the end, or a joiner (which would end the condition). */
  private value(after: string): Token {
    const t = this.next();
    if (t.kind === "quoted" || (t.kind === "word" && !isWord(t, "and") && !isWord(t, "or"))) return t;
    throw syntaxError(t, `a value after "${after}"`, t);
  }

  rule(): { match: MatchMode; conditions: Condition[] } {
    const conditions = [this.condition()];
    let joiner: Token | undefined;
    for (;;) {
      const t = this.next();
      if (t.kind === "end") break;
      if (!isWord(t, "and") && !isWord(t, "or")) throw syntaxError(t, '"and", "or" or the end of the rule', t);
      if (joiner !== undefined && joiner.text.toLowerCase() !== t.text.toLowerCase()) {
        throw new RuleSyntaxError([
          `at column ${t.column}: found "${t.text}" after "${joiner.text}": one rule joins all its conditions with "and" or all with "or"; ` +
            `put the other part in a segment (aviary flags segment set) or in a second rule`,
        ]);
      }
      joiner = t;
      conditions.push(this.condition());
    }
    return { match: joiner !== undefined && isWord(joiner, "or") ? "any" : "all", conditions };
  }

  private condition(): Condition {
    const t = this.peek();
    if (isSymbol(t, "(")) throw syntaxError(t, "a condition (there is no grouping: use a segment or a second rule)", t);
    if (isWord(t, "in") || isWord(t, "not")) return this.segmentCondition();
    const attr = this.next();
    if (attr.kind !== "word" && attr.kind !== "quoted") throw syntaxError(attr, 'an attribute name, "in segment" or "not in segment"', attr);
    return this.test(attr.text, attr);
  }

  private segmentCondition(): Condition {
    const negated = isWord(this.peek(), "not");
    if (negated) this.next();
    this.expectWord("in", negated ? "not" : "the start of a condition");
    this.expectWord("segment", "in");
    const name = this.value("segment");
    return { op: negated ? "notInSegment" : "inSegment", segment: name.text };
  }

  private test(attribute: string, attrToken: Token): Condition {
    const op = this.next();
    if (isSymbol(op, "=") || isSymbol(op, "==") || isSymbol(op, "!=")) {
      const v = this.value(op.text);
      const negated = op.text === "!=";
      if (v.kind === "word" && isSemver(v.text)) return { attribute, op: negated ? "semverNe" : "semverEq", value: v.text };
      return { attribute, op: negated ? "notEquals" : "equals", value: scalarOf(v) };
    }
    if (op.kind === "symbol" && op.text in ORDER_OPS) {
      const [numberOp, semverOp] = ORDER_OPS[op.text as keyof typeof ORDER_OPS];
      const v = this.value(op.text);
      if (v.kind === "word" && NUMBER.test(v.text)) return { attribute, op: numberOp, value: Number(v.text) };
      if (isSemver(v.text)) return { attribute, op: semverOp, value: v.text };
      throw syntaxError(v, `a number or a semantic version (like 2.1.0) after "${op.text}"`, v);
    }
    const negated = isWord(op, "not");
    const word = negated ? this.next() : op;
    if (isWord(word, "in")) return { attribute, op: negated ? "notIn" : "in", values: this.list(word) };
    const stringOps = word.kind === "word" ? STRING_WORDS[word.text.toLowerCase() as keyof typeof STRING_WORDS] : undefined;
    if (stringOps !== undefined) {
      if (!isWord(word, "contains")) this.expectWord("with", word.text);
      const v = this.value(isWord(word, "contains") ? word.text : `${word.text} with`);
      return { attribute, op: stringOps[negated ? 1 : 0], value: v.text };
    }
    if (negated) throw syntaxError(word, '"in", "starts with", "ends with" or "contains" after "not"', word);
    throw syntaxError(
      op,
      `an operator after ${JSON.stringify(attrToken.text)} (= != < <= > >= in, not in, starts with, ends with, contains, not …)`,
      op,
    );
  }

  private list(inToken: Token): Scalar[] {
    const open = this.next();
    if (!isSymbol(open, "[")) throw syntaxError(open, `"[" after "${inToken.text}" (a list like [pro, team])`, open);
    const values = [scalarOf(this.value("["))];
    for (;;) {
      const t = this.next();
      if (isSymbol(t, "]")) return values;
      if (!isSymbol(t, ",")) throw syntaxError(t, '"," or "]"', t);
      values.push(scalarOf(this.value(",")));
    }
  }
}

/** The one branch of the condition union that fits the op we built: its issues are the real ones. */
function conditionIssues(c: Condition): readonly Issue[] {
  const parsed = conditionSchema.safeParse(c);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) => {
    if (issue.code !== "invalid_union") return [issue];
    const fitting = issue.errors.find((branch) => branch.every((i) => i.path[0] !== "op" && i.code !== "unrecognized_keys"));
    return fitting ?? [issue];
  });
}

/**
 * Conditions from rule text; a single condition is match "all". Throws a RuleSyntaxError naming the
 * column, what was expected and what was found; or, for text that parses, one problem per invalid condition.
 */
export function parseRuleText(text: string): { match: MatchMode; conditions: Condition[] } {
  const parsed = new Parser(tokenize(text)).rule();
  const problems = parsed.conditions.flatMap((c, i) =>
    describeIssues(conditionIssues(c), {
      name: (path) => `condition ${i + 1} (${phrase(c, AS_TEXT)})${path.length === 0 ? "" : ` ${path.map(String).join(".")}`}`,
      separator: ": ",
    }),
  );
  if (problems.length > 0) throw new RuleSyntaxError(problems);
  return parsed;
}

/** A name or string as written: bare when it reads back as the same string, else quoted. */
function textOf(s: string): string {
  return BARE.test(s) && !KEYWORDS.has(s.toLowerCase()) && !NUMBER.test(s) && !isSemver(s) ? s : JSON.stringify(s);
}

function numberText(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

function scalarText(v: Scalar): string {
  return typeof v === "string" ? textOf(v) : typeof v === "number" ? numberText(v) : String(v);
}

/** Each attribute operator as rule text and in words. */
const OP_PHRASES = {
  equals: ["=", "is"], notEquals: ["!=", "is not"],
  lt: ["<", "is less than"], lte: ["<=", "is at most"], gt: [">", "is more than"], gte: [">=", "is at least"],
  semverEq: ["=", "is"], semverNe: ["!=", "is not"],
  semverLt: ["<", "is before"], semverLte: ["<=", "is at most"], semverGt: [">", "is after"], semverGte: [">=", "is at least"],
  startsWith: ["starts with", "starts with"], endsWith: ["ends with", "ends with"], contains: ["contains", "contains"],
  notStartsWith: ["not starts with", "does not start with"], notEndsWith: ["not ends with", "does not end with"], notContains: ["not contains", "does not contain"],
} as const;

/** How a condition is written: as rule text (parses back) or in words (for people). */
interface Phrasing {
  /** 0: rule text, 1: words (the columns of OP_PHRASES). */
  readonly form: 0 | 1;
  readonly in: string;
  readonly notIn: string;
  readonly list: (values: string[]) => string;
}
const AS_TEXT: Phrasing = { form: 0, in: "in", notIn: "not in", list: (values) => `[${values.join(", ")}]` };
const IN_WORDS: Phrasing = { form: 1, in: "is one of", notIn: "is none of", list: (values) => values.join(", ") };

function phrase(c: Condition, p: Phrasing): string {
  if ("segment" in c) return `${c.op === "inSegment" ? "in" : "not in"} segment ${textOf(c.segment)}`;
  const attr = textOf(c.attribute);
  if ("values" in c) return `${attr} ${c.op === "in" ? p.in : p.notIn} ${p.list(c.values.map(scalarText))}`;
  // A semver op's value is a semver: written bare it parses back to the semver op.
  const value = c.op.startsWith("semver") ? String(c.value) : scalarText(c.value);
  return `${attr} ${OP_PHRASES[c.op][p.form]} ${value}`;
}

function phraseAll(match: MatchMode, conditions: readonly Condition[], p: Phrasing): string {
  return conditions.map((c) => phrase(c, p)).join(match === "any" ? " or " : " and ");
}

/** Rule text that parseRuleText reads back as the same conditions. */
export function ruleText(rule: { match: MatchMode; conditions: readonly Condition[] }): string {
  return phraseAll(rule.match, rule.conditions, AS_TEXT);
}

/** For people: `if plan is one of pro, team and version is at least 2.1.0 → on (20 % of them)`. */
export function ruleInWords(rule: FlagRule): string {
  const share = rule.percentage === undefined ? "" : ` (${rule.percentage} % of them)`;
  return `if ${phraseAll(rule.match, rule.conditions, IN_WORDS)} → ${rule.variant}${share}`;
}

/** For people: who is in the segment, e.g. `users alice, bob, and users where plan is pro; never carol`. */
export function segmentInWords(seg: SegmentDefinition): string {
  const parts = [
    ...(seg.included.length === 0 ? [] : [`users ${seg.included.map(textOf).join(", ")}`]),
    ...(seg.conditions.length === 0 ? [] : [`users where ${phraseAll(seg.match, seg.conditions, IN_WORDS)}`]),
  ];
  const who = parts.length === 0 ? "no users" : parts.join(", and ");
  return seg.excluded.length === 0 ? who : `${who}; never ${seg.excluded.map(textOf).join(", ")}`;
}
