// A spec as a git revision has it ("DSOD: Compare with HEAD", the lens "vs HEAD"), read by client/gitRevision.ts with git
// itself in real repositories made here: the committed text, and a clear message for a file outside git, a file not in
// the revision, a repository without commits, a revision git does not know and one that reads as an option.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { headCommit, readAtRevision, revisionProblem } from '../../client/gitRevision';
import { DSOD300_YAML, edit } from '../helpers';

let root: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8' }).trim();

before(() => {
  root = mkdtempSync(join(tmpdir(), 'dsod-git-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('the committed text at HEAD and at an earlier revision; the commit HEAD names', async () => {
  const repo = join(root, 'repo');
  mkdirSync(join(repo, 'specs'), { recursive: true });
  git(repo, 'init', '-q');
  const file = join(repo, 'specs', 'dsod300.dsod.yaml');
  writeFileSync(file, DSOD300_YAML);
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'one');
  const first = git(repo, 'rev-parse', 'HEAD');
  const wider = edit(DSOD300_YAML, 'blocks: [6, 8, 8, 8]', 'blocks: [6, 8, 8, 10]');
  writeFileSync(file, wider);
  git(repo, 'commit', '-qam', 'two');
  writeFileSync(file, wider + '# an edit not committed\n');

  assert.deepEqual(await readAtRevision(file, 'HEAD'), { ok: true, text: wider });
  assert.deepEqual(await readAtRevision(file, 'HEAD~1'), { ok: true, text: DSOD300_YAML });
  assert.deepEqual(await readAtRevision(file, first), { ok: true, text: DSOD300_YAML });
  assert.equal(await headCommit(file), git(repo, 'rev-parse', 'HEAD'));

  // A file beside it that was never committed.
  const other = join(repo, 'specs', 'new.dsod.yaml');
  writeFileSync(other, DSOD300_YAML);
  assert.deepEqual(await readAtRevision(other, 'HEAD'), { ok: false, message: 'new.dsod.yaml is not in HEAD (it was not committed there).' });
  // A revision git does not know.
  assert.deepEqual(await readAtRevision(file, 'no-such-branch'), { ok: false, message: 'git does not know the revision "no-such-branch".' });
  assert.deepEqual(await readAtRevision(file, 'HEAD~5'), { ok: false, message: 'git does not know the revision "HEAD~5".' });
});

test('outside git, before the first commit, and a revision that is not one: messages, no git run with them', async () => {
  const plain = join(root, 'plain');
  mkdirSync(plain);
  const file = join(plain, 'a.dsod.yaml');
  writeFileSync(file, DSOD300_YAML);
  // GIT_CEILING_DIRECTORIES keeps git from finding a repository above the temporary folder.
  process.env.GIT_CEILING_DIRECTORIES = root;
  try {
    assert.deepEqual(await readAtRevision(file, 'HEAD'), { ok: false, message: 'a.dsod.yaml is not in a git repository.' });
    assert.equal(await headCommit(file), null);

    const empty = join(root, 'empty');
    mkdirSync(empty);
    git(empty, 'init', '-q');
    const f = join(empty, 'b.dsod.yaml');
    writeFileSync(f, DSOD300_YAML);
    assert.deepEqual(await readAtRevision(f, 'HEAD'), { ok: false, message: 'The repository has no commit yet (HEAD names nothing).' });
    assert.equal(await headCommit(f), null);
  } finally {
    delete process.env.GIT_CEILING_DIRECTORIES;
  }

  assert.deepEqual(await readAtRevision(file, '--output=/tmp/x'), {
    ok: false,
    message: '"--output=/tmp/x" is not a revision (git would read it as an option).',
  });
  assert.equal(revisionProblem('HEAD~1'), null);
  assert.match(revisionProblem('')!, /^Type a revision/);
  assert.match(revisionProblem('HEAD:x')!, /no spaces or colons/);
  assert.match(revisionProblem('a b')!, /no spaces or colons/);
});
