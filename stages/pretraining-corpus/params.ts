/** The `with:` params of the pretraining-corpus stage, validated against params.schema.json (defaults filled). */
export interface PretrainingCorpusParams {
  documents: Array<'personas' | 'answers'>;
}
