// The schema is the spec language's one description: documented everywhere, and its defaults are core's.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { checkSpec } from '../../core';
import { specSchema } from '../../core/spec/validate';
import { readRepoFile, repoRoot } from '../helpers';

type Schema = Record<string, any>;

/** Every property schema, with its path of property names (`[]` inside array items). */
function properties(schema: Schema, path: string[] = []): { path: string[]; schema: Schema }[] {
  const out: { path: string[]; schema: Schema }[] = [];
  for (const [key, sub] of Object.entries<Schema>(schema.properties ?? {})) {
    out.push({ path: [...path, key], schema: sub }, ...properties(sub, [...path, key]));
  }
  for (const branch of schema.items?.anyOf ?? []) out.push(...properties(branch, [...path, '[]']));
  for (const branch of schema.anyOf ?? []) out.push(...properties(branch, path));
  return out;
}

const all = properties(specSchema);

test('the schema covers the whole DSOD family', () => {
  const names = new Set(all.map((p) => p.path.join('.')));
  for (const required of [
    'input.size',
    'input.channels',
    'classes',
    'backbone.notation',
    'backbone.stem',
    'backbone.stem.convs',
    'backbone.first_conv',
    'backbone.bottleneck',
    'backbone.growth_rate',
    'backbone.compression',
    'backbone.blocks',
    'backbone.blocks.[].layers',
    'backbone.blocks.[].growth_rate',
    'backbone.blocks.[].bottleneck',
    'backbone.transitions',
    'backbone.transitions.[].pool',
    'backbone.transitions.[].compression',
    'backbone.transitions.[].channels',
    'prediction.structure',
    'prediction.scales',
    'prediction.channels',
    'prediction.l2norm',
    'prediction.l2norm.init',
    'heads.kernel',
    'heads.batch_norm',
    'priors.min_sizes',
    'priors.max_sizes',
    'priors.aspect_ratios',
    'priors.steps',
    'priors.offset',
    'priors.variances',
    'priors.clip',
    'train.lr',
    'train.milestones',
    'data.format',
    'budget.target',
    'budget.params',
    'budget.macs',
    'budget.activation_memory',
  ])
    assert.ok(names.has(required), `missing ${required}`);
  assert.equal(specSchema.properties.dsod.const, 1);
});

test('every property has a description and a markdownDescription', () => {
  for (const { path, schema } of all) {
    assert.ok(typeof schema.description === 'string' && schema.description.length > 10, `${path.join('.')} has no description`);
    assert.ok(typeof schema.markdownDescription === 'string' && schema.markdownDescription.length > 10, `${path.join('.')} has no markdownDescription`);
    assert.ok(!schema.description.includes('`'), `${path.join('.')}: plain description with markdown`);
  }
});

test('defaults and examples are themselves valid', () => {
  let checked = 0;
  for (const { path, schema } of all) {
    if (path.includes('[]')) continue; // array items are checked through their arrays' examples
    for (const value of [...(schema.examples ?? []), ...(schema.default !== undefined ? [schema.default] : [])]) {
      const data: Record<string, any> = { dsod: 1 };
      let at = data;
      path.slice(0, -1).forEach((k) => (at = at[k] = {}));
      at[path[path.length - 1]] = value;
      const errors = checkSpec(YAML.stringify(data), 'yaml').diagnostics.filter((d) => d.code.startsWith('schema/'));
      assert.deepEqual(
        errors.map((d) => d.message),
        [],
        `${path.join('.')} = ${JSON.stringify(value)}`,
      );
      checked++;
    }
  }
  assert.ok(checked >= 50, `only ${checked} values checked`);
});

test('writing a default explicitly changes nothing: the schema and core agree on every default', () => {
  let checked = 0;
  for (const { path, schema } of all) {
    if (schema.default === undefined || path.includes('[]')) continue;
    const base: Record<string, any> = { dsod: 1 };
    let at = base;
    path.slice(0, -1).forEach((k) => (at = at[k] = {}));
    const variant = structuredClone(base);
    let v = variant;
    path.slice(0, -1).forEach((k) => (v = v[k]));
    v[path[path.length - 1]] = schema.default;
    const a = checkSpec(YAML.stringify(base), 'yaml');
    const b = checkSpec(YAML.stringify(variant), 'yaml');
    assert.ok(a.spec && b.spec, `${path.join('.')}: ${[...a.diagnostics, ...b.diagnostics].map((d) => d.message).join('; ')}`);
    assert.deepEqual(b.spec, a.spec, `default of ${path.join('.')}`);
    checked++;
  }
  assert.ok(checked >= 30, `only ${checked} defaults checked`);
});

test('train.sync_bn: off unless set, normalized to train.syncBn (what the torch engine reads from the graph JSON)', () => {
  assert.ok(all.some((p) => p.path.join('.') === 'train.sync_bn'));
  assert.equal(checkSpec('dsod: 1\n', 'yaml').spec?.train.syncBn, false);
  const on = checkSpec('dsod: 1\ntrain: { sync_bn: true }\n', 'yaml');
  assert.deepEqual(on.diagnostics, []);
  assert.equal(on.spec?.train.syncBn, true);
  assert.deepEqual(
    checkSpec('dsod: 1\ntrain: { sync_bn: 2 }\n', 'yaml').diagnostics.map((d) => d.code),
    ['schema/type'],
  );
});

test('the extension manifest points at the schema for *.dsod.json', () => {
  const manifest = JSON.parse(readRepoFile('package.json'));
  const v = manifest.contributes.jsonValidation[0];
  assert.equal(v.fileMatch, '*.dsod.json');
  assert.ok(existsSync(join(repoRoot, v.url)));
  assert.match(manifest.engines.vscode, /^\^1\.(100|[0-9]{1,2})\./);
});
