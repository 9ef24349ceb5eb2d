/** The terminal as the CLI sees it; tests pass their own to capture output. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Cancels long commands (run, watch, verify): wired to SIGINT/SIGTERM by main. */
  signal: AbortSignal;
}

export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
