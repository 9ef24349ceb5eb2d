import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { CliRig } from '../helpers/cli-rig.js';
import { tinyModelDir } from '../model/llama/model-dir-fixture.js';

describe('model info / generate / serve commands', () => {
  const { dir } = tinyModelDir();

  it('model info prints the shape; bad input is a clear exit 2', async () => {
    const rig = new CliRig();
    const res = await rig.run(['model', 'info', dir]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/llama/);
    const json = JSON.parse((await rig.run(['model', 'info', dir, '--json'])).stdout);
    expect(json).toMatchObject({ architecture: 'llama', numHiddenLayers: 1 });
    expect(json.parameters).toBeGreaterThan(0);
    expect((await rig.run(['model', 'info'])).code).toBe(2);
    expect((await rig.run(['model', 'list', dir])).stderr).toMatch(/unknown subcommand "list"/);
    const missing = await rig.run(['model', 'info', 'nowhere']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nowhere/);
  });

  it('generate: same seed, same text; greedy is deterministic', async () => {
    const rig = new CliRig();
    const args = ['generate', '--model', dir, '--max-new-tokens', '8', '--json', 'How satisfied are you?'];
    const a = JSON.parse((await rig.run([...args, '--temperature', '0.9', '--seed', '3'])).stdout);
    const b = JSON.parse((await rig.run([...args, '--temperature', '0.9', '--seed', '3'])).stdout);
    expect(a.text).toBe(b.text);
    expect(a.completion_tokens).toBeGreaterThan(0);
    expect(a.completion_tokens).toBeLessThanOrEqual(8);
    const g1 = JSON.parse((await rig.run(args)).stdout);
    const g2 = JSON.parse((await rig.run(args)).stdout);
    expect(g1.text).toBe(g2.text);
    expect((await rig.run(['generate', 'hi'])).stderr).toMatch(/--model DIR is required/);
    expect((await rig.run(['generate', '--model', dir, '--top-p', '2', 'hi'])).stderr).toMatch(/--top-p must be a number in \[0, 1\]/);
  });

  it('serve answers /v1/models until cancelled', async () => {
    const rig = new CliRig();
    const controller = new AbortController();
    let url = '';
    const serving = rig.run(['serve', '--model', dir, '--port', '0', '--name', 'tiny-persona'], { signal: controller.signal });
    // The command prints its URL once listening; poll the rig's output through a request loop.
    const started = Date.now();
    const body = await new Promise<string>((resolve, reject) => {
      const tryOnce = (port: number): void => {
        const req = request({ host: '127.0.0.1', port, path: '/v1/models' }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      };
      const poll = setInterval(() => {
        const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(rig.lastStdout);
        if (m) {
          clearInterval(poll);
          url = m[0];
          tryOnce(Number(m[1]));
        } else if (Date.now() - started > 60_000) {
          clearInterval(poll);
          reject(new Error('server did not start'));
        }
      }, 50);
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse(body).data[0].id).toBe('tiny-persona');
    controller.abort();
    const res = await serving;
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/stopped/);
  });
});
