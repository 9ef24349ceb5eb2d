"""Loads adapters the project trained, the two ways Python users do, and runs them.

usage: peft_load.py REQUEST_JSON OUT_DIR      (run with the project folder as working directory)

REQUEST_JSON: { "base": model dir, "rows": [[id, ...], ...] (unpadded prompts),
                "max_new_tokens": n, "adapters": [{ "name", "dir", "compare": bool }] }

For each adapter:
- PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), dir)
- AutoPeftModelForCausalLM.from_pretrained(dir): the base comes from adapter_config.json's
  base_model_name_or_path, resolved against the working directory;
and with `compare`, writes OUT_DIR/<name>.<way>.logits.f32 (row by row, [T, V] each, concatenated)
and the greedy completions of both. A quantized base (QLoRA) is only loaded: transformers reads
its float weights, so its logits are not the project's 4-bit ones.
"""
import os

import torch
from peft import AutoPeftModelForCausalLM, PeftModel
from transformers import AutoModelForCausalLM, GenerationConfig

from common import args, write_f32, write_json
from peft_common import greedy, load_request


def run(request, out):
    os.makedirs(out, exist_ok=True)
    result = {}
    for adapter in request["adapters"]:
        ways = {
            "PeftModel": lambda: PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(request["base"], dtype=torch.float32), adapter["dir"]),
            "AutoPeftModelForCausalLM": lambda: AutoPeftModelForCausalLM.from_pretrained(adapter["dir"], dtype=torch.float32),
        }
        entry = {}
        for way, load in ways.items():
            model = load().eval()
            info = {"base_model": model.peft_config["default"].base_model_name_or_path, "lora_modules": sum(1 for n, _ in model.named_modules() if n.endswith(".lora_A"))}
            if adapter["compare"]:
                with torch.no_grad():
                    logits = torch.cat([model(input_ids=torch.tensor([r])).logits[0] for r in request["rows"]])
                write_f32(os.path.join(out, f"{adapter['name']}.{way}.logits.f32"), logits)
                eos = GenerationConfig.from_pretrained(request["base"]).eos_token_id
                info["greedy"], info["min_gap"] = greedy(model, request["rows"], request["max_new_tokens"], {eos} if isinstance(eos, int) else set(eos))
            entry[way] = info
        result[adapter["name"]] = entry
    write_json(os.path.join(out, "result.json"), result)


if __name__ == "__main__":
    request_file, out_dir = args(2)
    run(load_request(request_file), out_dir)
