/**
 * A tiny model dir whose end-of-sequence ids include the token it greedily emits first for given
 * prompts: greedy decoding of those prompts then stops at once, with an empty answer (issue 11's
 * "EOS as the first token"). The first tokens are found with the real generator, so the fixture
 * holds whatever the weights and chat template do.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage } from '../../../src/formats/chatml.js';
import { TextGenerator } from '../../../src/model/generate/generator.js';
import { tinyModelDir } from '../llama/model-dir-fixture.js';

export async function eosFirstModelDir(chats: ChatMessage[][]): Promise<{ dir: string; firstTokens: number[] }> {
  const { dir } = tinyModelDir();
  const generator = await TextGenerator.load(dir, { threads: 1 });
  let firstTokens: number[];
  try {
    const results = await generator.generate(
      chats.map((c, i) => ({ ids: generator.encodeChat(c), label: String(i) })),
      { doSample: false, temperature: 1, topK: 0, topP: 1, seed: 0, maxNewTokens: 1 },
    );
    firstTokens = results.map((r) => r.tokens[0] ?? -1).filter((t) => t >= 0);
  } finally {
    await generator.release();
  }
  for (const file of ['config.json', 'generation_config.json']) {
    const path = join(dir, file);
    const json = JSON.parse(readFileSync(path, 'utf8')) as { eos_token_id: number | number[] };
    const eos = Array.isArray(json.eos_token_id) ? json.eos_token_id : [json.eos_token_id];
    json.eos_token_id = [...new Set([...eos, ...firstTokens])];
    writeFileSync(path, JSON.stringify(json, null, 2));
  }
  return { dir, firstTokens };
}
