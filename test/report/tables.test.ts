import { describe, expect, it } from 'vitest';
import { latexEscape, toCsv, toLatex, toMarkdown } from '../../src/report/tables.js';

const t = { caption: 'Cap_1 & more', columns: ['Model', 'BLEU'], rows: [['a|b, "x"', 0.12345], ['c', null]] as Array<Array<string | number | null>> };

describe('tables', () => {
  it('markdown escapes pipes, right-aligns numbers, formats 3 digits, dashes for null', () => {
    expect(toMarkdown(t)).toBe('Cap_1 & more\n\n| Model | BLEU |\n|---|---:|\n| a\\|b, "x" | 0.123 |\n| c | – |\n');
  });
  it('csv quotes per RFC 4180 and leaves null empty', () => {
    expect(toCsv(t)).toBe('Model,BLEU\n"a|b, ""x""",0.123\nc,\n');
  });
  it('latex escapes specials and uses booktabs', () => {
    expect(latexEscape('50% of R&D_x {y} ~ ^ \\ $ #')).toBe('50\\% of R\\&D\\_x \\{y\\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{} \\$ \\#');
    const tex = toLatex(t);
    expect(tex).toContain('\\caption{Cap\\_1 \\& more}');
    expect(tex).toContain('\\begin{tabular}{lr}');
    expect(tex).toContain('c & – \\\\');
  });
});
