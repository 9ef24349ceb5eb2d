/**
 * The byte-level vocabulary every project tokenizer starts from: three ChatML special tokens
 * first (so their ids never move when merges are added), then the 256 byte tokens in byte order,
 * then learned merges. Byte tokens are spelled with GPT-2's `bytes_to_unicode` alphabet, which is
 * what the HF `ByteLevel` pre-tokenizer and decoder expect.
 */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];

export const BYTE_LEVEL_SPECIAL_IDS: Record<SpecialToken, number> = { '<|endoftext|>': 0, '<|im_start|>': 1, '<|im_end|>': 2 };
/** First id of a byte token: id = BYTE_TOKEN_OFFSET + byte. */
export const BYTE_TOKEN_OFFSET = SPECIAL_TOKENS.length;
/** Vocabulary size with no merges: 3 specials + 256 bytes. */
export const BYTE_LEVEL_BASE_VOCAB = BYTE_TOKEN_OFFSET + 256;

/** GPT-2's reversible byte → printable character map (`bytes_to_unicode`). */
export const BYTE_TO_CHAR: string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Array<string>(256);
  for (const b of printable) map[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = String.fromCodePoint(256 + n++);
  return map;
})();

/** A string's UTF-8 bytes spelled in the byte-level alphabet. */
export function toByteLevel(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += BYTE_TO_CHAR[b];
  return out;
}
