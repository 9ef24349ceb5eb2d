import { describe, expect, it } from 'vitest';
import { CliRig } from '../helpers/cli-rig.js';

const line = (o: object): string => JSON.stringify(o);

describe('polypersona score', () => {
  it('scores the good lines, lists the bad ones by line number, writes outputs', async () => {
    const rig = new CliRig();
    rig.write(
      'preds.jsonl',
      [
        line({ id: 'a', domain: 'finance', question_type: 'open', reference: 'testing one two', prediction: 'testing' }),
        'not json at all',
        line({ id: 'b', reference: 'the cat sat' }),
        line({ id: 'c', domain: 'finance', question_type: 'open', reference: 'the cat sat on the mat', prediction: 'the cat sat on the mat' }),
      ].join('\n'),
    );
    const res = await rig.run(['score', 'preds.jsonl', '--metrics', 'rouge1,length_similarity', '--out', 'scored', '--json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const m = JSON.parse(res.stdout);
    expect(m.n).toBe(2);
    expect(m.skipped.map((s: { line: number }) => s.line)).toEqual([2, 3]);
    // rouge-score's documented example: F1 of ("testing one two", "testing") is 1/2; the exact match is 1.
    expect(m.overall.rouge1).toBeCloseTo((0.5 + 1) / 2, 12);
    expect(rig.exists('scored/metrics.json')).toBe(true);
    expect(rig.read('scored/records.jsonl').trim().split('\n')).toHaveLength(2);
    const text = await rig.run(['score', 'preds.jsonl', '--by', 'none']);
    expect(text.stdout).toMatch(/2 records scored, 2 skipped/);
    expect(text.stdout).toMatch(/skipped lines:/);
  });

  it('bad input: unknown metric, missing file, bertscore without an encoder, bad --by — exit 2', async () => {
    const rig = new CliRig();
    rig.write('p.jsonl', `${line({ reference: 'a', prediction: 'b' })}\n`);
    const unknown = await rig.run(['score', 'p.jsonl', '--metrics', 'bleu,meteor']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown metric "meteor"/);
    const missing = await rig.run(['score', 'nope.jsonl']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.jsonl/);
    expect((await rig.run(['score', 'p.jsonl', '--metrics', 'bertscore'])).stderr).toMatch(/needs --encoder DIR/);
    expect((await rig.run(['score', 'p.jsonl', '--by', 'persona'])).stderr).toMatch(/--by takes domain, question_type or none/);
    expect((await rig.run(['score'])).code).toBe(2);
  });
});
