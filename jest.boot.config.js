/** `npm run test:boot`: instance boot scripts under a real systemd (systemd-nspawn), apart from `npm test`. */
const base = require("./jest.config");

/** @type {import('jest').Config} */
module.exports = { ...base, roots: ["<rootDir>/tests/boot"], testMatch: ["**/*.boot.test.ts"], testPathIgnorePatterns: ["/node_modules/"], testTimeout: 300_000 };
