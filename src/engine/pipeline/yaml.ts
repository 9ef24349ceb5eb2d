import { createRequire } from 'node:module';
import type { Alias, Pair, Scalar, YAMLMap, YAMLSeq } from 'yaml';

type YamlModule = typeof import('yaml');
let loaded: YamlModule | undefined;

/**
 * The `yaml` package, loaded on first use. A pipeline found in the parse cache is never parsed,
 * and loading the package (~70 CommonJS modules) is a visible share of a cached run's start-up.
 */
export function yaml(): YamlModule {
  return (loaded ??= createRequire(import.meta.url)('yaml') as YamlModule);
}

export function isMap(node: unknown): node is YAMLMap {
  return yaml().isMap(node);
}
export function isSeq(node: unknown): node is YAMLSeq {
  return yaml().isSeq(node);
}
export function isScalar(node: unknown): node is Scalar {
  return yaml().isScalar(node);
}
export function isAlias(node: unknown): node is Alias {
  return yaml().isAlias(node);
}
export function isPair(node: unknown): node is Pair {
  return yaml().isPair(node);
}
