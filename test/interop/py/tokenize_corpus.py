"""Token ids that Python transformers gives on the project's model dirs.

usage: tokenize_corpus.py REQUEST_JSON OUT_JSON

REQUEST_JSON: { "dirs": [model dir, ...], "texts": [str, ...], "chats": [[{role, content}, ...], ...] }
OUT_JSON:     { dir: { "class": tokenizer class, "texts": [[id, ...]], "chats": [[id, ...]] } }

Texts are encoded without special tokens; chats through the dir's chat template with the
assistant turn opened (add_generation_prompt), as the project encodes prompts.
"""
from transformers import AutoTokenizer

from common import args, read_json, write_json


def ids_of(encoded):
    # transformers 5 returns a BatchEncoding from apply_chat_template(tokenize=True)
    return list(encoded["input_ids"]) if hasattr(encoded, "keys") else list(encoded)


def run(request, out):
    result = {}
    for d in request["dirs"]:
        tok = AutoTokenizer.from_pretrained(d)
        result[d] = {
            "class": type(tok).__name__,
            "texts": [tok(t, add_special_tokens=False)["input_ids"] for t in request["texts"]],
            "chats": [ids_of(tok.apply_chat_template(m, tokenize=True, add_generation_prompt=True)) for m in request["chats"]],
        }
    write_json(out, result)


if __name__ == "__main__":
    request_file, out_file = args(2)
    run(read_json(request_file), out_file)
