/**
 * Hostile inputs through the CLI (issue 11): a project folder whose name is shell syntax, a
 * missing dep, and malformed pipeline files run by the real CLI process — exit 2, one message
 * naming the file, no stack trace, no hang.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';
import { exitOf, spawnCli } from '../helpers/spawn-cli.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function rig(): CliRig {
  const r = new CliRig();
  made.push(r.dir);
  return r;
}

/** Every path under `dir`, relative. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? [rel, ...tree(dir, rel)] : [rel];
  });
}

describe('a project folder whose name is shell syntax', () => {
  for (const folder of ['dollar$(touch PWNED)x', 'with space', "it's `touch PWNED` \"here\""]) {
    it(`runs command stages safely in ${JSON.stringify(folder)}`, async () => {
      const r = rig();
      const project = join(r.dir, folder);
      mkdirSync(project);
      writeFileSync(
        join(project, 'p.yaml'),
        [
          'version: 1',
          'stages:',
          '  a:',
          '    run: echo hello > ${{ outputs.dir }}/a.txt',
          '    outs: [a.txt]',
          '  b:',
          '    run: cat ${{ stages.a.outputs.dir }}/a.txt "${{ stages.a.outputs.dir }}/a.txt" > \'${{ outputs.dir }}\'/b.txt',
          '    outs: [b.txt]',
          '',
        ].join('\n'),
      );
      const res = await r.run(['run', 'p.yaml'], { cwd: project });
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(tree(r.dir).filter((p) => p.split('/').pop() === 'PWNED')).toEqual([]);
      // Nothing stray beside the project: only the pipeline, its lock file and runs/.
      expect(readdirSync(project).sort()).toEqual(['p.lock.yaml', 'p.yaml', 'runs']);
      const show = await r.run(['show', 'b', '-p', 'p.yaml'], { cwd: project });
      const outDir = /^outputs\s+(.+)$/m.exec(show.stdout)?.[1]?.trim();
      expect(outDir, show.stdout).toBeDefined();
      expect(readFileSync(join(outDir!, 'b.txt'), 'utf8')).toBe('hello\nhello\n');
    });
  }
});

describe('a missing dep', () => {
  it("names the pipeline's line that lists it", async () => {
    const r = rig();
    r.write('p.yaml', ['version: 1', 'stages:', '  a:', '    run: echo hi', '    deps:', '      - tools/present.py', '      - tools/missing.py', ''].join('\n'));
    r.write('tools/present.py', 'print(1)\n');
    for (const command of ['run', 'status']) {
      const res = await r.run([command, 'p.yaml']);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`error: ${join(r.dir, 'p.yaml')}:7:9: stage a: dep ${join(r.dir, 'tools/missing.py')} does not exist`);
    }
  });
});

describe('malformed pipeline files through the real CLI', () => {
  const bomb = ['version: 1', 'params:', '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 9; i++) bomb.push(`  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]`);
  bomb.push('stages:', '  a:', '    run: echo hi', '');
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['alias-bomb.yaml', bomb.join('\n'), /the limit on alias expansion/],
    ['recursive.yaml', 'version: 1\nstages: &s\n  a: *s\n', /:3:6: stages\.a: recursive alias \*s/],
    ['matrix.yaml', `version: 1\nstages:\n  a:\n    run: echo\n    matrix:\n${Array.from({ length: 10 }, (_, i) => `      x${i}: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]`).join('\n')}\n`, /:6:7: stages\.a\.matrix: the matrix has 10,000,000,000 combinations/],
    ['inf.yaml', 'version: 1\nstages:\n  a:\n    uses: sample-personas\n    with: { count: .inf }\n', /:5:20: stages\.a\.with\.count: \.inf is not a number/],
    ['latin1.yaml', Buffer.from('version: 1\nstages:\n  a:\n    run: echo caf\xe9\n', 'latin1'), /latin1\.yaml:4: pipeline file is not valid UTF-8 at byte offset 41/],
  ];
  it('exit 2 with one message naming the file, no stack trace, for each', async () => {
    const r = rig();
    for (const [name, text] of cases) writeFileSync(join(r.dir, name), text);
    let fifo = false;
    try {
      execFileSync('mkfifo', [join(r.dir, 'fifo.yaml')]);
      fifo = true;
    } catch {
      // no mkfifo here: the other cases still run
    }
    const all: Array<[string, RegExp]> = [...cases.map(([n, , re]): [string, RegExp] => [n, re]), ...(fifo ? [['fifo.yaml', /it is a named pipe \(FIFO\), not a regular file/] as [string, RegExp]] : [])];
    for (const [name, expected] of all) {
      const res = await exitOf(spawnCli(['run', name], r.dir));
      expect(res.code, `${name}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(expected);
      expect(res.stderr).toContain(name);
      expect(res.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(existsSync(join(r.dir, 'runs', 'cache'))).toBe(false);
  });
});

describe('polypersona score with nothing to score', () => {
  it('exits 2 naming the file (and line) for empty, blank, broken, wrong-typed and binary files', async () => {
    const r = rig();
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['empty.jsonl', '', /empty\.jsonl: no predictions to score: the file is empty/],
      ['blank.jsonl', '\n\n  \n', /blank\.jsonl: no predictions to score: it holds only blank lines/],
      ['broken.jsonl', '\n{oops\n', /broken\.jsonl:2: no predictions to score: line 2: not valid JSON/],
      ['types.jsonl', '{"id": "a", "reference": 1, "prediction": true}\n', /types\.jsonl:1: no predictions to score: line 1: record "a": prediction: must be string/],
      ['nul.jsonl', Buffer.from([0x7b, 0x00, 0x7d]), /nul\.jsonl:1: predictions file holds a NUL byte at byte offset 1/],
    ];
    for (const [name, content, expected] of cases) {
      writeFileSync(join(r.dir, name), content);
      const res = await r.run(['score', name]);
      expect(res.code, `${name}: ${res.stdout}${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(expected);
      expect(res.stdout).not.toMatch(/records scored/);
    }
  });
});
