import type { ChatMessage } from '../../formats/chatml.js';
import type { TeacherFailure, TeacherRequest } from './openai.js';

/**
 * A teacher that is a model the project runs itself (src/model TextGenerator on ONNX Runtime):
 * a Hugging Face model dir, optionally with a PEFT adapter. Prompts are the chat template with
 * the assistant turn opened; each record's random stream is named by its id, so answers do not
 * depend on batching. Empty answers are reported as per-record failures.
 */
export interface ModelTeacherOptions {
  modelDir: string;
  adapterDir?: string;
  threads: number;
  scratchDir: string;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  batchSize: number;
  seed: number;
  signal?: AbortSignal;
}

export async function askModelTeacher(requests: TeacherRequest[], o: ModelTeacherOptions, onDone?: (done: number) => void): Promise<{ answers: Map<string, string>; failures: TeacherFailure[] }> {
  const { TextGenerator } = await import('../../model/generate/generator.js');
  const generator = await TextGenerator.load(o.modelDir, { threads: o.threads, adapterDir: o.adapterDir, scratchDir: o.scratchDir });
  const prompts = requests.map((r) => ({ ids: generator.encodeChat(r.messages as ChatMessage[]), label: r.id }));
  const results = await generator.generate(prompts, {
    doSample: o.temperature > 0,
    temperature: o.temperature > 0 ? o.temperature : 1,
    topK: 0,
    topP: o.topP,
    maxNewTokens: o.maxNewTokens,
    seed: o.seed,
    batchSize: o.batchSize,
    signal: o.signal,
    onProgress: (done) => onDone?.(done),
  });
  const answers = new Map<string, string>();
  const failures: TeacherFailure[] = [];
  results.forEach((r, i) => {
    const text = r.text.trim();
    if (text === '') failures.push({ id: requests[i]!.id, reason: 'the model produced an empty answer', attempts: 1 });
    else answers.set(requests[i]!.id, text);
  });
  return { answers, failures };
}
