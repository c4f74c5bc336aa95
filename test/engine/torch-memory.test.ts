// Agreement of core's training-memory model (core/analysis/memory.ts, torch engine) with what PyTorch really keeps
// for the backward pass: `python -m dsod_torch saved-bytes` sums every tensor autograd saves through
// torch.autograd.graph.saved_tensors_hooks, each storage once (tensors sharing memory, by the storage's address),
// weights and buffers left out (engine/torch/dsod_torch/saved.py). CPU, Debian's python3-torch; skipped with the
// reason where there is no Python with torch.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { trainingMemory } from '../../core';
import { toGraphJson } from '../../protocol/graph-json';
import { analyze, readRepoFile } from '../helpers';
import { dsodTorch, skipWithoutTorch } from './torch-fixtures';

const dir = mkdtempSync(join(tmpdir(), 'dsod-torch-memory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The figure the issue asks for: the estimate within 5% of the measurement. */
const TOLERANCE = 0.05;

for (const name of ['tiny', 'dsod300']) {
  for (const batch of [1, 2]) {
    test(`${name} at batch ${batch}: the bytes torch saves for backward match core's torch estimate within 5%`, { skip: skipWithoutTorch }, (t) => {
      const a = analyze(readRepoFile(`examples/${name}.dsod.yaml`));
      const graph = join(dir, `${name}.graph.json`);
      writeFileSync(graph, JSON.stringify(toGraphJson(a)));
      const measured = JSON.parse(dsodTorch('saved-bytes', graph, '--batch', String(batch))) as { bytes: number; byNode: Record<string, number> };
      const m = trainingMemory(a, { engine: 'torch', precision: 'fp32', batch, accumulate: 1 });
      const error = Math.abs(m.saved - measured.bytes) / measured.bytes;
      // The figures for the table (node --test prints diagnostics).
      t.diagnostic(`agreement ${name} batch ${batch} torch: measured ${measured.bytes} B, estimate ${m.saved} B, error ${(100 * error).toFixed(4)}%`);
      assert.ok(error <= TOLERANCE, `measured ${measured.bytes} B, estimated ${m.saved} B: ${(100 * error).toFixed(2)}% apart`);
      // Per stage too: the storages each stage's layers save first (the measurement names the saving node).
      const byStage = new Map<string, number>();
      for (const [node, bytes] of Object.entries(measured.byNode)) {
        const stage = node === 'loss' || node === 'heads' ? 'loss' : node === 'input' ? 'input' : a.graph.nodes.find((n) => n.name === node)!.stage;
        byStage.set(stage, (byStage.get(stage) ?? 0) + bytes);
      }
      for (const s of m.stages) assert.equal(s.saved, byStage.get(s.name) ?? 0, `stage ${s.name}`);
    });
  }
}
