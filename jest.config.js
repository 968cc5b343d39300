/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "<rootDir>/tests/support/testEnvironment.js",
  // Pulumi keeps its runtime state on globals; jest's global clean-up would only warn about it.
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // The fault suite runs on its own: `npm run test:faults` (jest.faults.config.js).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/faults/"],
  // Type-checking is done once by `npm run typecheck`; swc only strips types, so tests start fast.
  transform: { "^.+\\.ts$": ["@swc/jest"] },
  testTimeout: 60000,
};
