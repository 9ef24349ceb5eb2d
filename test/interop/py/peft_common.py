"""Shared by the PEFT scripts: chat records → ids and labels the way the project builds them
(src/train/data.ts: loss on the assistant's answer only), losses, greedy decoding."""
import json

import torch

from common import read_json


def read_split(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def chat_ids(tokenizer, messages, generation_prompt):
    out = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation_prompt)
    return list(out["input_ids"]) if hasattr(out, "keys") else list(out)


def example(tokenizer, record):
    """ids and HF-style labels (the model shifts them): −100 on the prompt (system + user turns and the
    assistant header), the answer's tokens kept, as the project's loss_on: assistant."""
    ids = chat_ids(tokenizer, record["messages"], False)
    prompt = chat_ids(tokenizer, record["messages"][:-1], True)
    assert ids[: len(prompt)] == prompt, "prompt is not a prefix of the conversation"
    labels = [-100] * len(prompt) + ids[len(prompt):]
    return ids, labels


def batch(examples, pad_id):
    T = max(len(i) for i, _ in examples)
    ids = torch.tensor([i + [pad_id] * (T - len(i)) for i, _ in examples])
    labels = torch.tensor([l + [-100] * (T - len(l)) for _, l in examples])
    mask = torch.tensor([[1] * len(i) + [0] * (T - len(i)) for i, _ in examples])
    return ids, labels, mask


def summed_loss(model, examples, pad_id):
    """Σ cross-entropy over every labelled token, and the token count (float64 sums)."""
    total, count = 0.0, 0
    with torch.no_grad():
        for ids, labels in examples:
            logits = model(input_ids=torch.tensor([ids])).logits[0].double()
            target = torch.tensor(labels[1:])
            keep = target != -100
            logp = torch.log_softmax(logits[:-1], dim=-1)
            total += -logp[keep].gather(1, target[keep].unsqueeze(1)).sum().item()
            count += int(keep.sum())
    return total, count


def greedy(model, prompts, max_new_tokens, eos_ids):
    """Greedy completions (stop token excluded) by transformers' generate (KV cache, do_sample
    off), and the smallest top-1 − top-2 logit gap met on the way (a gap near float noise could
    flip between implementations)."""
    completions, min_gap = [], float("inf")
    with torch.no_grad():
        for prompt in prompts:
            ids = torch.tensor([prompt])
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False,
                                 eos_token_id=sorted(eos_ids), pad_token_id=sorted(eos_ids)[0], output_scores=True, return_dict_in_generate=True)
            new = out.sequences[0, len(prompt):].tolist()
            for step, scores in enumerate(out.scores):
                top = torch.topk(scores[0], 2).values
                min_gap = min(min_gap, (top[0] - top[1]).item())
                if new[step] in eos_ids:
                    new = new[:step]
                    break
            completions.append(new)
    return completions, min_gap


def load_request(path):
    return read_json(path)
