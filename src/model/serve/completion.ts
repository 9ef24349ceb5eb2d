/**
 * One chat completion on a TextGenerator, with what the HTTP layer needs around generation:
 * requests run one at a time (the generator holds one KV cache), stop sequences end the answer
 * (and the decoding) as soon as they appear, and a caller's AbortSignal (the client went away)
 * stops the decoding at the next token.
 */
import type { ChatMessage } from '../../formats/chatml.js';
import type { GenerationResult, TextGenerator } from '../generate/generator.js';
import { RequestError, type ChatRequest } from './request.js';
import { StopMatcher } from './stop.js';

export interface CompletionOutcome {
  text: string;
  promptTokens: number;
  /** Tokens decoded, the one that completed a stop sequence included. */
  completionTokens: number;
  /** `cancelled`: the caller aborted (the client disconnected); nothing is sent. */
  finishReason: 'stop' | 'length' | 'cancelled';
}

export interface CompletionCallbacks {
  signal: AbortSignal;
  /** Text to show now (streaming): never part of a stop sequence, never a broken character. */
  onText?: (delta: string) => void;
}

/** Abort reasons this module gives its own decoding, told apart from real failures. */
const STOP_HIT = Symbol('stop sequence');
const CLIENT_GONE = Symbol('client gone');

export class CompletionQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly generator: TextGenerator) {}

  /** Queues the request behind those already running; resolves when it has run. */
  run(request: ChatRequest, callbacks: CompletionCallbacks): Promise<CompletionOutcome> {
    const job = (): Promise<CompletionOutcome> => this.complete(request, callbacks);
    const next = this.tail.then(job, job);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every queued request has finished. */
  async drain(): Promise<void> {
    await this.tail;
  }

  private async complete(request: ChatRequest, { signal, onText }: CompletionCallbacks): Promise<CompletionOutcome> {
    const generator = this.generator;
    if (signal.aborted) return { text: '', promptTokens: 0, completionTokens: 0, finishReason: 'cancelled' };
    const ids = generator.encodeChat(request.messages as ChatMessage[]);
    if (ids.length >= generator.cfg.maxPositionEmbeddings) {
      throw new RequestError(400, `the prompt has ${ids.length} tokens; the model has ${generator.cfg.maxPositionEmbeddings} positions`, 'messages');
    }
    const matcher = new StopMatcher(request.stop);
    const halt = new AbortController();
    const onClientGone = (): void => halt.abort(CLIENT_GONE);
    signal.addEventListener('abort', onClientGone, { once: true });
    const tokens: number[] = [];
    let shown = '';
    const show = (safe: string): void => {
      // A re-decode may rewrite earlier text (a merged byte sequence); show only clean extensions.
      if (safe.length > shown.length && safe.startsWith(shown)) {
        onText?.(safe.slice(shown.length));
        shown = safe;
      }
    };
    let result: GenerationResult | undefined;
    try {
      result = (
        await generator.generate([{ ids, label: 'request' }], {
          doSample: request.temperature > 0,
          temperature: request.temperature,
          topP: request.topP,
          topK: 0,
          maxNewTokens: request.maxTokens,
          seed: request.seed,
          signal: halt.signal,
          onToken: (_, id) => {
            tokens.push(id);
            const text = generator.decode(tokens);
            // Hold back a partial UTF-8 character until its remaining bytes arrive.
            if (text.endsWith('\uFFFD')) return;
            const state = matcher.update(text);
            show(state.safe);
            if (state.stopped) halt.abort(STOP_HIT);
          },
        })
      )[0];
    } catch (err) {
      if (halt.signal.reason !== STOP_HIT && halt.signal.reason !== CLIENT_GONE) throw err;
    } finally {
      signal.removeEventListener('abort', onClientGone);
    }
    if (halt.signal.reason === CLIENT_GONE) return { text: shown, promptTokens: ids.length, completionTokens: tokens.length, finishReason: 'cancelled' };
    const text = result ? result.text : generator.decode(tokens);
    const state = matcher.update(text);
    const finalText = state.stopped ? state.safe : text;
    show(finalText);
    return {
      text: finalText,
      promptTokens: ids.length,
      completionTokens: tokens.length,
      finishReason: state.stopped ? 'stop' : (result?.finishReason ?? 'stop'),
    };
  }
}
