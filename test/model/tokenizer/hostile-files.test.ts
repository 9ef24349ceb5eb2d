/**
 * Broken model dirs (issue 11): each is one clear error naming the file, not a raw EISDIR, a raw
 * template parser error in the middle of `generate`, or a tokenizer that silently encodes garbage.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataError } from '../../../src/core/errors.js';
import { modelInfo } from '../../../src/model/model-info.js';
import { inspectModelDir } from '../../../src/model/model-dir.js';
import { loadTokenizer } from '../../../src/model/tokenizer/index.js';
import { checkTokenizerFiles } from '../../../src/model/tokenizer/check.js';
import { CliRig } from '../../helpers/cli-rig.js';
import { tinyModelDir } from '../llama/model-dir-fixture.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function modelDir(): string {
  const { dir } = tinyModelDir();
  made.push(dirname(dir));
  return dir;
}
function editJson(path: string, edit: (v: Record<string, any>) => void): void {
  const v = JSON.parse(readFileSync(path, 'utf8'));
  edit(v);
  writeFileSync(path, JSON.stringify(v));
}
function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as DataError;
  }
  throw new Error('expected a DataError');
}

describe('a model dir with a directory where a file belongs', () => {
  it('model.safetensors or config.json as a directory: named, no raw EISDIR', () => {
    const dir = modelDir();
    rmSync(join(dir, 'model.safetensors'));
    mkdirSync(join(dir, 'model.safetensors'));
    expect(dataError(() => modelInfo(dir)).message).toBe(`${join(dir, 'model.safetensors')}: a safetensors file was expected here, but this is a directory`);
    rmSync(join(dir, 'config.json'));
    mkdirSync(join(dir, 'config.json'));
    expect(dataError(() => inspectModelDir(dir)).message).toBe(`${join(dir, 'config.json')}: cannot read the model config: it is a directory, not a regular file`);
  });
});

describe('tokenizer files', () => {
  it('a vocab of the wrong type, bad ids, bad merges, bad added tokens', () => {
    const dir = modelDir();
    const tok = join(dir, 'tokenizer.json');
    const original = readFileSync(tok, 'utf8');
    const cases: Array<[(v: Record<string, any>) => void, string]> = [
      [(v) => (v.model.vocab = ['a', 'b']), 'model.vocab must map each token to an integer id for a BPE model (got a list)'],
      [(v) => (v.model.vocab.a = 'seven'), 'model.vocab["a"] must be a non-negative integer id (got string "seven")'],
      [(v) => (v.model.vocab.a = -1), 'model.vocab["a"] must be a non-negative integer id (got number -1)'],
      [(v) => (v.model.merges = [1, 2]), 'model.merges must be a list of "a b" strings or [a, b] pairs (got a list)'],
      [(v) => (v.added_tokens = [{ id: 'x', content: 'y' }]), 'added_tokens must be a list of { id, content } with integer ids (got a list)'],
      [(v) => (v.model = 'BPE'), 'model must be an object (got string "BPE")'],
    ];
    for (const [edit, message] of cases) {
      writeFileSync(tok, original);
      editJson(tok, edit);
      expect(dataError(() => checkTokenizerFiles(dir)).message).toBe(`${tok}: ${message}`);
    }
    writeFileSync(tok, '{"model": ');
    expect(dataError(() => checkTokenizerFiles(dir)).message).toMatch(new RegExp(`^${tok}: not valid JSON`));
    writeFileSync(tok, original);
    checkTokenizerFiles(dir); // the project's own tokenizer passes
  });

  it('loadTokenizer refuses a list vocab (transformers.js would load it and encode garbage)', async () => {
    const dir = modelDir();
    editJson(join(dir, 'tokenizer.json'), (v) => (v.model.vocab = Object.keys(v.model.vocab)));
    await expect(loadTokenizer(dir)).rejects.toThrow(`${join(dir, 'tokenizer.json')}: model.vocab must map each token to an integer id`);
  });

  it('a chat template with a syntax error is named when the tokenizer loads', async () => {
    const dir = modelDir();
    const config = join(dir, 'tokenizer_config.json');
    editJson(config, (v) => (v.chat_template = '{% for m in messages %}{{ m.content }'));
    const err = await loadTokenizer(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toMatch(new RegExp(`^${config}: chat_template cannot render a one-message chat: .+`));
    expect((err as Error).message).not.toContain('\n');
    editJson(config, (v) => (v.chat_template = 42));
    expect(dataError(() => checkTokenizerFiles(dir)).message).toBe(`${config}: chat_template must be a string (a Jinja template) or a list of { name, template } (got number 42)`);
  });
});

describe('through the CLI: exit 2, one line naming the file', () => {
  it('model info and generate', async () => {
    const rig = new CliRig();
    made.push(rig.dir);
    const eisdir = modelDir();
    rmSync(join(eisdir, 'model.safetensors'));
    mkdirSync(join(eisdir, 'model.safetensors'));
    const template = modelDir();
    editJson(join(template, 'tokenizer_config.json'), (v) => (v.chat_template = '{{ messages[0].content'));
    const vocab = modelDir();
    editJson(join(vocab, 'tokenizer.json'), (v) => (v.model.vocab = ['x']));
    const runs: Array<[string[], string]> = [
      [['model', 'info', eisdir], join(eisdir, 'model.safetensors')],
      [['model', 'info', vocab], join(vocab, 'tokenizer.json')],
      [['generate', '--model', template, 'hello', '--max-new-tokens', '2'], join(template, 'tokenizer_config.json')],
      [['generate', '--model', vocab, 'hello', '--max-new-tokens', '2'], join(vocab, 'tokenizer.json')],
    ];
    for (const [argv, file] of runs) {
      const res = await rig.run(argv);
      expect(res.code, `${argv.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
      expect(res.stderr).toContain(file);
      expect(res.stderr).not.toMatch(/internal error|EISDIR/);
    }
  });
});
