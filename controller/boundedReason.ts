// Reasons the controller writes (routing changes, drains, audit events) are cut to fit, never
// refused: a rollback must not fail because CloudWatch wrote a long NewStateReason (up to 1,023
// characters) or a person typed a long abort reason.

/** The longest reason state/routing.ts accepts (its reasonSchema); the controller never sends more. */
export const MAX_REASON_CHARS = 500;

/** Appended to a cut reason, with the original length, so a reader knows text is missing. */
const marker = (length: number): string => ` [truncated, ${length} characters]`;

/** `text` if it fits in `max` characters (UTF-16 units, as the state layer counts), else its start plus a marker. */
export function boundReason(text: string, max: number = MAX_REASON_CHARS): string {
  if (text.length <= max) return text;
  const tail = marker(text.length);
  let cut = Math.max(0, max - tail.length);
  // Never split a surrogate pair (half an emoji is not valid text).
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return `${text.slice(0, cut)}${tail}`.slice(0, max);
}
