import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { buildTokenizerConfig, byteLevelTokenizerFiles, loadTokenizer, trainByteLevelBpe, writeTokenizerFiles } from '../../../src/model/tokenizer/index.js';
import { tempDir } from '../../helpers/stage-context.js';

/**
 * tokenizer_config.json names the generic class, so Python transformers uses tokenizer.json as
 * written. With "Qwen2Tokenizer", transformers 5 swapped in Qwen's digit-splitting pre-tokenizer
 * and a Python user got other ids than the project (the interop suite checks the ids against
 * Python itself; this pins the file's side of it).
 */
describe('tokenizer_config.json class', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is PreTrainedTokenizerFast (tokenizer.json as written), not a model-specific class', () => {
    expect(buildTokenizerConfig({}).tokenizer_class).toBe('PreTrainedTokenizerFast');
  });

  it('keeps merges across digits, which a digit-splitting pre-tokenizer would undo', async () => {
    const texts = Array.from({ length: 4 }, () => 'in 2019 and 2019 again, 2019');
    writeTokenizerFiles(dir, byteLevelTokenizerFiles({ merges: trainByteLevelBpe(texts, 8) }));
    const tokenizer = await loadTokenizer(dir);
    const ids = tokenizer.encode(' 2019', { add_special_tokens: false });
    expect(ids.length).toBeLessThan(' 2019'.length);
  });
});
