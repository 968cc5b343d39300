/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "<rootDir>/tests/support/testEnvironment.js",
  // Pulumi keeps its runtime state on globals; jest's global clean-up would only warn about it.
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // The fault suite and the boot suite run on their own: `npm run test:faults`, `npm run test:boot`.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/faults/", "<rootDir>/tests/boot/"],
  // Type-checking is done once by `npm run typecheck`; swc only strips types, so tests start fast.
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  // A hang guard, not a speed budget: on two cores shared with other work, one program run under
  // mocks (a beforeAll) or a real-process test can take minutes; the bench measures speed.
  testTimeout: 180_000,
};
