/**
 * Limits on what a pipeline file may make the loader do. Each guards against a file that would
 * otherwise hang the CLI or exhaust its memory (a YAML "billion laughs" alias bomb, a matrix
 * whose cartesian product has 10^10 cells, a 50 MB string), and each is named in the message
 * that refuses a file, so a user who meets one knows which. They are documented in
 * docs/pipeline-format.md ("Limits"); the figures are far above what real pipelines use
 * (the 1,000-stage benchmark pipeline is 93 KiB, nests 4 deep and has no matrix).
 */

/**
 * Largest pipeline file, in bytes. Parsing is linear in the text (a 1 MiB file of 13,480 stages
 * parses in ~0.8 s of CPU here, see docs/pipeline-format.md), so this bounds a load to a second or two.
 */
export const MAX_PIPELINE_BYTES = 1 << 20;

/**
 * Deepest nesting of maps and sequences, counting the top-level map as 1 and counting through
 * aliases. A real pipeline nests ~6 deep (stages → id → with → teacher → ...). The yaml package,
 * ajv and the expression resolver all recurse; past a few thousand levels they overflow the stack.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * Most values that aliases (`*name`) may add to the document in total. YAML aliases are
 * references: nine aliases of nine aliases of ... expand to 9^n values from a few hundred bytes
 * (the "billion laughs" attack). The yaml package guards its own toJS with `maxAliasCount`; the
 * loader builds the value itself (to keep expression positions), so it counts what it builds.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

/**
 * Most combinations one stage's matrix may expand to (GitHub Actions allows 256 jobs per
 * matrix). Checked on the product of the axis lengths, before anything is expanded.
 */
export const MAX_MATRIX_COMBINATIONS = 256;
