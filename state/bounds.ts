/**
 * Size limits for text that goes into or comes out of Redis: stored text is cut to fit (with a
 * marker saying so), and text shown in a problem or log line is only ever a size and a prefix.
 */

/** Longest reason stored with a change (CloudWatch's 1,023-character state reason fits, minus a prefix). */
export const MAX_REASON = 1000;
/** Longest value a reader accepts from one stream-entry field before cutting it. */
export const MAX_EVENT_FIELD = 4000;
/** Most fields a reader accepts in one stream entry. */
export const MAX_EVENT_FIELDS = 64;
/** Longest change notice a subscriber parses (real ones are under 200 characters). */
export const MAX_NOTICE = 1024;
/** Characters of a value shown in a problem line. */
export const PREVIEW_CHARS = 60;

/** `text` unchanged if it fits in `max` characters, else cut so that text plus marker is `max` long. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `… [cut from ${text.length} characters]`;
  let keep = Math.max(0, max - marker.length);
  // Never split a surrogate pair: the half left behind is not valid UTF-8 in Redis.
  if (keep > 0 && /[\uD800-\uDBFF]/.test(text[keep - 1])) keep -= 1;
  return text.slice(0, keep) + marker;
}

/** A value as it may appear in a log line: its size and a short JSON-quoted prefix. */
export function preview(value: string): string {
  const head = value.length > PREVIEW_CHARS ? `${JSON.stringify(value.slice(0, PREVIEW_CHARS))}…` : JSON.stringify(value);
  return `${head} (${value.length} characters)`;
}
