// Jest's node environment, plus: the temp dirs a test file made with tempDir() are removed once the
// file is done (after its own afterAll hooks, so after the processes using them have stopped).
const fs = require("node:fs");
const { TestEnvironment } = require("jest-environment-node");

class AviaryTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__aviaryTempDirs = [];
  }

  async teardown() {
    for (const dir of this.global.__aviaryTempDirs) fs.rmSync(dir, { recursive: true, force: true });
    await super.teardown();
  }
}

module.exports = AviaryTestEnvironment;
