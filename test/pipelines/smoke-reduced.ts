import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** pipelines/smoke.yaml with params.records lowered (default 60: 48 training records, 6 test predictions). */
export function reducedSmoke(records = 60): string {
  const source = readFileSync(fileURLToPath(new URL('../../pipelines/smoke.yaml', import.meta.url)), 'utf8');
  const reduced = source.replace(/^ {2}records: \d+$/m, `  records: ${records}`);
  if (reduced === source) throw new Error('pipelines/smoke.yaml has no params.records line to reduce');
  return reduced;
}

export interface VerifyJson {
  ok: boolean;
  stages: Array<{ id: string; verdict: string; propagated?: boolean; largestDeviation?: string; firstDifference?: string }>;
}

/** The `verify --json` report line of a CLI run's stdout. */
export function verifyJson(stdout: string): VerifyJson {
  const line = stdout.split('\n').find((l) => l.includes('"type":"verify-report"'));
  if (!line) throw new Error(`no verify-report in:\n${stdout.slice(-2000)}`);
  return JSON.parse(line) as VerifyJson;
}

