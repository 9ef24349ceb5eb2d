import { DataError } from '../core/errors.js';
import { readTextFile } from '../core/files.js';

/** One parsed line with its 1-based line number. */
export interface NumberedRow<T = unknown> {
  line: number;
  value: T;
}

/**
 * Parses JSONL text: blank lines are skipped; every line that is not a JSON object is collected,
 * and one DataError names all of them (up to 20 line numbers) so the user fixes the file in one go.
 */
export function parseJsonl(text: string, file: string): Array<NumberedRow<Record<string, unknown>>> {
  const rows: Array<NumberedRow<Record<string, unknown>>> = [];
  const bad: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    try {
      const value = JSON.parse(raw) as unknown;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) bad.push(`line ${i + 1}: not a JSON object`);
      else rows.push({ line: i + 1, value: value as Record<string, unknown> });
    } catch (err) {
      bad.push(`line ${i + 1}: ${(err as Error).message}`);
    }
  }
  if (bad.length > 0) throw brokenLines(file, bad);
  return rows;
}

export function readJsonl(file: string): Array<NumberedRow<Record<string, unknown>>> {
  return parseJsonl(readTextFile(file), file);
}

function brokenLines(file: string, bad: string[]): DataError {
  const shown = bad.slice(0, 20).join('; ');
  const more = bad.length > 20 ? `; and ${bad.length - 20} more` : '';
  const firstLine = Number(/line (\d+)/.exec(bad[0]!)?.[1]);
  return new DataError('broken-lines', `${file}: ${bad.length} broken line(s): ${shown}${more}`, { location: { file, line: firstLine } });
}

/**
 * Parses CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF) with a header row into objects.
 * Rows with a different field count than the header, or an unterminated quote, are broken lines.
 */
export function parseCsv(text: string, file: string): Array<NumberedRow<Record<string, string>>> {
  const records: Array<{ line: number; fields: string[] }> = [];
  const bad: string[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let startLine = 1;
  let fieldStarted = false;
  const endRecord = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) records.push({ line: startLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else inQuotes = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') { inQuotes = true; fieldStarted = true; }
    else if (ch === ',') { fields.push(field); field = ''; fieldStarted = true; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      startLine = line;
    } else { field += ch; fieldStarted = true; }
  }
  if (inQuotes) bad.push(`line ${startLine}: unterminated quoted field`);
  else if (field !== '' || fields.length > 0) endRecord();
  if (records.length === 0) throw new DataError('broken-lines', `${file}: empty CSV (no header row)`, { location: { file } });
  const header = records[0]!.fields.map((h) => h.trim());
  const rows: Array<NumberedRow<Record<string, string>>> = [];
  for (const r of records.slice(1)) {
    if (r.fields.length !== header.length) {
      bad.push(`line ${r.line}: ${r.fields.length} fields, header has ${header.length}`);
      continue;
    }
    const obj: Record<string, string> = {};
    header.forEach((h, j) => (obj[h] = r.fields[j]!));
    rows.push({ line: r.line, value: obj });
  }
  if (bad.length > 0) throw brokenLines(file, bad);
  return rows;
}
