#!/usr/bin/env node
// The `mlops` executable (package.json "bin"): loads the TypeScript CLI through tsx.
'use strict';
require('tsx/cjs');
require('./main.ts').runFromProcess();
