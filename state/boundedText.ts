// Values read from Redis may be megabytes of garbage: messages carry a size and a short prefix.

/** The quoted text when it is at most `max` bytes, else its size and its first `max` characters. */
export function boundedText(text: string, max: number, size: number = Buffer.byteLength(text)): string {
  return size <= max ? JSON.stringify(text) : `${size} bytes starting ${JSON.stringify(text.slice(0, max))}`;
}
