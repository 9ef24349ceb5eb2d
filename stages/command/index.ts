import { isAbsolute, resolve } from 'node:path';
import type { StageContext, StageDefinition } from '../../src/engine/contract.js';
import { readJsonAsset } from '../../src/core/paths.js';
import type { CommandParams } from './params.js';

/**
 * `command`: any external tool, run through execa with `sh -c` in the pipeline's folder. Its
 * command line is part of the stage key (it is a param); `deps` add file contents to the key.
 */
const command: StageDefinition<CommandParams> = {
  type: 'command',
  version: 1,
  description: 'Run a shell command (sh -c) that writes into ${{ outputs.dir }}',
  produces: 'files',
  paramsSchema: readJsonAsset(import.meta.url, 'params.schema.json'),
  fileDeps: (params, pipelineDir) => params.deps.map((d) => (isAbsolute(d) ? d : resolve(pipelineDir, d))),
  // Runtime directories land in `run` as quoted shell words; `env` values are not shell text.
  shellParams: ['run'],
  async run(ctx: StageContext<CommandParams>) {
    const { runCommand } = await import('./run.js');
    await runCommand(ctx);
  },
};

export default command;
