import { EXIT, type Command } from '../command.js';
import { intOption, parseCommandArgs } from '../args.js';
import { openStore, projectLockFiles } from '../project.js';
import { collectReferencedKeys, garbageCollect } from '../../engine/store/index.js';
import type { CliIO } from '../io.js';

const command: Command = {
  summary: 'remove cache entries that no lock file or recent run references',
  usage: `
usage: polypersona gc [--keep-last N] [--lock FILE ...] [--dry-run] [--json]

Keeps every entry named by a lock file here or in pipelines/ (plus any --lock FILE) and by the
last N run records of each pipeline (default 5); removes the rest. --dry-run lists without removing.
`,
  async run(argv: string[], io: CliIO): Promise<number> {
    const { values } = parseCommandArgs('gc', argv, {
      'keep-last': { type: 'string' },
      lock: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    const store = openStore(io, values['runs-dir']);
    const keepLast = intOption('gc', 'keep-last', values['keep-last'], 0) ?? 5;
    const lockFiles = [...projectLockFiles(io), ...(values.lock ?? [])];
    const keep = collectReferencedKeys(store.runsDir, lockFiles, keepLast);
    const result = await garbageCollect(store, keep, { dryRun: values['dry-run'] === true });
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ dryRun: values['dry-run'] === true, lockFiles, ...result })}\n`);
      return EXIT.ok;
    }
    const verb = values['dry-run'] ? 'would remove' : 'removed';
    for (const r of result.removed) io.stdout.write(`${verb} ${r.key.slice(0, 12)} (${r.bytes} bytes)\n`);
    for (const s of result.skipped) io.stdout.write(`left ${s.key.slice(0, 12)}: ${s.reason}\n`);
    io.stdout.write(`${verb} ${result.removed.length} entries (${(result.freedBytes / 1048576).toFixed(1)} MiB), kept ${result.kept}\n`);
    return EXIT.ok;
  },
};

export default command;
