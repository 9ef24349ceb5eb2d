import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { DataError, UserError } from '../core/errors.js';
import { readJsonFile } from '../core/files.js';
import { packageRoot } from '../core/paths.js';
import { describeAjvError } from '../core/json-schema.js';
import type { ItemScale, QuestionType } from '../formats/survey-item.js';
import { domainAttitude, type Attitude } from './domains.js';

export interface QuestionItem {
  id: string;
  domain: string;
  type: QuestionType;
  text: string;
  construct: string;
  /** Filled from the domain when the file names none. */
  attitude: Attitude;
  instrument: string;
  scale?: ItemScale;
}

export interface QuestionBank {
  /** Directory it was read from. */
  dir: string;
  /** Domains in file-name order. */
  domains: string[];
  items: QuestionItem[];
  byId: Map<string, QuestionItem>;
}

/** The bank shipped with the package: `<packageRoot>/question-bank`. */
export function builtinBankDir(): string {
  return join(packageRoot(), 'question-bank');
}

let validator: ValidateFunction | undefined;
function bankValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'question-bank.schema.json'), 'utf8')) as object;
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator;
}

/**
 * Reads every `*.json` file of a bank directory (one domain per file) and validates it: the JSON
 * schema, then the rules a schema cannot say (ids unique across files, a scale on every closed
 * item and none on open ones, labels matching points, item domain = file domain). Throws a
 * DataError naming the file and item id of the first problem found.
 */
export function loadQuestionBank(dir: string): QuestionBank {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError('question-bank', `question bank directory not found: ${dir}`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new DataError('question-bank', `question bank ${dir} holds no .json files`, { location: { file: dir } });
  const items: QuestionItem[] = [];
  const byId = new Map<string, QuestionItem>();
  const where = new Map<string, string>();
  const domains: string[] = [];
  for (const name of files) {
    const file = join(dir, name);
    const parsed = readJsonFile(file, 'the question bank file');
    const validate = bankValidator();
    if (!validate(parsed)) {
      const first = validate.errors![0]!;
      const issue = describeAjvError(first);
      if (first.keyword === 'pattern' && first.instancePath.endsWith('/text')) issue.message = 'text is empty';
      const itemIndex = /^\/items\/(\d+)/.exec(first.instancePath)?.[1];
      const rawItem = itemIndex === undefined ? undefined : ((parsed as { items: unknown[] }).items[Number(itemIndex)] as { id?: unknown } | undefined);
      const itemName = rawItem && typeof rawItem.id === 'string' ? ` item "${rawItem.id}"` : itemIndex !== undefined ? ` item #${Number(itemIndex) + 1}` : '';
      throw new DataError('question-bank', `${file}${itemName}: ${issue.pointer || '/'} ${issue.message}`, { location: { file } });
    }
    const bankFile = parsed as { domain: string; items: Array<Omit<QuestionItem, 'attitude'> & { attitude?: Attitude }> };
    domains.push(bankFile.domain);
    for (const raw of bankFile.items) {
      const fail = (msg: string): never => {
        throw new DataError('question-bank', `${file} item "${raw.id}": ${msg}`, { location: { file } });
      };
      if (raw.domain !== bankFile.domain) fail(`domain "${raw.domain}" differs from the file's domain "${bankFile.domain}"`);
      const seen = where.get(raw.id);
      if (seen) fail(`duplicate id (also in ${basename(seen)})`);
      if (raw.type === 'open') {
        if (raw.scale) fail('an open item must not have a scale');
      } else {
        if (!raw.scale) fail(`a ${raw.type} item needs a scale (points, labels, reverse_scored)`);
        if (raw.scale!.labels.length !== raw.scale!.points) fail(`scale has ${raw.scale!.points} points but ${raw.scale!.labels.length} labels`);
        if (raw.type === 'yesno' && raw.scale!.points !== 2) fail('a yesno item needs a 2-point scale');
      }
      const item: QuestionItem = { ...raw, attitude: raw.attitude ?? domainAttitude(raw.domain) };
      where.set(item.id, file);
      byId.set(item.id, item);
      items.push(item);
    }
  }
  const dup = domains.find((d, i) => domains.indexOf(d) !== i);
  if (dup) throw new DataError('question-bank', `question bank ${dir}: domain "${dup}" is defined by two files`, { location: { file: dir } });
  return { dir, domains, items, byId };
}

/** Items of one domain and type, in bank order. */
export function itemsOf(bank: QuestionBank, domain: string, type: QuestionType): QuestionItem[] {
  return bank.items.filter((q) => q.domain === domain && q.type === type);
}
