// Lets Node run the TypeScript sources directly (swc, no type check, decorator metadata on),
// resolving the @weir/* path aliases from tsconfig.base.json. Used by `npm start` and `weir`.
const path = require('node:path');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
