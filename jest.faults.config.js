/** `npm run test:faults`: the fault suite against the whole local stack, apart from `npm test`. */
const base = require("./jest.config");

/** @type {import('jest').Config} */
module.exports = { ...base, roots: ["<rootDir>/tests/faults"], testPathIgnorePatterns: ["/node_modules/"], testTimeout: 300_000 };
