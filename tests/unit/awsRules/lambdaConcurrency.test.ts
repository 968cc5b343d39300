// Lambda's reserved-concurrency quota rule (awsRules/lambdaConcurrency.ts) as a table.
import { reservationFits } from "../../../awsRules/lambdaConcurrency";

describe("reservationFits (awsRules/lambdaConcurrency.ts)", () => {
  test.each([
    // quota, reservation, already reserved, fits
    [10, 0, 0, true],
    [10, 1, 0, false],
    [100, 1, 0, false],
    [101, 1, 0, true],
    [1000, 900, 0, true],
    [1000, 901, 0, false],
    [1000, 1, 899, true],
    [1000, 1, 900, false],
  ])("quota %i, reserve %i with %i already reserved: %p", (quota, reservation, already, fits) => {
    expect(reservationFits(quota, reservation, already)).toBe(fits);
  });
});
