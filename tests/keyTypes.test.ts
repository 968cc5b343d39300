// Messages about a key of the wrong type: the key, the type found and expected, and for a string
// its size and a short prefix, never the whole value.
import { describeWrongType } from "../state/keyTypes";
import { boundedText } from "../state/boundedText";

test.each<[string, string, Parameters<typeof describeWrongType>[2], { bytes: number; prefix: string } | undefined, string]>([
  ["aviary:backends", "list", "set", undefined, "aviary:backends is a list, expected a set"],
  ["aviary:routing", "string", "hash", { bytes: 7, prefix: "garbage" }, 'aviary:routing is a string ("garbage"), expected a hash'],
  ["aviary:events", "string", "stream", { bytes: 10_485_760, prefix: "z".repeat(32) }, `aviary:events is a string (10485760 bytes starting "${"z".repeat(32)}"), expected a stream`],
])("%s holding a %s", (key, found, expected, sample, message) => {
  expect(describeWrongType(key, found, expected, sample)).toBe(message);
});

test.each([
  ["short", 10, undefined, '"short"'],
  ["a\nquote\"", 20, undefined, '"a\\nquote\\""'],
  ["abcdefghij", 4, undefined, '10 bytes starting "abcd"'],
  ["é".repeat(3), 5, undefined, '6 bytes starting "ééé"'],
])("boundedText(%j, %d)", (text, max, size, expected) => {
  expect(boundedText(text, max, size)).toBe(expected);
});
