import { describe, expect, it } from 'vitest';
import { StopMatcher } from '../../../src/model/serve/stop.js';
import { parseChatRequest, RequestError } from '../../../src/model/serve/request.js';
import { servedModelId } from '../../../src/model/serve/model-id.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/stage-context.js';

describe('StopMatcher', () => {
  it('cuts at the earliest stop sequence and holds back a suffix that may start one', () => {
    const m = new StopMatcher(['\n\nQ', 'END']);
    expect(m.update('I walk')).toEqual({ safe: 'I walk', stopped: false });
    expect(m.update('I walk daily.\n')).toEqual({ safe: 'I walk daily.', stopped: false });
    expect(m.update('I walk daily.\n\n')).toEqual({ safe: 'I walk daily.', stopped: false });
    expect(m.update('I walk daily.\nE')).toEqual({ safe: 'I walk daily.\n', stopped: false });
    expect(m.update('I walk daily.\n\nQ: next')).toEqual({ safe: 'I walk daily.', stopped: true });
    expect(m.update('xEND then \n\nQ')).toEqual({ safe: 'x', stopped: true });
  });

  it('without stop sequences shows everything', () => {
    expect(new StopMatcher([]).update('abc')).toEqual({ safe: 'abc', stopped: false });
  });
});

describe('chat request fields', () => {
  const base = { messages: [{ role: 'user', content: 'q' }] };
  const parse = (extra: Record<string, unknown>) => parseChatRequest(JSON.stringify({ ...base, ...extra }));
  const refused = (extra: Record<string, unknown>): RequestError => {
    try {
      parse(extra);
    } catch (err) {
      return err as RequestError;
    }
    throw new Error(`accepted ${JSON.stringify(extra)}`);
  };

  it('reads stop as a string or a list of at most four', () => {
    expect(parse({ stop: 'x' }).stop).toEqual(['x']);
    expect(parse({ stop: ['a', 'b'] }).stop).toEqual(['a', 'b']);
    expect(parse({ stop: null }).stop).toEqual([]);
    expect(refused({ stop: ['a', 'b', 'c', 'd', 'e'] }).param).toBe('stop');
    expect(refused({ stop: [''] }).param).toBe('stop');
    expect(refused({ stop: 3 }).status).toBe(400);
  });

  it('draws a fresh seed when none is given', () => {
    const seeds = new Set(Array.from({ length: 8 }, () => parse({}).seed));
    expect(seeds.size).toBeGreaterThan(1);
    expect(parse({}).seedGiven).toBe(false);
    expect(parse({ seed: 4 })).toMatchObject({ seed: 4, seedGiven: true });
  });

  it('takes stream_options only with stream', () => {
    expect(parse({ stream: true, stream_options: { include_usage: true } }).includeUsage).toBe(true);
    expect(refused({ stream_options: { include_usage: true } }).param).toBe('stream_options');
  });

  it('refuses what it cannot honour', () => {
    expect(refused({ logprobs: true }).param).toBe('logprobs');
    expect(refused({ top_logprobs: 3 }).param).toBe('top_logprobs');
    expect(refused({ presence_penalty: 0.5 }).param).toBe('presence_penalty');
    expect(refused({ logit_bias: { '1': 5 } }).param).toBe('logit_bias');
    expect(parse({ logprobs: false, presence_penalty: 0, frequency_penalty: null }).stop).toEqual([]);
  });
});

describe('served model id', () => {
  it("is config.json's _name_or_path, else the folder, else the cache entry's key", () => {
    const root = tempDir();
    const named = join(root, 'named');
    mkdirSync(named);
    writeFileSync(join(named, 'config.json'), JSON.stringify({ _name_or_path: 'TinyLlama/TinyLlama-1.1B-Chat-v1.0', model_type: 'llama' }));
    expect(servedModelId(named)).toBe('TinyLlama/TinyLlama-1.1B-Chat-v1.0');
    const entry = join(root, '3f2a9c1b04de77aa', 'out');
    mkdirSync(entry, { recursive: true });
    writeFileSync(join(entry, 'config.json'), JSON.stringify({ model_type: 'llama' }));
    expect(servedModelId(entry)).toBe('llama-3f2a9c1b04de');
    const adapter = join(root, 'persona-lora');
    mkdirSync(adapter);
    expect(servedModelId(named, adapter)).toBe('TinyLlama/TinyLlama-1.1B-Chat-v1.0+persona-lora');
  });
});
