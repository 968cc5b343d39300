// One admin-socket read shared by the samplers looking within the same second.
import { sharedRead } from "../../../agent/sharedRead";

function counter(fail = false): { read: () => Promise<number>; calls: () => number } {
  let n = 0;
  return { read: () => (++n, fail ? Promise.reject(new RangeError("socket gone")) : Promise.resolve(n)), calls: () => n };
}

test("calls within maxAgeMs of the last started read share it; a later call reads again", async () => {
  let t = 1000;
  const c = counter();
  const read = sharedRead(c.read, 900, () => t);
  expect(await read()).toBe(1);
  t = 1899;
  expect(await read()).toBe(1);
  t = 1900;
  expect(await read()).toBe(2);
  expect(c.calls()).toBe(2);
});

test("a read still in flight is shared too", async () => {
  const c = counter();
  const read = sharedRead(c.read, 900, () => 0);
  expect(await Promise.all([read(), read(), read()])).toEqual([1, 1, 1]);
  expect(c.calls()).toBe(1);
});

test("a failed read is not handed out again: the next call reads", async () => {
  const c = counter(true);
  const read = sharedRead(c.read, 900, () => 0);
  await expect(read()).rejects.toThrow("socket gone");
  await expect(read()).rejects.toThrow("socket gone");
  expect(c.calls()).toBe(2);
});
