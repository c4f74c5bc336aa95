// Runs as tasks (tasks.json): task type `dsod` with `command` (train | eval | infer), `spec`, optional `run` and
// `args`. Each task is a ProcessExecution of the extension's own runtime with dist/dsod.js (ELECTRON_RUN_AS_NODE=1),
// in the terminal, in the engine's human format, matched by the `$dsod` problem matcher (package.json), which reads
// the `file:line:col: severity: message [code]` lines of spec errors.
//
//   { "type": "dsod", "command": "train", "spec": "examples/tiny.dsod.yaml" }
//   { "type": "dsod", "command": "eval", "spec": "examples/tiny.dsod.yaml", "run": "runs/tiny" }
//   { "type": "dsod", "command": "infer", "spec": "examples/tiny.dsod.yaml", "args": ["data/synth/JPEGImages/000001.jpg"] }
//
// A train task works in `run` (default <run root>/<spec name>) and continues it when it already holds a checkpoint
// (--resume), so the same task can be run again; eval and infer default to the spec's newest run.
import { basename, isAbsolute, join, resolve } from 'node:path';
import * as vscode from 'vscode';
import { readRunStatus } from '../../engine/report/run-folder';
import { runRoot } from '../runRoot';
import { enginePath, evalArgs, inferArgs, trainArgs } from './engineArgs';
import { ENGINE_SETTING, engineOption, findTorchOnce, resolveEngine, type Engine } from './engineChoice';
import { runsOfSpec, specStem, testImagesOfSpec } from './runFolders';
import { INFER_DEFAULT_LIMIT } from './runManager';

export const TASK_TYPE = 'dsod';

export interface DsodTaskDefinition extends vscode.TaskDefinition {
  type: 'dsod';
  command: 'train' | 'eval' | 'infer';
  spec: string;
  run?: string;
  args?: string[];
}

/** Specs the task list offers (train and eval tasks for each). */
const MAX_SPECS = 20;

export class DsodTaskProvider implements vscode.TaskProvider {
  constructor(private readonly extensionRoot: string) {}

  static register(context: vscode.ExtensionContext): vscode.Disposable {
    const d = vscode.tasks.registerTaskProvider(TASK_TYPE, new DsodTaskProvider(context.extensionPath));
    context.subscriptions.push(d);
    return d;
  }

  async provideTasks(): Promise<vscode.Task[]> {
    if (!vscode.workspace.isTrusted) return [];
    const specs = await vscode.workspace.findFiles('**/*.dsod.{yaml,yml,json}', '**/{node_modules,runs,out,dist}/**', MAX_SPECS);
    const tasks: vscode.Task[] = [];
    for (const uri of specs) {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (!folder) continue;
      const spec = vscode.workspace.asRelativePath(uri, false);
      for (const command of ['train', 'eval'] as const) {
        const t = await this.resolve({ type: TASK_TYPE, command, spec }, folder);
        if (t) tasks.push(t);
      }
    }
    return tasks;
  }

  resolveTask(task: vscode.Task): Promise<vscode.Task | undefined> {
    const d = task.definition as DsodTaskDefinition;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    return this.resolve(d, folder, task);
  }

  private async resolve(d: DsodTaskDefinition, folder: vscode.WorkspaceFolder | undefined, from?: vscode.Task): Promise<vscode.Task | undefined> {
    if (d.type !== TASK_TYPE || !['train', 'eval', 'infer'].includes(d.command) || typeof d.spec !== 'string') return undefined;
    const base = folder?.uri.scheme === 'file' ? folder.uri.fsPath : process.cwd();
    const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
    const spec = abs(d.spec);
    const root = runRoot()?.fsPath ?? join(base, 'runs');
    const extra = Array.isArray(d.args) ? d.args.map(String) : [];
    let args: string[];
    let trainedBy: Engine | null = null;
    if (d.command === 'train') {
      const runDir = d.run ? abs(d.run) : join(root, specStem(spec));
      const resumeGiven = extra.includes('--resume') || extra.includes('--from');
      args = trainArgs({ spec, runDir, resume: !resumeGiven, extra });
      // The task continues its run: on the engine that trained it (its checkpoints are that engine's own files).
      trainedBy = (await readRunStatus(runDir))?.engine ?? null;
    } else {
      const runDir = d.run ? abs(d.run) : (await runsOfSpec(root, spec))[0]?.runDir ?? join(root, specStem(spec));
      if (d.command === 'eval') args = evalArgs({ spec, runDir, extra });
      else {
        const hasInputs = extra.some((a) => !a.startsWith('-'));
        let inputs: string[] = [];
        if (!hasInputs) {
          try {
            inputs = testImagesOfSpec(spec, INFER_DEFAULT_LIMIT).images;
          } catch {
            // the engine says what is missing
          }
        }
        args = inferArgs({ spec, runDir, inputs, extra });
      }
    }
    // The run's engine, else dsod.engine, unless the task's own args name an engine.
    if (!extra.includes('--engine'))
      args.push(...engineOption(trainedBy ?? resolveEngine(vscode.workspace.getConfiguration('dsod').get<string>(ENGINE_SETTING, 'tfjs'), findTorchOnce).engine));
    const execution = new vscode.ProcessExecution(process.execPath, [enginePath(this.extensionRoot), d.command, ...args], {
      cwd: base,
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
    const name = from?.name ?? `${d.command} ${basename(d.spec)}`;
    const task = new vscode.Task(d, folder ?? vscode.TaskScope.Workspace, name, 'dsod', execution, ['$dsod']);
    task.detail = `dsod ${d.command} ${d.spec}${d.run ? ` (${d.run})` : ''}`;
    if (d.command === 'train') task.isBackground = false;
    return task;
  }
}
