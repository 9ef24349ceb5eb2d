import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findChatTemplate, recordMessages, renderChatMl } from '../../src/survey/chatml.js';
import { DEFAULT_SYSTEM_PROMPT, userPrompt, type DatasetRecord } from '../../src/survey/record.js';
import { tempDir } from '../helpers/stage-context.js';

const record: DatasetRecord = {
  id: 'r1', domain: 'work_experience', question_type: 'likert',
  question: { id: 'q', text: 'How clear is your role?', scale: { points: 3, labels: ['Not', 'Somewhat', 'Very'], reverse_scored: false } },
  persona: { age: 30, occupation: 'nurse', values: ['family', 'health'], attitudes: { job_satisfaction: 0.9 } },
  reference: 'Very (3 of 3).', meta: {},
};

describe('ChatML triplets', () => {
  it('rebuilds system/user/assistant from persona, domain, question, scale and reference', () => {
    const m = recordMessages(record);
    expect(m.map((x) => x.role)).toEqual(['system', 'user', 'assistant']);
    expect(m[0]!.content).toBe(DEFAULT_SYSTEM_PROMPT);
    expect(m[1]!.content).toBe('Persona:\n  Age: 30\n  Occupation: nurse\n  Values: family, health\n\nDomain: work experience\nQuestion: How clear is your role?\nAnswer scale: 1 = Not, 2 = Somewhat, 3 = Very\nPick one option from the scale, then give a short reason.');
    expect(m[1]!.content).not.toContain('0.9'); // latent attitudes stay hidden
    expect(m[2]).toEqual({ role: 'assistant', content: 'Very (3 of 3).' });
    expect(userPrompt({ ...record, persona: 'A night-shift nurse.', question_type: 'open', question: { id: 'q', text: 'Why?' } })).toBe('Persona:\n  A night-shift nurse.\n\nDomain: work experience\nQuestion: Why?\nAnswer in one to three sentences, in your own voice.');
  });
  it("keeps a record's own triplet, adding a system turn when it has none", () => {
    const own = [{ role: 'user' as const, content: 'U' }, { role: 'assistant' as const, content: 'A' }];
    expect(recordMessages({ ...record, messages: own }, 'SYS')).toEqual([{ role: 'system', content: 'SYS' }, ...own]);
    const withSystem = [{ role: 'system' as const, content: 'S' }, ...own];
    expect(recordMessages({ ...record, messages: withSystem })).toEqual(withSystem);
  });
  it('renders the standard ChatML layout', () => {
    expect(renderChatMl([{ role: 'system', content: 'S' }, { role: 'user', content: 'U' }])).toBe('<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n');
    expect(renderChatMl([{ role: 'user', content: 'U' }], true)).toBe('<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n');
  });
  it('finds a chat template as a string, a named list, or chat_template.jinja', () => {
    const dir = tempDir();
    expect(findChatTemplate(dir)).toBeUndefined();
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] }));
    expect(findChatTemplate(dir)).toBe('D');
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: 'X' }));
    expect(findChatTemplate(dir)).toBe('X');
    writeFileSync(join(dir, 'chat_template.jinja'), 'J');
    expect(findChatTemplate(dir)).toBe('J');
    const bad = tempDir();
    writeFileSync(join(bad, 'tokenizer_config.json'), '{');
    expect(() => findChatTemplate(bad)).toThrow(/tokenizer_config\.json: not valid JSON/);
  });
});
