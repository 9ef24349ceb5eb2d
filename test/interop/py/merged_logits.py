"""Logits of a base model with a LoRA adapter merged into its weights by hand, in the checkpoint's
own layout: the reference for adapters PEFT cannot load onto transformers 5's model (an MoE's
routed experts, which transformers 5 fuses in memory while checkpoints and adapters name them per
expert). W' = W + (lora_alpha / r) · B · A for every module the adapter has, written as a new
model dir and read back by from_pretrained (whose own conversion fuses the experts).

usage: merged_logits.py REQUEST_JSON OUT_DIR

REQUEST_JSON: { "base": model dir, "adapter": adapter dir, "rows": [[id, ...], ...] (unpadded prompts) }
Writes OUT_DIR/logits.f32 (row by row, [T, V] each, concatenated) and OUT_DIR/result.json
({ "merged": number of merged modules }).
"""
import json
import os
import shutil

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

from common import args, read_json, write_f32, write_json

PREFIX = "base_model.model."


def run(request, out):
    os.makedirs(out, exist_ok=True)
    base = request["base"]
    with open(os.path.join(request["adapter"], "adapter_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    scaling = config["lora_alpha"] / config["r"]
    adapter = load_file(os.path.join(request["adapter"], "adapter_model.safetensors"))
    weights = {}
    for name in sorted(os.listdir(base)):
        if name.endswith(".safetensors"):
            weights.update(load_file(os.path.join(base, name)))
    merged = 0
    for key, a in adapter.items():
        if not key.endswith(".lora_A.weight"):
            continue
        module = key[len(PREFIX):-len(".lora_A.weight")]
        b = adapter[key.replace(".lora_A.", ".lora_B.")]
        w = weights[f"{module}.weight"]
        weights[f"{module}.weight"] = (w.double() + scaling * (b.double() @ a.double())).to(w.dtype)
        merged += 1
    merged_dir = os.path.join(out, "merged")
    os.makedirs(merged_dir, exist_ok=True)
    for name in os.listdir(base):
        if name.endswith(".json") and name != "model.safetensors.index.json":
            shutil.copy(os.path.join(base, name), os.path.join(merged_dir, name))
    save_file({k: v.contiguous() for k, v in weights.items()}, os.path.join(merged_dir, "model.safetensors"), metadata={"format": "pt"})
    model = AutoModelForCausalLM.from_pretrained(merged_dir, dtype=torch.float32, attn_implementation="eager").eval()
    with torch.no_grad():
        logits = torch.cat([model(input_ids=torch.tensor([r])).logits[0] for r in request["rows"]])
    write_f32(os.path.join(out, "logits.f32"), logits)
    write_json(os.path.join(out, "result.json"), {"merged": merged})


if __name__ == "__main__":
    request_file, out_dir = args(2)
    run(read_json(request_file), out_dir)
