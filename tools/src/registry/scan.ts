import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

/** TypeScript files under `dir` (recursively), skipping node_modules; specs optional. */
export function listTsFiles(dir: string, opts: { specs?: boolean } = {}): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (
        e.name.endsWith('.ts') &&
        !e.name.endsWith('.d.ts') &&
        (opts.specs || !/\.(spec|test)\.ts$/.test(e.name))
      )
        out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

function parseFile(file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

function stringProp(obj: ts.ObjectLiteralExpression, name: string): string | undefined {
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === name && ts.isStringLiteralLike(p.initializer))
      return p.initializer.text;
  }
  return undefined;
}

/** A class decorated with TypeORM's `@Entity`. */
export interface EntityDecl {
  file: string;
  line: number;
  className: string;
  schema?: string;
  table?: string;
}

/** Finds `@Entity(...)` classes and the schema/table they name, without running the code. */
export function findEntities(file: string): EntityDecl[] {
  const sf = parseFile(file);
  const out: EntityDecl[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node)) {
      for (const d of ts.getDecorators(node) ?? []) {
        if (!ts.isCallExpression(d.expression) || d.expression.expression.getText() !== 'Entity') continue;
        const args = d.expression.arguments;
        let table: string | undefined;
        let schema: string | undefined;
        for (const a of args) {
          if (ts.isStringLiteralLike(a)) table = a.text;
          else if (ts.isObjectLiteralExpression(a)) {
            table = stringProp(a, 'name') ?? table;
            schema = stringProp(a, 'schema') ?? schema;
          }
        }
        out.push({
          file,
          line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1,
          className: node.name?.text ?? '<anonymous>',
          schema,
          table,
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** A port number or port variable found in code. */
export interface PortUsage {
  file: string;
  line: number;
  port?: number;
  env?: string;
  text: string;
}

const PORT_ENV = /^(?:[A-Z0-9]+_)*PORT$/;
// port 0 asks the OS for any free port: nothing to register
const isFixedPort = (n: number | undefined) => n !== undefined && n !== 0;

/**
 * Finds ports in code: `listen(<number>)`, `port: <number>`, a `*_PORT` variable read from the
 * environment, and calls naming a `*_PORT` variable with a numeric default (`parsePort(env, 'PORT', 3000)`).
 */
export function findPortUsages(file: string): PortUsage[] {
  const sf = parseFile(file);
  const out: PortUsage[] = [];
  const at = (n: ts.Node) => sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression.getText();
      const strs = node.arguments
        .filter(ts.isStringLiteralLike)
        .map((a) => a.text)
        .filter((s) => PORT_ENV.test(s));
      const nums = node.arguments.filter(ts.isNumericLiteral).map((a) => Number(a.text));
      if (strs.length > 0) {
        out.push({ file, line: at(node), env: strs[0], port: nums[0], text: node.getText().slice(0, 120) });
      } else if (/(^|\.)listen$/.test(callee) && isFixedPort(nums[0])) {
        out.push({ file, line: at(node), port: nums[0], text: node.getText().slice(0, 120) });
      }
    } else if (
      ts.isPropertyAssignment(node) &&
      /^['"]?port['"]?$/i.test(node.name.getText()) &&
      ts.isNumericLiteral(node.initializer) &&
      isFixedPort(Number(node.initializer.text))
    ) {
      out.push({ file, line: at(node), port: Number(node.initializer.text), text: node.getText().slice(0, 120) });
    } else if (
      ts.isPropertyAccessExpression(node) &&
      node.expression.getText() === 'process.env' &&
      PORT_ENV.test(node.name.text)
    ) {
      out.push({ file, line: at(node), env: node.name.text, text: node.getText() });
    } else if (
      ts.isElementAccessExpression(node) &&
      node.expression.getText() === 'process.env' &&
      ts.isStringLiteralLike(node.argumentExpression) &&
      PORT_ENV.test(node.argumentExpression.text)
    ) {
      out.push({ file, line: at(node), env: node.argumentExpression.text, text: node.getText() });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Files under `dir` whose import specifiers start with `@weir/<slice>` (for messages). */
export function filesImporting(dir: string, slice: string): string[] {
  const re = new RegExp(
    `from\\s+['"]@weir/${slice}(?:/[^'"]*)?['"]|require\\(\\s*['"]@weir/${slice}(?:/[^'"]*)?['"]|import\\(\\s*['"]@weir/${slice}`,
  );
  return listTsFiles(dir, { specs: true }).filter((f) => re.test(fs.readFileSync(f, 'utf8')));
}
