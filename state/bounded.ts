/**
 * A value read from Redis or a notice, fit for a log line or an error: short text as it is, long
 * text as its size and a prefix. A 10 MB junk value must cost a log line, not 10 MB per reader.
 */
export function preview(text: string, max = 120): string {
  if (text.length <= max) return text;
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} chars)`;
}
