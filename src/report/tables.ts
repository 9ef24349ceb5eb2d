/**
 * A table as data, rendered three ways: GitHub Markdown, RFC 4180 CSV, and a LaTeX
 * `tabular` (booktabs rules). Numbers are formatted once, so the three agree.
 */

export type Cell = string | number | null;

export interface Table {
  caption: string;
  columns: string[];
  rows: Cell[][];
  /** Decimal places for numbers (default 3, the paper's). */
  digits?: number;
}

function format(cell: Cell, digits: number): string {
  if (cell === null) return '–';
  return typeof cell === 'number' ? cell.toFixed(digits) : cell;
}

export function toMarkdown(t: Table): string {
  const d = t.digits ?? 3;
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    `| ${t.columns.map(esc).join(' | ')} |`,
    `|${t.columns.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map((c) => esc(format(c, d))).join(' | ')} |`),
  ];
  return `${t.caption}\n\n${lines.join('\n')}\n`;
}

export function toCsv(t: Table): string {
  const d = t.digits ?? 3;
  const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const cell = (c: Cell): string => (c === null ? '' : typeof c === 'number' ? c.toFixed(d) : q(c));
  return [t.columns.map(q).join(','), ...t.rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

const LATEX_SPECIAL: Record<string, string> = { '\\': '\\textbackslash{}', '&': '\\&', '%': '\\%', $: '\\$', '#': '\\#', _: '\\_', '{': '\\{', '}': '\\}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}' };

export function latexEscape(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (ch) => LATEX_SPECIAL[ch]!);
}

export function toLatex(t: Table): string {
  const d = t.digits ?? 3;
  const spec = `l${'r'.repeat(Math.max(0, t.columns.length - 1))}`;
  const row = (cells: string[]): string => `${cells.join(' & ')} \\\\`;
  return [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexEscape(t.caption)}}`,
    `\\begin{tabular}{${spec}}`,
    '\\toprule',
    row(t.columns.map(latexEscape)),
    '\\midrule',
    ...t.rows.map((r) => row(r.map((c) => latexEscape(format(c, d))))),
    '\\bottomrule',
    '\\end{tabular}',
    '\\end{table}',
    '',
  ].join('\n');
}
