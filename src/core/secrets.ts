/**
 * Secret values this process holds, and their removal from text it records or prints. An
 * upstream server may echo a request's `Authorization: Bearer <key>` in an error body, and that
 * body becomes an error message: in run history, in a `failures.jsonl`, on stderr. Every such
 * text goes through redactSecrets on its way out (the scheduler's failure records and stage log
 * lines, the CLI's error printer, the teachers' reasons).
 *
 * Known secrets: values registered by the code that uses them (a teacher's `api_key_env`), and
 * the values of environment variables whose names say they are secrets (`OPENAI_API_KEY`,
 * `HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN`, any `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_PASSWORD`).
 * Values shorter than MIN_SECRET_LENGTH are left alone: redacting "1" or "true" would mangle
 * every message and protect nothing.
 */

/** Shortest value treated as a secret. */
export const MIN_SECRET_LENGTH = 8;

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

const SECRET_ENV_NAME = /(^|_)(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)$|^(OPENAI_API_KEY|HF_TOKEN|HUGGING_FACE_HUB_TOKEN)$/i;

const registered = new Set<string>();

/** Adds a value this process holds as a secret (an API key read from a named variable). */
export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) registered.add(value);
}

/** Registered secrets plus the secret-named variables of `env`, longest first. */
export function knownSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const all = new Set(registered);
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_SECRET_LENGTH && SECRET_ENV_NAME.test(name)) all.add(value);
  }
  // Longest first, so a secret that contains another is replaced whole.
  return [...all].sort((a, b) => b.length - a.length);
}

/**
 * `text` with every known secret replaced by REDACTED, also where it appears URL-encoded or
 * JSON-escaped (an echoed request body or query string).
 */
export function redactSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const secret of knownSecrets(env)) {
    for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
      if (out.includes(form)) out = out.split(form).join(REDACTED);
    }
  }
  return out;
}
