/**
 * Secret redaction (issue 11): an upstream server that echoes the Authorization header in a 401
 * body must not get the key into run history, the work dir's failures.jsonl or stderr.
 */
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { knownSecrets, redactSecrets, registerSecret, REDACTED } from '../../src/core/secrets.js';
import { formatError } from '../../src/cli/command.js';
import { StageFailure } from '../../src/core/errors.js';
import { CliRig } from '../helpers/cli-rig.js';

describe('redactSecrets', () => {
  it('replaces the values of secret-named variables, raw, URL-encoded and JSON-escaped', () => {
    const env = { OPENAI_API_KEY: 'sk-live-1234567890', HF_TOKEN: 'hf_abc/def+ghi"jkl', MY_SERVICE_TOKEN: 'tok-0987654321', HOME: '/home/someone-long', SHORT_TOKEN: 'abc' };
    const text = `401: {"auth": "Bearer sk-live-1234567890", "q": "${encodeURIComponent(env.HF_TOKEN)}", "j": ${JSON.stringify(env.HF_TOKEN)}, "t": "tok-0987654321", "home": "/home/someone-long", "s": "abc"}`;
    expect(redactSecrets(text, env)).toBe(`401: {"auth": "Bearer ${REDACTED}", "q": "${REDACTED}", "j": "${REDACTED}", "t": "${REDACTED}", "home": "/home/someone-long", "s": "abc"}`);
    expect(knownSecrets(env)).not.toContain('/home/someone-long');
    expect(knownSecrets(env)).not.toContain('abc');
  });

  it('replaces registered values from any variable, longest first', () => {
    registerSecret('custom-key-from-api_key_env');
    registerSecret('custom-key');
    registerSecret('short');
    expect(redactSecrets('x custom-key-from-api_key_env y custom-key z short', {})).toBe(`x ${REDACTED} y ${REDACTED} z short`);
  });

  it('the CLI error printer redacts, --verbose stack included', () => {
    const err = new StageFailure('teacher-failures', 'HTTP 401: Bearer custom-key-from-api_key_env');
    expect(formatError(err, true)).not.toContain('custom-key-from-api_key_env');
    expect(formatError(new Error('boom custom-key-from-api_key_env'), true)).not.toContain('custom-key-from-api_key_env');
  });
});

describe('an upstream server that echoes the Authorization header', () => {
  let server: Server | undefined;
  const made: string[] = [];
  afterEach(async () => {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    server = undefined;
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('never gets the key into run history, failures.jsonl or stderr', async () => {
    const key = 'sk-proj-SECRET-canary-0123456789';
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `Incorrect API key provided: ${req.headers.authorization}` } }));
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const rig = new CliRig();
    made.push(rig.dir);
    rig.write(
      'p.yaml',
      [
        'version: 1',
        'stages:',
        '  personas:',
        '    uses: sample-personas',
        '    with: { count: 2, records: 3 }',
        '  dataset:',
        '    uses: synthesize-responses',
        '    needs: [personas]',
        `    with: { teacher: { kind: openai, base_url: "${url}", model: m, api_key_env: PP_CANARY_KEY, max_retries: 0 }, max_failure_share: 0 }`,
        '  leak:',
        '    run: echo "the token is $HF_TOKEN" >&2; exit 3',
        '',
      ].join('\n'),
    );
    // Stages read the process environment (the teacher's api_key_env, a command's $HF_TOKEN).
    process.env.PP_CANARY_KEY = key;
    process.env.HF_TOKEN = 'hf_canary_token_abcdef';
    let res;
    try {
      res = await rig.run(['run', 'p.yaml', '--keep-going']);
    } finally {
      delete process.env.PP_CANARY_KEY;
      delete process.env.HF_TOKEN;
    }
    expect(res.code).toBe(1);
    const history = join(rig.dir, 'runs', 'history', 'p');
    const recorded = readdirSync(history).map((f) => readFileSync(join(history, f), 'utf8')).join('\n');
    const work = join(rig.dir, 'runs', 'work');
    const failures = readdirSync(work).flatMap((k) => readdirSync(join(work, k)).filter((f) => f === 'failures.jsonl').map((f) => readFileSync(join(work, k, f), 'utf8')));
    expect(failures).toHaveLength(1);
    for (const text of [res.stdout, res.stderr, recorded, ...failures]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain('hf_canary_token_abcdef');
    }
    expect(failures[0]).toContain(`Incorrect API key provided: Bearer ${REDACTED}`);
    expect(recorded).toContain(REDACTED);
    expect(res.stdout + res.stderr).toContain(`the token is ${REDACTED}`);
  });
});
