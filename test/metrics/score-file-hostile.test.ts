/**
 * Predictions files with nothing to score (issue 11): each is an error naming the file and the
 * first bad line — never "0 records scored" with exit 0 — and a FIFO is refused, not waited on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.js';
import { scorePredictionsFile } from '../../src/metrics/score-file.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function file(content: string | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'pp-score-hostile-'));
  made.push(dir);
  const path = join(dir, 'predictions.jsonl');
  writeFileSync(path, content);
  return path;
}

async function refusal(path: string): Promise<DataError> {
  const err = await scorePredictionsFile(path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DataError);
  return err as DataError;
}

describe('a predictions file with no scorable record is an error naming the file and line', () => {
  it('empty, or only blank lines', async () => {
    const empty = file('');
    expect((await refusal(empty)).message).toBe(`${empty}: no predictions to score: the file is empty (one JSON object per line with "id", "prediction" and "reference")`);
    const blank = file('\n   \n\t\n\r\n');
    expect((await refusal(blank)).message).toMatch(/predictions\.jsonl: no predictions to score: it holds only blank lines/);
  });

  it('every line broken, or of the wrong types: the first bad line is named', async () => {
    const broken = file('\n{not json\n[1, 2]\n"a string"\n');
    const err = await refusal(broken);
    expect(err.message).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: no predictions to score: line 2: not valid JSON \\(.*\\), and so are the other 2 non-blank lines$`));
    expect(err.location).toEqual({ file: broken, line: 2 });
    const wrongTypes = file(`${JSON.stringify({ id: 'a', reference: 1, prediction: 2 })}\n${JSON.stringify({ id: 'b', reference: ['a'], prediction: null })}\n`);
    expect((await refusal(wrongTypes)).message).toMatch(/:1: no predictions to score: line 1: record "a": prediction: must be string, and so are the other 1 non-blank lines$/);
    const noReference = file(`${JSON.stringify({ id: 'a', prediction: 'x' })}\n`);
    expect((await refusal(noReference)).message).toMatch(/:1: no predictions to score: line 1: record "a": no "reference" to score against$/);
  });

  it('binary garbage and NUL bytes are refused as not text, with the byte offset', async () => {
    const nul = file(Buffer.from('{"id": "a", "reference": "a", "prediction": "b"}\n\u0000\u0000\u0000'));
    expect((await refusal(nul)).message).toMatch(/predictions\.jsonl:2: predictions file holds a NUL byte at byte offset 49; it is binary, not text/);
    const garbage = file(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe]));
    expect((await refusal(garbage)).message).toMatch(/predictions\.jsonl:1: predictions file is not valid UTF-8 at byte offset 0 \(bytes 0x89 0x50 0x4e 0x47\)/);
  });

  it('a FIFO is refused at once instead of blocking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pp-score-fifo-'));
    made.push(dir);
    const fifo = join(dir, 'p.jsonl');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here
    }
    expect((await refusal(fifo)).message).toBe(`${fifo}: cannot read predictions file: it is a named pipe (FIFO), not a regular file`);
  });

  it('one good line among bad ones is still scored, the rest listed', async () => {
    const mixed = file(`{bad\n${JSON.stringify({ id: 'a', reference: 'a b', prediction: 'a b' })}\n`);
    const { metrics } = await scorePredictionsFile(mixed, { metrics: ['bleu'] });
    expect(metrics.n).toBe(1);
    expect(metrics.skipped.map((s) => s.line)).toEqual([1]);
  });
});
