"""Trains a LoRA adapter with PEFT on the project's base model and chatml splits.

usage: peft_train.py REQUEST_JSON OUT_DIR

REQUEST_JSON: { "base": model dir, "train": train.jsonl, "val": val.jsonl, "steps": n, "batch_size": n,
                "learning_rate": x, "r": n, "lora_alpha": x, "target_modules": [...], "seed": n,
                "prompts": [[id, ...]], "max_new_tokens": n }

Writes OUT_DIR/adapter (PeftModel.save_pretrained) and OUT_DIR/result.json: the val loss of the
trained adapter as the project computes eval_loss (Σ answer-token cross-entropy / answer tokens),
and its greedy completions of the prompts with the smallest top-2 logit gap met on the way.
"""
import os
import random

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from common import args, write_json
from peft_common import batch, example, greedy, load_request, read_split, summed_loss


def run(q, out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(q["seed"])
    rng = random.Random(q["seed"])
    tokenizer = AutoTokenizer.from_pretrained(q["base"])
    model = AutoModelForCausalLM.from_pretrained(q["base"], dtype=torch.float32)
    pad = tokenizer.pad_token_id
    config = LoraConfig(r=q["r"], lora_alpha=q["lora_alpha"], lora_dropout=0.0, target_modules=q["target_modules"], task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    train = [example(tokenizer, rec) for rec in read_split(q["train"])]
    val = [example(tokenizer, rec) for rec in read_split(q["val"])]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=q["learning_rate"])
    model.train()
    losses = []
    for _ in range(q["steps"]):
        ids, labels, mask = batch(rng.sample(train, q["batch_size"]), pad)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    model.save_pretrained(os.path.join(out, "adapter"))
    total, count = summed_loss(model, val, pad)
    eos = GenerationConfig.from_pretrained(q["base"]).eos_token_id
    eos_ids = {eos} if isinstance(eos, int) else set(eos)
    completions, min_gap = greedy(model, q["prompts"], q["max_new_tokens"], eos_ids)
    with model.disable_adapter():  # the base alone: the adapter must change something to be tested
        base_completions, _ = greedy(model, q["prompts"], q["max_new_tokens"], eos_ids)
    write_json(os.path.join(out, "result.json"), {
        "train_losses": losses, "val_loss": total / count, "val_tokens": count,
        "greedy": completions, "min_gap": min_gap, "base_greedy": base_completions,
    })


if __name__ == "__main__":
    request_file, out_dir = args(2)
    run(load_request(request_file), out_dir)
