/**
 * MurmurHash3 (x86, 32-bit) over the UTF-8 bytes of a string: a stable, well-mixed hash that any
 * other language can reproduce, cheap enough for per-request bucketing (no crypto, no allocation).
 */
let buf = new Uint8Array(256);
const encoder = new TextEncoder();

export function murmur3(input: string, seed = 0): number {
  if (input.length * 3 > buf.length) buf = new Uint8Array(input.length * 3);
  const len = encoder.encodeInto(input, buf).written;
  let h = seed >>> 0;
  const tail = len & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rem = len & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= buf[tail + 2] << 16;
    if (rem >= 2) k ^= buf[tail + 1] << 8;
    k ^= buf[tail];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
