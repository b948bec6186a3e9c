/* eslint-disable no-console -- a command-line tool */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withErrorCodeTable, errorCodes } from './error-codes';

const root = path.resolve(__dirname, '..', '..', '..');
const file = path.join(root, 'README.md');
const before = fs.readFileSync(file, 'utf8');
const after = withErrorCodeTable(root, before);
if (after !== before) fs.writeFileSync(file, after);
console.log(`README.md: ${errorCodes(root).length} error codes${after === before ? ' (unchanged)' : ' written'}`);
