"""Shared helpers of the interop suite's Python scripts (run in the suite's venv, see python-env.ts)."""
import json
import os
import sys

import torch

# One thread: the models are tiny, and on a busy 2-core machine two OpenMP threads spent most of
# their time waiting for each other (peft_train.py: 30 s CPU with 2 threads, 9 s with 1).
torch.set_num_threads(int(os.environ.get("POLYPERSONA_INTEROP_THREADS", "1")))
torch.use_deterministic_algorithms(True)

# Texts for the fixture tokenizer and the logits inputs: survey-style English plus digits,
# punctuation, accents and emoji, so byte-level fallbacks and digit handling are exercised.
CORPUS = [
    "How satisfied are you with your current job? I am quite satisfied, thank you.",
    "On a scale from 1 to 5, how much do you trust your local government? 4.",
    "I moved to Zürich in 2019 and the rent went up by 12.5% since then.",
    "Honestly, I'd rather work from home three days a week 🙂 than commute.",
    "What is your highest level of education? A master's degree in economics.",
    "Do you agree that public transport should be free? Strongly agree!",
    "My household income is around $54,000 per year, before taxes.",
    "We recycle plastic, paper and glass — but not always the batteries.",
    "Café visits: twice a week, usually with friends from the neighbourhood.",
    "The survey asked 10 questions about health, work, money and family life.",
]


def write_json(path, value):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_f32(path, tensor):
    """A tensor as raw little-endian float32 (read by the TypeScript side as a Float32Array)."""
    tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tofile(path)


def args(n):
    if len(sys.argv) != n + 1:
        raise SystemExit(f"usage: {sys.argv[0]} " + " ".join(f"ARG{i + 1}" for i in range(n)))
    return sys.argv[1:]
