/**
 * What an adapter's `adapter_config.json` says in `base_model_name_or_path`: where Python's
 * `AutoPeftModelForCausalLM.from_pretrained(adapter_dir)` finds the base model.
 *
 * The base model's cache folder relative to the project folder — `runs/cache/<key[0:2]>/<key>/out`
 * (the artifact store's layout, src/engine/store/artifact-store.ts) — because:
 * - transformers resolves a relative path against the working directory, and the project folder
 *   (the one holding `runs/`) is where polypersona runs and where a user opens Python;
 * - the string depends only on the base model's stage key, so the adapter's bytes are the same on
 *   every machine and in `verify`'s scratch store (an absolute path would differ by checkout);
 * - the stage id the field held before is neither a path nor a hub id, so AutoPeftModel failed.
 * With another runs folder (`--runs-dir`, POLYPERSONA_RUNS_DIR), or an adapter copied away from
 * its cache, load it with `PeftModel.from_pretrained(base, adapter_dir)` and a base of your
 * choice (docs/interop.md).
 */
export function peftBaseModelPath(baseModelKey: string): string {
  return `runs/cache/${baseModelKey.slice(0, 2)}/${baseModelKey}/out`;
}
