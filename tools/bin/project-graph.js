#!/usr/bin/env node
// Prints the Nx project graph of the workspace in the current directory as one JSON line
// ({ nodes: { name: { root, tags } }, dependencies }). Used by the registry check.
const { createProjectGraphAsync } = require('nx/src/devkit-exports');

createProjectGraphAsync({ exitOnError: false })
  .then((g) => {
    const nodes = {};
    for (const [name, n] of Object.entries(g.nodes)) nodes[name] = { root: n.data.root, tags: n.data.tags || [] };
    process.stdout.write('\n' + JSON.stringify({ nodes, dependencies: g.dependencies }) + '\n');
  })
  .catch((e) => {
    process.stderr.write(`project graph failed: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
  });
