// Every diagnostic core can give, with its exact range, severity and message.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSpec, type MeasuredLatency, type SpecFormat } from '../../core';
import { DIAGNOSTIC_CODES, type DiagnosticCode } from '../../core/codes';
import { check, describe, DSOD300_FROZEN_YAML, edit, repoRoot } from '../helpers';

interface Case {
  name: string;
  text: string;
  format?: SpecFormat;
  code: string;
  at: string;
  covers: string;
  severity?: string;
  message?: RegExp;
  suggestion?: string;
  /** A measured latency handed to core (what the editor reads beside the spec). */
  latency?: MeasuredLatency;
}

const base = DSOD300_FROZEN_YAML;
const tiny = (body: string) => `dsod: 1\n${body}`;

const cases: Case[] = [
  // ---- syntax
  {
    name: 'YAML syntax error',
    text: 'dsod: 1\nbackbone: [6, 8\n',
    code: 'syntax/bad-indent',
    at: '3:1-3:1',
    covers: '',
    message: /Flow sequence in block collection must be sufficiently indented and end with a \]/,
  },
  { name: 'duplicate key', text: 'dsod: 1\ndsod: 1\n', code: 'syntax/duplicate-key', at: '2:1-2:5', covers: 'dsod', message: /unique/ },
  {
    name: 'a collection as a key',
    text: 'dsod: 1\n[a, b]: 1\n',
    code: 'syntax/collection-key',
    at: '2:1-2:7',
    covers: '[a, b]',
    message: /A key must be a name, not a list or a mapping/,
  },
  { name: 'JSON syntax error', text: '{"dsod": 1,}', format: 'json', code: 'syntax/property-name-expected', at: '1:12-1:13', covers: '}' },
  {
    name: 'a multi-megabyte file is refused at once',
    text: 'dsod: 1\n' + `# ${'x'.repeat(80)}\n`.repeat(40_000),
    code: 'spec/too-large',
    at: '1:1-1:8',
    covers: 'dsod: 1',
    message: /specs over 512 KB are not checked/,
  },
  {
    name: 'a multi-megabyte spec on one line is refused unparsed',
    text: `{dsod: 1, sizes: [${'1, '.repeat(200_000)}1]}`,
    code: 'spec/too-large',
    at: '1:1-1:257',
    covers: `{dsod: 1, sizes: [${'1, '.repeat(200_000)}1]}`.slice(0, 256),
    message: /specs over 512 KB are not checked/,
  },
  { name: 'empty spec', text: '\n\n', code: 'spec/empty', at: '1:1-1:1', covers: '' },
  {
    name: 'replacement characters (bytes that were not UTF-8)',
    text: 'dsod: 1\nname: "Caf\uFFFD"\n',
    code: 'spec/invalid-utf8',
    at: '2:11-2:12',
    covers: '\uFFFD',
    severity: 'warning',
    message: /not valid UTF-8/,
  },
  // ---- schema
  {
    name: 'missing dsod',
    text: 'name: x\n',
    code: 'schema/required',
    at: '1:1-1:8',
    covers: 'name: x',
    message: /Missing required property "dsod" in the spec/,
  },
  {
    name: 'missing key in a nested object goes to the parent key',
    text: tiny('backbone:\n  blocks: [{ growth_rate: 8 }]\n'),
    code: 'schema/required',
    at: '3:12-3:30',
    covers: '{ growth_rate: 8 }',
    message: /Missing required property "layers" in backbone.blocks\[0\]/,
  },
  {
    name: 'unknown key with did-you-mean',
    text: tiny('backbone:\n  growth_rat: 32\n'),
    code: 'schema/unknown-key',
    at: '3:3-3:13',
    covers: 'growth_rat',
    message: /Did you mean "growth_rate"\?/,
    suggestion: 'growth_rate',
  },
  {
    name: 'unknown key with no close match lists the known ones',
    text: tiny('heads:\n  zzz: 1\n'),
    code: 'schema/unknown-key',
    at: '3:3-3:6',
    covers: 'zzz',
    message: /Known properties: kernel, batch_norm, bn_eps/,
  },
  {
    name: 'unknown key in JSON',
    text: '{\n  "dsod": 1,\n  "clases": 21\n}',
    format: 'json',
    code: 'schema/unknown-key',
    at: '3:3-3:11',
    covers: '"clases"',
    suggestion: 'classes',
  },
  {
    name: 'wrong type goes to the value',
    text: tiny('input: { size: [300, 300], channels: three }\n'),
    code: 'schema/type',
    at: '2:38-2:43',
    covers: 'three',
    message: /expected integer, got string/,
  },
  {
    name: 'wrong type of a union',
    text: tiny('classes: true\n'),
    code: 'schema/type',
    at: '2:10-2:14',
    covers: 'true',
    message: /expected integer or array, got boolean/,
  },
  {
    name: 'anyOf item of the wrong type',
    text: tiny('backbone:\n  transitions: [pool, 3]\n'),
    code: 'schema/type',
    at: '3:23-3:24',
    covers: '3',
    message: /expected "pool", "no-pool" or object, got integer/,
  },
  {
    name: 'anyOf item of the right type reports its own problem',
    text: tiny('backbone:\n  transitions: [pool, {pool: false, chanels: 256}]\n'),
    code: 'schema/unknown-key',
    at: '3:37-3:44',
    covers: 'chanels',
    suggestion: 'channels',
  },
  {
    name: 'enum with did-you-mean',
    text: tiny('prediction: { structure: dens }\n'),
    code: 'schema/enum',
    at: '2:26-2:30',
    covers: 'dens',
    suggestion: 'dense',
  },
  {
    name: 'anyOf string branch: enum',
    text: tiny('backbone:\n  transitions: [pool, nopool]\n'),
    code: 'schema/enum',
    at: '3:23-3:29',
    covers: 'nopool',
    suggestion: 'no-pool',
  },
  { name: 'const version', text: 'dsod: 2\n', code: 'schema/const', at: '1:7-1:8', covers: '2', message: /dsod must be 1/ },
  {
    name: 'number below its minimum',
    text: tiny('backbone:\n  blocks: [6, 0]\n'),
    code: 'schema/range',
    at: '3:15-3:16',
    covers: '0',
    message: /backbone.blocks\[1\] must be >= 1 \(got 0\)/,
  },
  { name: 'absurd number', text: tiny('input: { size: 1000000 }\n'), code: 'schema/range', at: '2:16-2:23', covers: '1000000', message: /must be <= 8192/ },
  {
    name: 'a 10,000-layer block',
    text: tiny('backbone:\n  blocks: [10000]\n'),
    code: 'schema/range',
    at: '3:12-3:17',
    covers: '10000',
    message: /must be <= 1000/,
  },
  {
    name: 'too few items',
    text: tiny('priors:\n  variances: [0.1, 0.1]\n'),
    code: 'schema/items',
    at: '3:14-3:24',
    covers: '[0.1, 0.1]',
    message: /must have at least 4 items \(has 2\)/,
  },
  {
    name: 'duplicate class names',
    text: tiny('classes: [cat, dog, cat]\n'),
    code: 'schema/unique',
    at: '2:21-2:24',
    covers: 'cat',
    message: /lists "cat" twice \(items 1 and 3\)/,
  },
  { name: 'empty class name', text: tiny('classes: [cat, ""]\n'), code: 'schema/empty', at: '2:16-2:18', covers: '""' },
  {
    name: 'budget quantity in a bad form',
    text: tiny('budget: { params: 6X }\n'),
    code: 'schema/format',
    at: '2:19-2:21',
    covers: '6X',
    message: /write it like "6M" or 15000000/,
  },
  // ---- notation
  {
    name: 'notation not in the form',
    text: tiny('backbone: { notation: DS/64-192-48 }\n'),
    code: 'notation/invalid',
    at: '2:23-2:35',
    covers: 'DS/64-192-48',
    message: /not in the form DS\/A-B-k-θ/,
  },
  {
    name: 'notation θ out of range',
    text: tiny('backbone: { notation: DS/64-192-48-1.5 }\n'),
    code: 'notation/invalid',
    at: '2:23-2:39',
    covers: 'DS/64-192-48-1.5',
    message: /compression θ must be in \(0, 1\]/,
  },
  {
    name: 'explicit value against the notation',
    text: tiny('backbone:\n  notation: DS/64-192-48-1\n  growth_rate: 32\n'),
    code: 'notation/conflict',
    at: '4:16-4:18',
    covers: '32',
    message: /growth_rate is 32 but the notation DS\/64-192-48-1 says k = 48/,
  },
  {
    name: 'stem convs against the notation',
    text: tiny('backbone:\n  notation: DS/64-192-48-1\n  stem: { convs: [32, 64, 128] }\n'),
    code: 'notation/conflict',
    at: '4:19-4:21',
    covers: '32',
    message: /stem's first conv has 32 channels but the notation DS\/64-192-48-1 says A = 64/,
  },
  // ---- structure
  {
    name: 'transitions do not match blocks',
    text: edit(base, 'transitions: [pool, pool, no-pool, { pool: false, channels: 256 }]', 'transitions: [pool, pool, no-pool]'),
    code: 'backbone/transitions-length',
    at: '13:16-13:37',
    covers: '[pool, pool, no-pool]',
    message: /4 blocks, 3 transitions/,
  },
  {
    name: 'channels list against scales',
    text: edit(base, 'channels: [800, 512, 512, 256, 256, 256]', 'channels: [800, 512, 512, 256, 256]'),
    code: 'prediction/channels-length',
    at: '18:13-18:38',
    covers: '[800, 512, 512, 256, 256]',
    message: /lists 5 scales but prediction.scales is 6/,
  },
  {
    name: 'first beyond the transitions',
    text: edit(base, 'scales: 6\n', 'scales: 6\n  first: 9\n'),
    code: 'prediction/first',
    at: '18:10-18:11',
    covers: '9',
    message: /transition 9 but the backbone has 4 transitions/,
  },
  {
    name: 'no pooling transition for First',
    text: tiny('backbone:\n  blocks: [2, 2]\n  transitions: [no-pool, no-pool]\n'),
    code: 'prediction/first',
    at: '4:16-4:34',
    covers: '[no-pool, no-pool]',
    message: /this backbone has none/,
  },
  {
    name: 'scale 1 channels against First',
    text: edit(base, '[800, 512, 512, 256, 256, 256]', '[700, 512, 512, 256, 256, 256]'),
    code: 'prediction/channels',
    at: '18:14-18:17',
    covers: '700',
    message: /"First" map \(transition 2's 1x1 conv\) with 800 channels, not 700/,
  },
  {
    name: 'plain scale 2 against the backbone output',
    text: edit(edit(base, 'structure: dense ', 'structure: plain '), '[800, 512, 512', '[800, 500, 512'),
    code: 'prediction/channels',
    at: '18:19-18:22',
    covers: '500',
    message: /plain structure scale 2 is the backbone output with 256 channels, not 500/,
  },
  {
    name: 'odd channels in the dense structure',
    text: edit(base, '512, 256, 256, 256]', '512, 255, 256, 256]'),
    code: 'prediction/odd-channels',
    at: '18:29-18:32',
    covers: '255',
    message: /Scale 4 .* must be even \(got 255\)/,
  },
  {
    name: 'non-positive width from compression',
    text: tiny(
      'backbone:\n  blocks: [1, 1, 1]\n  stem: { convs: [1, 1, 1] }\n  first_conv: 1\n  growth_rate: 1\n  bottleneck: 4\n  transitions: [pool, { compression: 0.1 }, { pool: false, channels: 4 }]\n',
    ),
    code: 'width/non-positive',
    at: '8:23-8:43',
    covers: '{ compression: 0.1 }',
    message: /transition2 would have 0 channels \(floor\(3 x 0.1\)\)/,
  },
  {
    name: 'non-positive reused half',
    text: edit(base, '[800, 512, 512', '[800, 256, 512'),
    code: 'width/non-positive',
    at: '18:19-18:22',
    covers: '256',
    message: /leave 0 for the reused half/,
  },
  {
    name: 'feature maps collapse',
    text: tiny('input: { size: 2 }\nbackbone: { stem: false }\n'),
    code: 'shape/collapse',
    at: '3:19-3:24',
    covers: 'false',
    message: /stem\/pool: max pool 3x3\/2 of a 1x1 map gives 0x0/,
  },
  {
    name: 'scale halves of different sizes',
    text: tiny(
      'backbone:\n  blocks: [2, 2]\n  transitions: [pool, { channels: 8 }]\n  stem: { convs: [64, 64, 128] }\n  growth_rate: 48\n  bottleneck: 192\nprediction: { scales: 2 }\npriors: { min_sizes: [30, 60], max_sizes: [60, 111], aspect_ratios: [[2], [2]] }\n',
    ),
    code: 'shape/concat-mismatch',
    at: '8:13-8:26',
    covers: '{ scales: 2 }',
    message: /scale2\/concat: the maps to concatenate differ in size \(19x19 vs 38x38\)/,
  },
  {
    name: 'degenerate 1x1 scales',
    text: edit(
      edit(edit(edit(edit(base, 'scales: 6', 'scales: 7'), '256, 256, 256]', '256, 256, 256, 256]'), '264]\n', '264, 280]\n'), '315]\n', '315, 330]\n'),
      '[2], [2]]',
      '[2], [2], [2]]',
    )
      .replace('steps: [8, 16, 32, 64, 100, 300]', 'steps: [8, 16, 32, 64, 100, 300, 300]')
      .replace('size: [300, 300]', 'size: [200, 200]'),
    code: 'shape/degenerate',
    at: '18:44-18:47',
    covers: '256',
    severity: 'warning',
    message: /Scale 7 is 1x1 like scale 6/,
  },
  // ---- priors
  {
    name: 'prior list length',
    text: edit(base, 'min_sizes: [30, 60, 111, 162, 213, 264]', 'min_sizes: [30, 60, 111, 162, 213]'),
    code: 'priors/length-mismatch',
    at: '24:14-24:37',
    covers: '[30, 60, 111, 162, 213]',
    message: /priors.min_sizes has 5 entries but there are 6 prediction scales/,
  },
  {
    name: 'min size >= max size',
    text: edit(base, 'max_sizes: [60, 111,', 'max_sizes: [30, 111,'),
    code: 'priors/min-ge-max',
    at: '25:15-25:17',
    covers: '30',
    message: /Scale 1: min size 30 must be smaller than max size 30/,
  },
  {
    name: 'min size beyond the input',
    text: edit(edit(base, '213, 264]\n', '213, 400]\n'), '264, 315]', '264, 415]'),
    code: 'priors/size-exceeds-input',
    at: '24:38-24:41',
    covers: '400',
    severity: 'warning',
  },
  {
    name: 'non-positive aspect ratio',
    text: edit(base, '[[2], [2, 3],', '[[-2], [2, 3],'),
    code: 'priors/aspect-ratio',
    at: '26:20-26:22',
    covers: '-2',
    message: /aspect ratio -2 is not positive/,
  },
  {
    name: 'aspect ratio 1',
    text: edit(base, '[[2], [2, 3],', '[[2], [2, 1],'),
    code: 'priors/redundant-aspect-ratio',
    at: '26:28-26:29',
    covers: '1',
    message: /aspect ratio 1 is always present/,
  },
  {
    name: 'aspect ratio already present through flip',
    text: edit(base, '[[2], [2, 3],', '[[2, 0.5], [2, 3],'),
    code: 'priors/redundant-aspect-ratio',
    at: '26:23-26:26',
    covers: '0.5',
    message: /already present \(flip adds 1\/r\)/,
  },
  // ---- budget
  {
    name: 'params over a written budget',
    text: base + 'budget: { params: 10M }\n',
    code: 'budget/params',
    at: '48:19-48:22',
    covers: '10M',
    message: /14,715,804 learned parameters exceed the limit of 10,000,000 by 47\.2% \(4\.72M\)/,
  },
  {
    name: 'MACs over a target preset',
    text: base + 'budget: { target: mobile }\n',
    code: 'budget/macs',
    at: '48:19-48:25',
    covers: 'mobile',
    message: /15,0\d\d,\d{3},\d{3} MACs per image exceed the mobile limit of 3,000,000,000 by 40\d\.\d% \(12\.1 GMACs\)/,
  },
  {
    name: 'activation memory over budget',
    text: base + 'budget: { activation_memory: 1GB, batch: 4 }\n',
    code: 'budget/activation-memory',
    at: '48:30-48:33',
    covers: '1GB',
    message: /at batch 4 take 2.03 GiB/,
  },
  {
    name: 'training memory over budget, with the micro-batch that fits',
    text: base + 'budget: { train_memory: 8GB, engine: torch }\n',
    code: 'budget/train-memory',
    at: '48:25-48:28',
    covers: '8GB',
    message:
      /one training step \(torch, fp32, micro-batch 32\) takes \d+\.\d\d GiB, over the limit of 7\.45 GiB .* At most \d+ images per micro-batch fit: train\.batch 128 as 8 x accumulate 16/,
  },
  {
    name: 'bf16 training memory for the tfjs engine',
    text: base + 'budget: { train_memory: 8GB, precision: bf16 }\n',
    code: 'budget/precision',
    at: '48:41-48:45',
    covers: 'bf16',
    message: /tfjs engine trains in float32 only/,
  },
  {
    name: 'measured latency over budget',
    text: base + 'budget: { latency_ms: 250 }\n',
    latency: {
      medianMs: 412,
      p90Ms: 430,
      batch: 1,
      label: 'onnxruntime-node 1.30.0 (cpu) on AMD EPYC, 2 cores',
      measuredAt: '2026-12-01T17:00:00Z',
      macsPerImage: 1, // not DSOD300's count: another network
    },
    code: 'budget/latency',
    at: '48:23-48:26',
    covers: '250',
    message:
      /412 ms median at batch 1 with onnxruntime-node 1\.30\.0 \(cpu\) on AMD EPYC, 2 cores, exceeds the limit of 250 ms by 64\.8% \(162 ms\) \(measured on another network: its MACs differ/,
  },
  {
    name: 'stored params over budget',
    text: base + 'budget: { params: 14.75M, count: stored }\n',
    code: 'budget/params',
    at: '48:19-48:25',
    covers: '14.75M',
    message: /14,795,828 stored parameters exceed the limit of 14,750,000 by 0\.3% \(45\.8k\)/,
  },
  {
    name: 'too large to count exactly',
    text: tiny('input: { size: 8192 }\nbackbone:\n  blocks: [1000, 1000, 1000, 1000]\n  growth_rate: 4096\n  bottleneck: 16384\n'),
    code: 'analysis/too-large',
    at: '3:1-3:9',
    covers: 'backbone',
    message: /too large to count exactly/,
  },
  {
    name: 'a hint kind that hints.ignore does not know, at its list item',
    text: tiny('hints:\n  ignore: [principle/no-stem, principle/growth-rat]\n'),
    code: 'schema/enum',
    at: '3:31-3:51',
    covers: 'principle/growth-rat',
    message: /"principle\/growth-rat" is not a kind of design-principle hint; hints.ignore takes principle\/no-stem, .*Did you mean "principle\/growth-rate"\?/,
    suggestion: 'principle/growth-rate',
  },
  // ---- default boxes
  {
    name: 'steps written for another input size',
    text: edit(base, 'size: [300, 300]', 'size: [512, 512]'),
    code: 'priors/steps-mismatch',
    at: '29:26-29:29',
    covers: '100',
    severity: 'warning',
    message: /Scale 5: its 4x4 feature map × step 100 spans 400x400 px, but the input is 512x512: .*A step of 128 tiles it \(512 \/ 4 = 128\)/,
  },
  {
    name: "a scale's largest box beyond its receptive field",
    text: edit(base, 'max_sizes: [60, 111,', 'max_sizes: [1300, 111,'),
    code: 'priors/beyond-receptive-field',
    at: '25:15-25:19',
    covers: '1300',
    severity: 'warning',
    message: /Scale 1: its largest default box \(197\.5 px, √\(min 30 × max 1300\)\) is larger than the scale's receptive field \(193 px\)/,
  },
  // ---- design principles
  {
    name: 'no stem',
    text: edit(base, 'stem: { convs: [64, 64, 128], pool: max }', 'stem: false'),
    code: 'principle/no-stem',
    at: '11:9-11:14',
    covers: 'false',
    severity: 'information',
    message: /\+2.8 mAP/,
  },
  {
    name: 'compression below 1',
    text: edit(base, 'DS/64-192-48-1 ', 'DS/64-192-48-0.5 '),
    code: 'principle/compression',
    at: '10:13-10:29',
    covers: 'DS/64-192-48-0.5',
    severity: 'information',
    message: /θ = 0.5 < 1 .* \+2.9 mAP/,
  },
  {
    name: 'no transition w/o pooling',
    text: edit(
      edit(base, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8]'),
      'transitions: [pool, pool, no-pool, { pool: false, channels: 256 }]',
      'transitions: [pool, pool, { channels: 256 }]',
    ),
    code: 'principle/no-transition-without-pooling',
    at: '13:16-13:47',
    covers: '[pool, pool, { channels: 256 }]',
    severity: 'information',
    message: /\+1.7 mAP/,
  },
  {
    name: 'narrow bottleneck',
    text: edit(base, 'DS/64-192-48-1 ', 'DS/64-64-48-1 '),
    code: 'principle/narrow-bottleneck',
    at: '10:13-10:26',
    covers: 'DS/64-64-48-1',
    severity: 'information',
    message: /B = 64 is under 4k = 192.*\+4.1 mAP/,
  },
  {
    name: 'narrow first conv',
    text: edit(
      base,
      'notation: DS/64-192-48-1           # A-B-k-θ: first conv 64, bottleneck 192, growth 48, compression 1\n  stem: { convs: [64, 64, 128], pool: max }',
      'first_conv: 32',
    ),
    code: 'principle/narrow-first-conv',
    at: '10:15-10:17',
    covers: '32',
    severity: 'information',
    message: /A = 32.*\+1.1 mAP/,
  },
  {
    name: 'small growth rate',
    text: tiny('backbone: { growth_rate: 16, bottleneck: 64 }\n'),
    code: 'principle/growth-rate',
    at: '2:26-2:28',
    covers: '16',
    severity: 'information',
    message: /k = 16.*\+4.8 mAP/,
  },
  {
    name: 'plain prediction',
    text: edit(base, 'channels: [800, 512, 512, 256, 256, 256]', 'channels: [800, 256, 512, 256, 256, 256]').replace('structure: dense ', 'structure: plain '),
    code: 'principle/plain-prediction',
    at: '16:14-16:19',
    covers: 'plain',
    severity: 'information',
    message: /\+0.4 mAP.*14.8M against 18.2M/,
  },
];

for (const c of cases) {
  test(`${c.code}: ${c.name}`, () => {
    const result = c.latency ? checkSpec(c.text, c.format ?? 'yaml', { latency: c.latency }) : check(c.text, c.format ?? 'yaml');
    const found = result.diagnostics.filter((d) => d.code === c.code).map((d) => ({ d, view: describe(c.text, d) }));
    assert.ok(
      found.length > 0,
      `no ${c.code}; got ${JSON.stringify(
        result.diagnostics.map((d) => describe(c.text, d)),
        null,
        1,
      )}`,
    );
    const hit = found.find((f) => f.view.at === c.at) ?? found[0];
    assert.equal(hit.view.at, c.at, `range of ${c.code}: ${JSON.stringify(found.map((f) => f.view))}`);
    assert.equal(hit.view.covers, c.covers);
    assert.equal(hit.view.severity, c.severity ?? (c.code in DIAGNOSTIC_CODES ? DIAGNOSTIC_CODES[c.code as DiagnosticCode].severity : 'error'));
    if (c.message) assert.match(hit.view.message, c.message);
    if (c.suggestion) assert.equal(hit.d.suggestion, c.suggestion);
    assert.ok(!result.diagnostics.some((d) => d.code === 'internal'));
  });
}

// Codes no spec can reach with today's schema and a correct checker: they exist so that such a case still says what it is.
// spec/not-utf8 comes from the CLI, which reads bytes (test/engine/cli-hardening.test.ts).
const UNREACHABLE: ReadonlySet<string> = new Set(['internal', 'schema/invalid', 'spec/not-utf8']);

test("every registered diagnostic code has a case above, with the registry's severity", () => {
  const covered = new Set(cases.map((c) => c.code));
  const missing = Object.keys(DIAGNOSTIC_CODES).filter((code) => !covered.has(code) && !UNREACHABLE.has(code));
  assert.deepEqual(missing, [], 'diagnostic codes without a test');
  for (const c of cases) {
    if (c.code.startsWith('syntax/') && !(c.code in DIAGNOSTIC_CODES)) continue; // the parser's own codes
    assert.ok(c.code in DIAGNOSTIC_CODES, `${c.code} is not registered in core/codes.ts`);
    if (c.severity !== undefined) assert.equal(c.severity, DIAGNOSTIC_CODES[c.code as DiagnosticCode].severity, c.name);
  }
});

test('the README lists every diagnostic code with its severity', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  for (const [code, info] of Object.entries(DIAGNOSTIC_CODES))
    assert.ok(readme.includes(`| \`${code}\` | ${info.severity} |`), `README has no row for ${code}`);
});

test('diagnostics are sorted by position and each spec is checked without throwing', () => {
  const text = tiny('backbone:\n  growth_rat: 3\nprediction: { structure: dens }\nheads: { kernel: 4 }\n');
  const d = check(text).diagnostics;
  assert.deepEqual(
    d.map((x) => x.range.start.line),
    [2, 3, 4],
  );
});
