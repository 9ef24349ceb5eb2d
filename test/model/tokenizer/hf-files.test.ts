import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTokenizerConfig, buildTokenizerJson, byteLevelTokenizerFiles, loadTokenizer, readTokenizerFiles, trainByteLevelBpe, writeTokenizerFiles } from '../../../src/model/tokenizer/index.js';
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

/** transformers 5's save_pretrained keeps the chat template in chat_template.jinja, out of tokenizer_config.json. */
describe('chat_template.jinja', () => {
  const dir = tempDir();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}";

  function writeDir(sub: string, configTemplate: string | undefined): string {
    const d = join(dir, sub);
    mkdirSync(d);
    const config = { ...buildTokenizerConfig({}) } as Record<string, unknown>;
    if (configTemplate === undefined) delete config.chat_template;
    else config.chat_template = configTemplate;
    writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(buildTokenizerJson({})));
    writeFileSync(join(d, 'tokenizer_config.json'), JSON.stringify(config));
    writeFileSync(join(d, 'chat_template.jinja'), template);
    return d;
  }
  const render = async (d: string) => (await loadTokenizer(d)).apply_chat_template([{ role: 'user', content: 'hi' }] as never, { tokenize: false, add_generation_prompt: true }) as unknown as string;

  it('is the chat template when tokenizer_config.json has none', async () => {
    expect(await render(writeDir('only-file', undefined))).toBe('[user] hi\n[assistant] ');
  });

  it('wins over the config template, as in transformers', async () => {
    expect(await render(writeDir('both', '{{ "config template" }}'))).toBe('[user] hi\n[assistant] ');
  });

  it('travels with the tokenizer files when a model dir is rewritten', () => {
    expect(readTokenizerFiles(join(dir, 'only-file'))['chat_template.jinja']).toBe(template);
  });
});
