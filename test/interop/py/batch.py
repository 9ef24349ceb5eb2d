"""Runs several of the suite's scripts in one Python process (torch, transformers and peft are
imported once: ~5 s of CPU each time, 20-30 s of wall time on a busy machine).

usage: batch.py JOBS_JSON

JOBS_JSON: [{ "script": "tokenize_corpus" | "peft_load" | "peft_train", "request": {...}, "out": path }, ...]
Each job is the script's run(request, out), in order.
"""
import importlib

from common import args, read_json


def main():
    (jobs_file,) = args(1)
    for job in read_json(jobs_file):
        importlib.import_module(job["script"]).run(job["request"], job["out"])


if __name__ == "__main__":
    main()
