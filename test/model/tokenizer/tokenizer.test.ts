import { beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../../../src/core/errors.js';
import {
  GPT2_SPLIT,
  toByteLevel,
  BYTE_LEVEL_SPECIAL_IDS,
  BYTE_TOKEN_OFFSET,
  byteLevelTokenizerFiles,
  byteLevelVocabSize,
  loadTokenizer,
  trainByteLevelBpe,
  writeTokenizerFiles,
  type Tokenizer,
} from '../../../src/model/tokenizer/index.js';
import { tempDir } from '../../helpers/stage-context.js';

const CORPUS = [
  'I would rate the service as good; the staff were helpful and the wait was short.',
  'The service was slow, but the staff were friendly. I would come back.',
  'Overall, I am satisfied with the public transport in my city, although buses are late.',
];
const HARD_TEXTS = [
  'hello world',
  'Héllo wörld — ¿qué tal? 😀👩🏽‍💻 日本語のテキスト',
  '  leading and trailing spaces  \n\ttabs\r\nand CRLF\u0000nul',
  "it's we'll they're 12345 3.14 a+b=c",
  'e\u0301 (combining) and \u{1F1FA}\u{1F1F8} flags',
];

/** The textbook algorithm, recounting every pair each round: the reference for the incremental trainer. */
function referenceBpe(texts: string[], numMerges: number): Array<[string, string]> {
  const counts = new Map<string, number>();
  for (const text of texts) for (const m of text.matchAll(GPT2_SPLIT)) counts.set(toByteLevel(m[0]), (counts.get(toByteLevel(m[0])) ?? 0) + 1);
  let words = [...counts].map(([w, c]) => ({ tokens: Array.from(w), count: c }));
  const merges: Array<[string, string]> = [];
  for (let m = 0; m < numMerges; m++) {
    const pairs = new Map<string, number>();
    for (const { tokens, count } of words) for (let i = 0; i + 1 < tokens.length; i++) pairs.set(`${tokens[i]}\u0000${tokens[i + 1]}`, (pairs.get(`${tokens[i]}\u0000${tokens[i + 1]}`) ?? 0) + count);
    const ranked = [...pairs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    if (ranked.length === 0 || ranked[0]![1] < 2) break;
    const [l, r] = ranked[0]![0].split('\u0000') as [string, string];
    merges.push([l, r]);
    words = words.map(({ tokens, count }) => {
      const out: string[] = [];
      for (let i = 0; i < tokens.length; i++) {
        if (tokens[i] === l && tokens[i + 1] === r) { out.push(l + r); i++; } else out.push(tokens[i]!);
      }
      return { tokens: out, count };
    });
  }
  return merges;
}

describe('trainByteLevelBpe', () => {
  it('matches the textbook (recount-everything) BPE on a varied corpus', () => {
    const texts = [...CORPUS, ...HARD_TEXTS, 'aaaa aaa aa a abab ababab abcabc abc abc bca', 'the the then there their theirs'];
    expect(trainByteLevelBpe(texts, 120)).toEqual(referenceBpe(texts, 120));
  });

  it('learns the merges a hand run of BPE gives (ties by spelling, min frequency 2)', () => {
    expect(trainByteLevelBpe(['low lower lowest'], 100)).toEqual([['l', 'o'], ['lo', 'w'], ['low', 'e'], ['Ġ', 'lowe']]);
  });

  it('is deterministic and respects the merge budget', () => {
    const a = trainByteLevelBpe(CORPUS, 30);
    expect(a).toHaveLength(30);
    expect(trainByteLevelBpe(CORPUS, 1000).length).toBeLessThan(1000); // stops when no pair occurs twice
    expect(trainByteLevelBpe([...CORPUS], 30)).toEqual(a);
    expect(trainByteLevelBpe(CORPUS, 10)).toEqual(a.slice(0, 10));
  });
});

describe('byte-level tokenizer through transformers.js', () => {
  let plain: Tokenizer;
  let trained: Tokenizer;
  let trainedDir: string;
  const merges = trainByteLevelBpe(CORPUS, 60);

  beforeAll(async () => {
    const plainDir = tempDir();
    writeTokenizerFiles(plainDir, byteLevelTokenizerFiles({}));
    plain = await loadTokenizer(plainDir);
    trainedDir = tempDir();
    writeTokenizerFiles(trainedDir, byteLevelTokenizerFiles({ merges }));
    trained = await loadTokenizer(trainedDir);
  });

  it('without merges, encodes text to its UTF-8 bytes (id = 3 + byte)', () => {
    for (const text of HARD_TEXTS) {
      const expected = Array.from(Buffer.from(text, 'utf8'), (b) => BYTE_TOKEN_OFFSET + b);
      expect(plain.encode(text), text).toEqual(expected);
    }
  });

  it('round-trips arbitrary UTF-8 with and without merges', () => {
    for (const text of HARD_TEXTS.concat(CORPUS)) {
      expect(plain.decode(plain.encode(text)), text).toBe(text);
      expect(trained.decode(trained.encode(text)), text).toBe(text);
    }
  });

  it('uses the learned merges: in-domain text gets shorter, every id is in the vocabulary', () => {
    const text = CORPUS[1]!;
    const ids = trained.encode(text);
    expect(ids.length).toBeLessThan(Buffer.byteLength(text) * 0.7);
    expect(Math.max(...ids)).toBeLessThan(byteLevelVocabSize({ merges }));
  });

  it('renders ChatML through the chat template and keeps special tokens whole', () => {
    const messages = [
      { role: 'system', content: 'You are a 34-year-old nurse.' },
      { role: 'user', content: 'How satisfied are you?' },
    ];
    const text = trained.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as string;
    expect(text).toBe('<|im_start|>system\nYou are a 34-year-old nurse.<|im_end|>\n<|im_start|>user\nHow satisfied are you?<|im_end|>\n<|im_start|>assistant\n');
    const ids = trained.encode(text);
    expect(ids[0]).toBe(BYTE_LEVEL_SPECIAL_IDS['<|im_start|>']);
    expect(ids.filter((id) => id === BYTE_LEVEL_SPECIAL_IDS['<|im_end|>'])).toHaveLength(2);
    expect(trained.decode(ids)).toBe(text);
    expect(trained.decode(ids, { skip_special_tokens: true })).toBe('system\nYou are a 34-year-old nurse.\nuser\nHow satisfied are you?\nassistant\n');
    expect(trained.eos_token_id).toBe(BYTE_LEVEL_SPECIAL_IDS['<|im_end|>']);
    expect(trained.pad_token_id).toBe(BYTE_LEVEL_SPECIAL_IDS['<|endoftext|>']);
  });

  it('names the directory when tokenizer files are missing', async () => {
    const dir = tempDir();
    await expect(loadTokenizer(dir)).rejects.toThrow(DataError);
    await expect(loadTokenizer(dir)).rejects.toThrow(new RegExp(`${dir}.*tokenizer\\.json`));
    writeTokenizerFiles(dir, byteLevelTokenizerFiles({}));
    rmSync(join(dir, 'tokenizer_config.json'));
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer_config\.json/);
  });
});
