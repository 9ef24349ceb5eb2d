import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeRecords, makeBatch, type ChatTokenizer } from '../../src/train/data.js';
import { readChatmlSplit, type ChatMessage } from '../../src/formats/chatml.js';
import { tempDir } from '../helpers/stage-context.js';

/** A character tokenizer with a ChatML-like template: one token per character. */
const charTokenizer: ChatTokenizer = {
  apply_chat_template(messages, options) {
    let text = messages.map((m) => `<${m.role}>${m.content}|`).join('');
    if (options.add_generation_prompt) text += '<assistant>';
    return { input_ids: [...text].map((c) => c.charCodeAt(0)) };
  },
};

describe('chat data', () => {
  const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'ok' }];

  it('labels only the answer under loss_on: assistant, every next token under all', () => {
    const full = '<user>hi|<assistant>ok|';
    const prompt = '<user>hi|<assistant>';
    const [a] = encodeRecords(charTokenizer, [{ id: 'a', messages }], 'assistant', 512).examples;
    expect(a!.ids).toHaveLength(full.length);
    // position t predicts token t+1; only targets inside "ok|" count
    const labelled = a!.labels.map((l, t) => (l === -100 ? '' : full[t + 1])).join('');
    expect(labelled).toBe('ok|');
    expect(a!.labels[prompt.length - 1]).toBe('o'.charCodeAt(0));
    const [b] = encodeRecords(charTokenizer, [{ id: 'a', messages }], 'all', 512).examples;
    expect(b!.tokens).toBe(full.length - 1);
  });

  it('truncates to max_seq_length and leaves out records with no answer token left', () => {
    const r = encodeRecords(charTokenizer, [{ id: 'long', messages }], 'assistant', 10);
    expect(r.skipped).toEqual(['long']);
    const r2 = encodeRecords(charTokenizer, [{ id: 'cut', messages }], 'assistant', 22);
    expect(r2.truncated).toEqual(['cut']);
    expect(r2.examples[0]!.tokens).toBe(2); // 'o' and 'k' of the answer fit in 22 characters
  });

  it('right-pads batches with label −100 and attention 0', () => {
    const ex = encodeRecords(charTokenizer, [{ id: 'a', messages }, { id: 'b', messages: [{ role: 'user', content: 'hello' }, messages[1]!] }], 'assistant', 512).examples;
    const batch = makeBatch(ex, 0);
    expect(batch.T).toBe(ex[1]!.ids.length);
    const T = batch.T, lenA = ex[0]!.ids.length;
    expect(batch.attentionMask[lenA - 1]).toBe(1n);
    expect(batch.attentionMask[lenA]).toBe(0n);
    expect(batch.labels[lenA]).toBe(-100n);
    expect(batch.inputIds[T - 1 + T]).toBe(BigInt(ex[1]!.ids[T - 1]!));
    expect(batch.tokens).toBe(ex[0]!.tokens + ex[1]!.tokens);
  });

  it('rejects a record whose last message is not the assistant answer, with file and line', () => {
    const dir = tempDir();
    const file = join(dir, 'train.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: 'q1', messages: [{ role: 'user', content: 'x' }, { role: 'user', content: 'y' }] })}\n`);
    expect(() => encodeRecords(charTokenizer, readChatmlSplit(file), 'assistant', 512, file)).toThrow(/train\.jsonl:1: record "q1": the last message must be the assistant's answer/);
  });

  it('names the file and line of a record whose prompt the chat template does not reproduce as a prefix', () => {
    const dir = tempDir();
    const file = join(dir, 'train.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: 'a', messages })}\n\n${JSON.stringify({ id: 'b', messages })}\n`);
    // A template that marks the generation prompt differently from the answered turn.
    const odd: ChatTokenizer = {
      apply_chat_template(msgs, options) {
        if (!options.add_generation_prompt) return charTokenizer.apply_chat_template(msgs, options);
        return { input_ids: [...'<gen>'].map((c) => c.charCodeAt(0)) };
      },
    };
    expect(() => encodeRecords(odd, readChatmlSplit(file), 'assistant', 512, file)).toThrow(/train\.jsonl:1: record "a": the tokenized prompt is not a prefix/);
  });
});
