import { formatFiles, Tree, updateJson } from '@nx/devkit';
import { names, readRegistryDoc, requireSlice, writeRegistryDoc } from '../registry-doc';

export interface SliceGeneratorSchema {
  name: string;
}

const APP_MODULE = 'apps/api/src/app.module.ts';

/**
 * `nx g @weir/tools:slice <name>`: creates libs/<name> in the STYLE.md layout for a slice that is
 * registered in DOMAIN_REGISTRY.yaml (and refuses otherwise), marks it built, adds the
 * `@weir/<name>` path alias and wires its module into the API.
 */
export async function sliceGenerator(tree: Tree, options: SliceGeneratorSchema): Promise<void> {
  const name = String(options.name ?? '').trim();
  const doc = readRegistryDoc(tree);
  const slice = requireSlice(doc, name, `create slice "${name}"`);
  const root = `libs/${name}`;
  if (slice.get('status') === 'built' || tree.exists(`${root}/project.json`)) {
    throw new Error(`Refusing to create slice "${name}": it is already built (${root}).`);
  }
  const schema = String(slice.get('schema') ?? name);
  const Pascal = names.pascal(name);
  const CONST = names.constant(name);
  const kebab = names.kebab(name);

  tree.write(
    `${root}/project.json`,
    JSON.stringify(
      {
        name,
        $schema: '../../node_modules/nx/schemas/project-schema.json',
        sourceRoot: `${root}/src`,
        projectType: 'library',
        tags: [`scope:${name}`, 'type:lib'],
        targets: {
          test: { command: `jest -c ${root}/jest.config.js`, options: { cwd: '{workspaceRoot}' } },
          lint: { command: `eslint ${root}`, options: { cwd: '{workspaceRoot}' } },
        },
      },
      null,
      2,
    ) + '\n',
  );
  tree.write(
    `${root}/jest.config.js`,
    `module.exports = {\n  ...require('../../jest.preset.js'),\n  displayName: '${name}',\n  rootDir: __dirname,\n  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],\n};\n`,
  );
  tree.write(
    `${root}/src/index.ts`,
    `/**\n * @weir/${name}: the only public surface of the ${name} slice (module, port tokens and interfaces, events, DTO types).\n */\nexport { ${Pascal}Module } from './${kebab}.module';\n`,
  );
  tree.write(
    `${root}/src/${kebab}.entities.ts`,
    `/** TypeORM entities of the ${name} slice, schema "${schema}" (the table generator adds to this list). */\nexport const ${CONST}_ENTITIES: Function[] = [\n];\n`,
  );
  tree.write(
    `${root}/src/${kebab}.module.ts`,
    `import { Module } from '@nestjs/common';\nimport { TypeOrmModule } from '@nestjs/typeorm';\nimport { ${CONST}_ENTITIES } from './${kebab}.entities';\nimport { ${Pascal}Controller } from './http/${kebab}.controller';\n\n` +
      `/** The ${name} slice. */\n@Module({\n  imports: [TypeOrmModule.forFeature(${CONST}_ENTITIES)],\n  controllers: [${Pascal}Controller],\n})\nexport class ${Pascal}Module {}\n`,
  );
  tree.write(
    `${root}/src/http/${kebab}.controller.ts`,
    `import { Controller, Get } from '@nestjs/common';\nimport { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';\n\n` +
      `export class ${Pascal}StatusResponseDto {\n  @ApiProperty({ example: '${name}' }) slice: string;\n  @ApiProperty({ example: 'ok' }) status: string;\n}\n\n` +
      `@ApiTags('${name}')\n@ApiBearerAuth()\n@Controller('api/${name}')\nexport class ${Pascal}Controller {\n  @Get('status')\n  @ApiOperation({ summary: 'The ${name} slice is loaded and answering' })\n  @ApiOkResponse({ type: ${Pascal}StatusResponseDto })\n  status(): ${Pascal}StatusResponseDto {\n    return { slice: '${name}', status: 'ok' };\n  }\n}\n`,
  );
  tree.write(
    `${root}/src/http/${kebab}.controller.spec.ts`,
    `import { Test } from '@nestjs/testing';\nimport { ${Pascal}Controller } from './${kebab}.controller';\n\n` +
      `describe('${Pascal}Controller', () => {\n  it('answers its status route', async () => {\n    const moduleRef = await Test.createTestingModule({ controllers: [${Pascal}Controller] }).compile();\n` +
      `    expect(moduleRef.get(${Pascal}Controller).status()).toEqual({ slice: '${name}', status: 'ok' });\n  });\n});\n`,
  );
  for (const dir of ['domain', 'application/ports', 'infrastructure']) tree.write(`${root}/src/${dir}/.gitkeep`, '');

  updateJson(tree, 'tsconfig.base.json', (json) => {
    json.compilerOptions.paths = { ...json.compilerOptions.paths, [`@weir/${name}`]: [`./${root}/src/index.ts`] };
    return json;
  });

  slice.set('status', 'built');
  slice.set('lib', root);
  writeRegistryDoc(tree, doc);

  const app = tree.read(APP_MODULE, 'utf-8');
  if (app !== null && app.includes('// weir:slice-imports') && app.includes('// weir:slice-modules')) {
    const updated = app
      .replace('// weir:slice-imports', `import { ${Pascal}Module } from '@weir/${name}';\n// weir:slice-imports`)
      .replace(/( *)\/\/ weir:slice-modules/, `$1${Pascal}Module,\n$1// weir:slice-modules`);
    tree.write(APP_MODULE, updated);
  }
  await formatFiles(tree);
}

export default sliceGenerator;
