/**
 * Size limits for text that goes into or comes out of Redis: stored text is cut to fit (with a
 * marker saying so, see core/bounds.ts), and text shown in a problem or log line is only ever a
 * size and a prefix.
 */
import { truncate } from "../core/bounds";

/** Longest value a reader accepts from one stream-entry field before cutting it. */
export const MAX_EVENT_FIELD = 4000;
/** Most fields a reader accepts in one stream entry. */
export const MAX_EVENT_FIELDS = 64;
/** Largest stored flag definition (its JSON); every app parses every flag on every change. */
export const MAX_FLAG_JSON = 64 * 1024;
/** Largest stored segment definition (its JSON); every app parses every segment on every change. About 6000 UUID keys fit. */
export const MAX_SEGMENT_JSON = 256 * 1024;
/** Longest change notice a subscriber parses (real ones are under 200 characters). */
export const MAX_NOTICE = 1024;
/** Longest problem or error line a reader logs or shows (a message may quote a bad value). */
export const MAX_PROBLEM = 300;
/** Characters of a value shown in a problem line (the Lua side counts bytes: the same for ASCII). */
export const PREVIEW_CHARS = 40;

/** Units a size is given in, plural → singular. */
export const SIZE_UNITS = {
  characters: "character",
  bytes: "byte",
  fields: "field",
  items: "item",
  members: "member",
  entries: "entry",
  elements: "element",
} as const;
export type SizeUnit = keyof typeof SIZE_UNITS;

/** A problem or error message fit for a log line: short ones whole, long ones cut with a marker. */
export function boundProblem(text: string): string {
  return truncate(text, MAX_PROBLEM);
}

/**
 * A value as it may appear in a message: its size and a short JSON-quoted prefix, never in full,
 * e.g. `5000 bytes starting "junk-"`. `size` and `unit` default to the value's own length; pass
 * the size Redis reported when `value` is only a prefix read from it. No prefix shown for "".
 */
export function preview(value: string, size: number = value.length, unit: SizeUnit = "characters"): string {
  const amount = `${size} ${size === 1 ? SIZE_UNITS[unit] : unit}`;
  return value === "" ? amount : `${amount} starting ${JSON.stringify(value.slice(0, PREVIEW_CHARS))}`;
}
