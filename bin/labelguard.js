#!/usr/bin/env node
// The published entry point: the bundled CLI (built by `npm ci` / `npm run build`).
import '../dist/cli/main.js';
