import { DataError } from '../core/errors.js';
import { Prng, deriveSeed } from '../core/prng.js';
import { ATTITUDES, type Attitude } from './domains.js';
import { readTextFile } from '../core/files.js';
import { parseCsv, parseJsonl, type NumberedRow } from './jsonl.js';
import { buildCard, describePersona, sampleDemographics, type BigFive, type PersonaCard } from './persona.js';
import { personaFromText } from './persona-text.js';

const TEXT_KEYS = ['persona', 'description', 'text'];
const STRING_FIELDS = ['gender', 'occupation', 'education', 'region', 'income_bracket'] as const;
const BIG_FIVE = ['openness', 'conscientiousness', 'extraversion', 'agreeableness', 'neuroticism'] as const;

/** Reads a user's persona file: JSONL (`.jsonl`/`.json` lines) or CSV (`.csv`). */
export function readPersonaRows(file: string): Array<NumberedRow<Record<string, unknown>>> {
  const text = readTextFile(file);
  return file.toLowerCase().endsWith('.csv') ? parseCsv(text, file) : parseJsonl(text, file);
}

/**
 * Persona cards from a user's rows. A row may hold a free-text persona (`persona`, `description`
 * or `text`), any card fields (age, gender, occupation, education, region, income_bracket, values,
 * interests, big_five or the five trait columns, attitudes or one column per attitude), or both;
 * what it leaves out is sampled, seeded by the row's content. Every bad row is reported at once.
 */
export function personasFromRows(rows: Array<NumberedRow<Record<string, unknown>>>, file: string, seed: number): PersonaCard[] {
  const bad: string[] = [];
  const cards: PersonaCard[] = [];
  const ids = new Map<string, number>();
  rows.forEach(({ line, value }, index) => {
    const problems: string[] = [];
    const text = TEXT_KEYS.map((k) => value[k]).find((v) => typeof v === 'string' && v.trim() !== '') as string | undefined;
    const id = value.id === undefined || value.id === '' ? `f${String(index + 1).padStart(4, '0')}` : String(value.id);
    if (ids.has(id)) problems.push(`duplicate id "${id}" (first on line ${ids.get(id)})`);
    ids.set(id, line);
    const hasFields = [...STRING_FIELDS, 'age'].some((k) => value[k] !== undefined && value[k] !== '');
    if (!text && !hasFields) problems.push(`no persona text (${TEXT_KEYS.join('/')}) and no card fields`);
    let age: number | undefined;
    if (value.age !== undefined && value.age !== '') {
      age = Number(value.age);
      if (!Number.isInteger(age) || age < 0 || age > 120) problems.push(`age "${String(value.age)}" is not an integer in 0..120`);
    }
    for (const k of STRING_FIELDS) if (value[k] !== undefined && typeof value[k] !== 'string') problems.push(`${k} must be a string`);
    const list = (k: string): string[] | undefined => {
      const v = value[k];
      if (v === undefined || v === '') return undefined;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      if (typeof v === 'string') return v.split(/[;|]/).map((s) => s.trim()).filter(Boolean);
      problems.push(`${k} must be a list of strings`);
      return undefined;
    };
    const values = list('values'), interests = list('interests');
    const unit = (v: unknown, name: string): number | undefined => {
      if (v === undefined || v === '') return undefined;
      const x = Number(v);
      if (!(x >= 0 && x <= 1)) problems.push(`${name} "${String(v)}" is not a number in [0, 1]`);
      return x;
    };
    const bigFiveSrc = (typeof value.big_five === 'object' && value.big_five !== null ? value.big_five : value) as Record<string, unknown>;
    const attitudeSrc = (typeof value.attitudes === 'object' && value.attitudes !== null ? value.attitudes : value) as Record<string, unknown>;
    const bigFive: Partial<BigFive> = {};
    for (const k of BIG_FIVE) { const x = unit(bigFiveSrc[k], k); if (x !== undefined) bigFive[k] = x; }
    const attitudes: Partial<Record<Attitude, number>> = {};
    for (const k of ATTITUDES) { const x = unit(attitudeSrc[k], k); if (x !== undefined) attitudes[k] = x; }
    if (problems.length > 0) {
      bad.push(`line ${line}: ${problems.join(', ')}`);
      return;
    }
    const rowSeed = deriveSeed(seed, `file-row\u0000${JSON.stringify(value)}`);
    let card: PersonaCard;
    if (text) card = { ...personaFromText(text, id, 'file', rowSeed) };
    else card = buildCard(new Prng(rowSeed), id, 'file', sampleDemographics(new Prng(rowSeed).fork('demographics')));
    if (age !== undefined) card.age = age;
    for (const k of STRING_FIELDS) if (typeof value[k] === 'string' && value[k] !== '') card[k] = value[k] as string;
    if (values) card.values = values;
    if (interests) card.interests = interests;
    card.big_five = { ...card.big_five, ...bigFive };
    card.attitudes = { ...card.attitudes, ...attitudes };
    if (!text) card.description = describePersona(card);
    cards.push(card);
  });
  if (bad.length > 0) {
    const firstLine = Number(/line (\d+)/.exec(bad[0]!)?.[1]);
    throw new DataError('persona-file', `${file}: ${bad.length} bad persona row(s): ${bad.slice(0, 20).join('; ')}${bad.length > 20 ? `; and ${bad.length - 20} more` : ''}`, { location: { file, line: firstLine } });
  }
  return cards;
}

/**
 * `count` PersonaHub personas from a JSONL file of `{"persona": text}` lines: a seeded sample
 * without replacement, cards in the order drawn, ids `h<line number>`.
 */
export function personasFromPersonaHub(file: string, count: number, seed: number): PersonaCard[] {
  const rows = parseJsonl(readTextFile(file), file);
  const bad = rows.filter((r) => typeof r.value.persona !== 'string' || (r.value.persona as string).trim() === '').map((r) => r.line);
  if (bad.length > 0) throw new DataError('broken-lines', `${file}: ${bad.length} line(s) without a "persona" string: lines ${bad.slice(0, 20).join(', ')}${bad.length > 20 ? ', ...' : ''}`, { location: { file, line: bad[0] } });
  if (rows.length < count) throw new DataError('persona-file', `${file} holds ${rows.length} personas, fewer than the ${count} requested`, { location: { file } });
  const order = new Prng(seed).fork('personahub-sample').shuffle(rows.map((_, i) => i)).slice(0, count);
  return order.map((i) => personaFromText(rows[i]!.value.persona as string, `h${rows[i]!.line}`, 'personahub', seed));
}
