#!/usr/bin/env node
// Entry point: the compiled CLI (npm ci builds dist/ through the prepare script).
import { main } from '../dist/src/cli/main.js';

await main(process.argv);
