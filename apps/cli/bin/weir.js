#!/usr/bin/env node
// The `weir` command: runs the TypeScript CLI through swc (see tools/register.js).
require('../../../tools/register.js');
require('reflect-metadata');
require('../src/main.ts');
