/**
 * allow_patterns / ignore_patterns as huggingface_hub applies them: fnmatch globs over the
 * repo-relative path, where `*` also matches `/`, `?` one character, `[...]` a class; a pattern
 * ending in `/` means everything under that folder.
 */
export function globToRegExp(pattern: string): RegExp {
  const p = pattern.endsWith('/') ? `${pattern}*` : pattern;
  let re = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = p.indexOf(']', i + 2);
      if (close === -1) re += '\\[';
      else {
        let cls = p.slice(i + 1, close).replace(/\\/g, '\\\\');
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

/** Files kept by allow (none given = all) minus ignore. */
export function filterRepoFiles(files: string[], allow?: string[] | null, ignore?: string[] | null): string[] {
  const allowRe = allow && allow.length > 0 ? allow.map(globToRegExp) : undefined;
  const ignoreRe = (ignore ?? []).map(globToRegExp);
  return files.filter((f) => (!allowRe || allowRe.some((r) => r.test(f))) && !ignoreRe.some((r) => r.test(f)));
}
