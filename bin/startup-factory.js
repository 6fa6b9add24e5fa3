#!/usr/bin/env node
// Node 24 strips TypeScript types natively, so the CLI runs from src/ with no build step.
// The compile cache (NODE_COMPILE_CACHE, else the temp dir) spares each task Job's process
// most of compiling its sources and dependencies again.
import module from 'node:module';
module.enableCompileCache?.();
await import('../src/cli/main.ts');
