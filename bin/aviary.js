#!/usr/bin/env node
// Built by `npm run build:cli` (runs on `npm install` via "prepare"); see cli/main.ts.
require("../dist/cli.js").main();
