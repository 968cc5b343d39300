// Size limits the rules themselves apply: a reason recorded with a change is cut to fit, never
// refused. Used by the decision core and by the state layer that stores the reason.

/** Longest reason stored with a change (CloudWatch's 1,023-character state reason fits, minus a prefix). */
export const MAX_REASON = 1000;

/** `text` unchanged if it fits in `max` characters, else cut so that text plus marker is `max` long. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `… [cut from ${text.length} characters]`;
  let keep = Math.max(0, max - marker.length);
  // Never split a surrogate pair: the half left behind is not valid UTF-8 in Redis.
  if (keep > 0 && /[\uD800-\uDBFF]/.test(text[keep - 1])) keep -= 1;
  return text.slice(0, keep) + marker;
}
