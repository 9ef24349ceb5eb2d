import type { DatasetRecord } from './record.js';
import { QUESTION_TYPES } from '../formats/survey-item.js';
import { overlapMarkdown, type SplitOverlap } from './split-overlap.js';

/**
 * The dataset report: the paper's Figure 1 (responses per domain), Figure 2 (question-type
 * shares) and Figure 5 (answer length per domain as box plots), plus persona reuse, as a
 * Markdown page and standalone SVG charts. Pure functions of the records: same data, same bytes.
 */
export interface DatasetSummary {
  records: number;
  personas: number;
  domains: Array<{ domain: string; count: number }>;
  types: Array<{ type: string; count: number; share: number }>;
  /** personas by how many domains they answer in */
  personaDomains: Array<{ domains: number; personas: number }>;
  /** answers per persona: min / mean / max */
  answersPerPersona: { min: number; mean: number; max: number };
  /** answer length in characters (code points) per domain, as the paper's Figure 5: five-number summary */
  lengths: Array<{ domain: string; min: number; q1: number; median: number; q3: number; max: number; mean: number }>;
}

const characters = (s: string): number => [...s].length;

function quantile(sorted: number[], q: number): number {
  // Linear interpolation between closest ranks (numpy's default, "type 7").
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function personaKey(r: DatasetRecord): string {
  const id = r.meta?.persona_id;
  return typeof id === 'string' ? id : JSON.stringify(r.persona);
}

export function summarizeDataset(records: readonly DatasetRecord[]): DatasetSummary {
  const byDomain = new Map<string, DatasetRecord[]>();
  for (const r of records) (byDomain.get(r.domain) ?? byDomain.set(r.domain, []).get(r.domain)!).push(r);
  const domains = [...byDomain.entries()].map(([domain, rs]) => ({ domain, count: rs.length })).sort((a, b) => b.count - a.count || a.domain.localeCompare(b.domain));
  const types = QUESTION_TYPES.map((type) => {
    const count = records.filter((r) => r.question_type === type).length;
    return { type, count, share: records.length ? count / records.length : 0 };
  });
  const perPersona = new Map<string, { n: number; domains: Set<string> }>();
  for (const r of records) {
    const k = personaKey(r);
    const e = perPersona.get(k) ?? perPersona.set(k, { n: 0, domains: new Set() }).get(k)!;
    e.n++;
    e.domains.add(r.domain);
  }
  const reuse = new Map<number, number>();
  for (const e of perPersona.values()) reuse.set(e.domains.size, (reuse.get(e.domains.size) ?? 0) + 1);
  const counts = [...perPersona.values()].map((e) => e.n);
  const lengths = domains.map(({ domain }) => {
    const ls = byDomain.get(domain)!.map((r) => characters(r.reference)).sort((a, b) => a - b);
    return { domain, min: ls[0]!, q1: quantile(ls, 0.25), median: quantile(ls, 0.5), q3: quantile(ls, 0.75), max: ls.at(-1)!, mean: ls.reduce((a, b) => a + b, 0) / ls.length };
  });
  return {
    records: records.length,
    personas: perPersona.size,
    domains,
    types,
    personaDomains: [...reuse.entries()].sort((a, b) => a[0] - b[0]).map(([d, p]) => ({ domains: d, personas: p })),
    answersPerPersona: { min: counts.length ? Math.min(...counts) : 0, mean: counts.length ? records.length / counts.length : 0, max: counts.length ? Math.max(...counts) : 0 },
    lengths,
  };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x: number, d = 1): string => (Number.isInteger(x) ? String(x) : x.toFixed(d));
const label = (d: string): string => d.replace(/_/g, ' ');

function svg(width: number, height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">\n<title>${esc(title)}</title>\n<rect width="100%" height="100%" fill="white"/>\n<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>\n${body}</svg>\n`;
}

/** Horizontal bars: one per row, value label at the bar's end. */
function barChart(title: string, rows: Array<{ name: string; value: number; text: string }>): string {
  const left = 170, barMax = 360, rowH = 24, top = 36;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const body = rows
    .map((r, i) => {
      const y = top + i * rowH;
      const w = (r.value / max) * barMax;
      return `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.name)}</text><rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="#4C78A8"/><text x="${(left + w + 6).toFixed(1)}" y="${y + 15}">${esc(r.text)}</text>`;
    })
    .join('\n');
  return svg(left + barMax + 90, top + rows.length * rowH + 12, title, body + '\n');
}

export function domainChart(s: DatasetSummary): string {
  return barChart('Responses per domain (Fig. 1)', s.domains.map((d) => ({ name: label(d.domain), value: d.count, text: String(d.count) })));
}

export function typeChart(s: DatasetSummary): string {
  return barChart('Question types (Fig. 2)', s.types.map((t) => ({ name: t.type, value: t.count, text: `${t.count} (${(100 * t.share).toFixed(1)}%)` })));
}

/** Box plots of answer length in characters per domain (Fig. 5): whiskers min–max, box q1–q3, median line. */
export function lengthChart(s: DatasetSummary): string {
  const left = 170, plotW = 380, rowH = 26, top = 40;
  const max = Math.max(1, ...s.lengths.map((l) => l.max));
  const x = (v: number): string => (left + (v / max) * plotW).toFixed(1);
  const rows = s.lengths
    .map((l, i) => {
      const y = top + i * rowH, mid = y + rowH / 2;
      return [
        `<text x="${left - 8}" y="${mid + 4}" text-anchor="end">${esc(label(l.domain))}</text>`,
        `<line x1="${x(l.min)}" y1="${mid}" x2="${x(l.max)}" y2="${mid}" stroke="#555"/>`,
        `<rect x="${x(l.q1)}" y="${y + 5}" width="${(Number(x(l.q3)) - Number(x(l.q1))).toFixed(1)}" height="${rowH - 10}" fill="#9ECAE9" stroke="#4C78A8"/>`,
        `<line x1="${x(l.median)}" y1="${y + 5}" x2="${x(l.median)}" y2="${y + rowH - 5}" stroke="#222" stroke-width="2"/>`,
      ].join('');
    })
    .join('\n');
  const axisY = top + s.lengths.length * rowH + 4;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(f * max)}" y="${axisY + 14}" text-anchor="middle">${fmt(f * max, 0)}</text>`).join('');
  return svg(left + plotW + 40, axisY + 40, 'Answer length in characters per domain (Fig. 5)', `${rows}\n<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#555"/>${ticks}<text x="${left + plotW / 2}" y="${axisY + 32}" text-anchor="middle">characters</text>\n`);
}

export interface DatasetReportExtra {
  title?: string;
  splits?: Record<string, number>;
  /** Train/test overlap per split pair (split-overlap.ts), and whether the split was persona-disjoint. */
  overlap?: { overlaps: SplitOverlap[]; personaDisjoint: boolean };
}

export function datasetReportMarkdown(s: DatasetSummary, extra: DatasetReportExtra = {}): string {
  const lines = [`# ${extra.title ?? 'Dataset report'}`, '', `${s.records} records, ${s.personas} personas, ${s.domains.length} domains.`, ''];
  if (extra.splits) lines.push(`Splits: ${Object.entries(extra.splits).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  if (extra.overlap) lines.push(...overlapMarkdown(extra.overlap.overlaps, extra.overlap.personaDisjoint), '');
  lines.push('## Responses per domain (Figure 1)', '', '![domains](fig1-domains.svg)', '', '| domain | records | share |', '|---|---:|---:|');
  for (const d of s.domains) lines.push(`| ${label(d.domain)} | ${d.count} | ${((100 * d.count) / Math.max(1, s.records)).toFixed(1)}% |`);
  lines.push('', '## Question types (Figure 2)', '', '![types](fig2-question-types.svg)', '', '| type | records | share |', '|---|---:|---:|');
  for (const t of s.types) lines.push(`| ${t.type} | ${t.count} | ${(100 * t.share).toFixed(1)}% |`);
  lines.push('', '## Persona reuse', '', `Answers per persona: min ${s.answersPerPersona.min}, mean ${s.answersPerPersona.mean.toFixed(2)}, max ${s.answersPerPersona.max}.`, '', '| domains answered in | personas | share |', '|---:|---:|---:|');
  for (const p of s.personaDomains) lines.push(`| ${p.domains} | ${p.personas} | ${((100 * p.personas) / Math.max(1, s.personas)).toFixed(1)}% |`);
  lines.push('', '## Answer length in characters (Figure 5)', '', '![lengths](fig5-answer-length.svg)', '', '| domain | min | q1 | median | q3 | max | mean |', '|---|---:|---:|---:|---:|---:|---:|');
  for (const l of s.lengths) lines.push(`| ${label(l.domain)} | ${l.min} | ${fmt(l.q1)} | ${fmt(l.median)} | ${fmt(l.q3)} | ${l.max} | ${l.mean.toFixed(1)} |`);
  return lines.join('\n') + '\n';
}

/** Every file of the report, by name: dataset-report.md and the three SVG charts. */
export function datasetReportFiles(records: readonly DatasetRecord[], extra: DatasetReportExtra = {}): Map<string, string> {
  const summary = summarizeDataset(records);
  return new Map([
    ['dataset-report.md', datasetReportMarkdown(summary, extra)],
    ['fig1-domains.svg', domainChart(summary)],
    ['fig2-question-types.svg', typeChart(summary)],
    ['fig5-answer-length.svg', lengthChart(summary)],
  ]);
}
