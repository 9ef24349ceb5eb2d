/**
 * The line loop every JSONL record reader of this folder shares: blank lines are skipped (a
 * trailing `\r` is dropped), each other line is one JSON object. Line numbers are 1-based.
 */

export type JsonlLine = { line: number; value: Record<string, unknown>; problem?: undefined } | { line: number; value?: undefined; problem: string };

export function* jsonlLines(text: string): Generator<JsonlLine> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      yield { line, problem: `not valid JSON (${(err as Error).message})` };
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) yield { line, problem: 'not a JSON object' };
    else yield { line, value: value as Record<string, unknown> };
  }
}

/** A record's id for messages: its `id` when it has a usable one. */
export function idOf(value: Record<string, unknown> | undefined): string | undefined {
  const id = value?.id;
  return typeof id === 'string' && id !== '' ? id : typeof id === 'number' && Number.isInteger(id) ? String(id) : undefined;
}

/** One JSON object per line, compact, with a trailing newline (empty text for no records). */
export function toJsonl(records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}
