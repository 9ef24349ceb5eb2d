"""Checkpoints written by transformers itself, and their reference logits.

usage: checkpoints.py ARCHITECTURES_JSON OUT_DIR

For every architecture × variant of architectures.json: a small random model built by
AutoModelForCausalLM.from_config, saved with save_pretrained (float32 or bfloat16, tied or untied
embeddings, one file or shards + model.safetensors.index.json) together with a byte-level BPE
tokenizer trained by `tokenizers` and saved by transformers. Then the dir is loaded back with
from_pretrained in float32 and run on two rows (the second left-padded) with explicit
attention_mask and position_ids, as the project's generator feeds them:

  OUT_DIR/<arch>-<variant>/            the model dir
  OUT_DIR/<arch>-<variant>.logits.f32  [B, T, V] float32 logits (padded positions included)
  OUT_DIR/manifest.json                per fixture: dirs, inputs, shapes, the float64 deviation

Weights are drawn wider than HF's init (N(0, 0.1²), norms 1 + N(0, 0.1²), biases N(0, 0.1²)) so
the logits spread out and every weight, norms and biases included, shapes the result.
"""
import os

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedTokenizerFast

from common import CORPUS, args, read_json, write_f32, write_json

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def fixture_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=384, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None, chat_template=CHATML)


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g) * 0.1
            if name.endswith(".bias"):
                p.copy_(noise)
            elif "norm" in name:
                p.copy_(1.0 + noise)
            else:
                p.copy_(noise)


def inputs(tokenizer):
    a = tokenizer(CORPUS[0], add_special_tokens=False)["input_ids"][:14]
    b = tokenizer(CORPUS[3], add_special_tokens=False)["input_ids"][:10]
    T = max(len(a), len(b))
    rows = [a, b]
    pad = tokenizer.pad_token_id
    ids = [[pad] * (T - len(r)) + r for r in rows]
    mask = [[0] * (T - len(r)) + [1] * len(r) for r in rows]
    # padded positions get 1, real tokens count from 0 (what the project's generator feeds)
    pos = [[1] * (T - len(r)) + list(range(len(r))) for r in rows]
    return ids, mask, pos


def main():
    arch_file, out = args(2)
    spec = read_json(arch_file)
    os.makedirs(out, exist_ok=True)
    tokenizer = fixture_tokenizer()
    ids, mask, pos = inputs(tokenizer)
    fixtures = []
    for ai, arch in enumerate(spec["architectures"]):
        for vi, variant in enumerate(spec["variants"]):
            name = f"{arch['name']}-{variant['name']}"
            d = os.path.join(out, name)
            cfg = AutoConfig.for_model(arch["model_type"], vocab_size=len(tokenizer), tie_word_embeddings=variant["tie_word_embeddings"],
                                       bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **arch["config"])
            torch.manual_seed(1000 * ai + vi)
            model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
            randomise(model, 1000 * ai + vi)
            model = model.to(torch.float32 if variant["dtype"] == "float32" else torch.bfloat16)
            save = {"max_shard_size": variant["max_shard_size"]} if "max_shard_size" in variant else {}
            model.save_pretrained(d, **save)
            tokenizer.save_pretrained(d)
            # The reference reads the files back, as the project does, and computes in float32.
            ref = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
            feed = dict(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask), position_ids=torch.tensor(pos))
            with torch.no_grad():
                logits = ref(**feed).logits
                # float64 on the unpadded first row: a yardstick for what 1e-4 means (a fully
                # masked padding row is NaN in float64). MoE's grouped_mm has no float64 kernel.
                try:
                    logits64 = ref.to(torch.float64)(**{k: v[:1] for k, v in feed.items()}).logits[0]
                except RuntimeError:
                    logits64 = None
            write_f32(os.path.join(out, f"{name}.logits.f32"), logits)
            dev64 = None if logits64 is None else ((logits[0].double() - logits64).abs().max() / logits64.abs().max()).item()
            fixtures.append({
                "name": name, "architecture": arch["name"], "model_type": arch["model_type"], "variant": variant["name"], "dir": d,
                "dims": list(logits.shape), "files": sorted(os.listdir(d)),
                "torch_fp32_vs_fp64_max_rel": dev64,
            })
    chats = [[{"role": "system", "content": CORPUS[i]}, {"role": "user", "content": CORPUS[i + 1]}] for i in range(0, len(CORPUS) - 1, 2)]
    chat_ids = [list(tokenizer.apply_chat_template(c, tokenize=True, add_generation_prompt=True)["input_ids"]) for c in chats]
    write_json(os.path.join(out, "manifest.json"), {
        "input_ids": ids, "attention_mask": mask, "position_ids": pos, "fixtures": fixtures, "vocab_size": len(tokenizer),
        "texts": CORPUS, "text_ids": [tokenizer(t, add_special_tokens=False)["input_ids"] for t in CORPUS], "chats": chats, "chat_ids": chat_ids,
    })


if __name__ == "__main__":
    main()
