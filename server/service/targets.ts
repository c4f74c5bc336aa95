// What a place in the spec stands for in the analysed network: a stage, a prediction scale, or a whole section.
import { findStage, type Analysis, type Path, type StageKind, type StageStats } from '../../core';

export type Target =
  { kind: 'stage'; stage: StageStats } | { kind: 'scale'; index: number } | { kind: 'stages'; title: string; stages: StageStats[] } | { kind: 'totals' };

const PRIOR_LISTS = new Set(['min_sizes', 'max_sizes', 'aspect_ratios', 'steps']);

export function targetAt(a: Analysis, path: Path): Target | null {
  const stage = (kind: StageKind, index: number | null = null): Target | null => {
    const s = findStage(a.stages, kind, index);
    return s ? { kind: 'stage', stage: s } : null;
  };
  const [section, key, index] = path;
  if (path.length <= 1 && (section === undefined || section === 'name' || section === 'dsod')) return { kind: 'totals' };
  if (section === 'backbone') {
    if (key === 'stem') return stage('stem');
    if (key === 'blocks' && typeof index === 'number') return stage('block', index + 1);
    if (key === 'transitions' && typeof index === 'number') return stage('transition', index + 1);
    if (key === 'blocks') return { kind: 'stages', title: 'Dense blocks', stages: a.stages.filter((s) => s.kind === 'block') };
    if (key === 'transitions') return { kind: 'stages', title: 'Transitions', stages: a.stages.filter((s) => s.kind === 'transition') };
    return { kind: 'stages', title: 'Backbone', stages: a.stages.filter((s) => ['stem', 'block', 'transition'].includes(s.kind)) };
  }
  if (section === 'prediction') {
    if (key === 'channels' && typeof index === 'number' && index < a.scales.length) return { kind: 'scale', index };
    return { kind: 'stages', title: 'Prediction structure', stages: a.stages.filter((s) => s.kind === 'scale') };
  }
  if (section === 'priors' && PRIOR_LISTS.has(String(key)) && typeof index === 'number' && index < a.scales.length) return { kind: 'scale', index };
  if (section === 'heads' || section === 'priors') return { kind: 'stages', title: 'Heads', stages: a.stages.filter((s) => s.kind === 'head') };
  if (section === 'input' || section === 'classes' || section === 'budget') return { kind: 'totals' };
  return null;
}

/** The stage stats of scale `index` (0-based): its prediction-structure stage (none for scale 1) and its head. */
export function scaleStages(a: Analysis, index: number): { structure: StageStats | null; head: StageStats | null } {
  return {
    structure: findStage(a.stages, 'scale', index + 1) ?? null,
    head: findStage(a.stages, 'head', index + 1) ?? null,
  };
}
