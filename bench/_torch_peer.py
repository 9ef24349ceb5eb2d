"""
Peer of `npm run bench -- train`: the same training step in PyTorch 2.x on CPU, as a user would
write it (a LLaMA decoder in plain torch.nn, scaled_dot_product_attention with is_causal, LoRA as
PEFT builds it: dropout on the branch input, B·A scaled by alpha/r), AdamW (torch's default
foreach implementation), fp32. Never a dependency of the product or of `npm test`; run by
bench/train.ts in a venv (POLYPERSONA_TORCH_VENV, default .bench-venv/).

usage: python _torch_peer.py JSON   with JSON = { config: LlamaConfig (the project's camelCase),
       trainable: "lora" | "full", r, alpha, dropout, B, T, steps, threads }
prints one JSON line: { torch, stepSeconds: [s, …] (after one warm-up), cpuSeconds (process CPU time of each), loss, maxRssBytes }
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class LoraLinear(nn.Module):
    """A frozen linear with a trainable low-rank branch (PEFT's layout: y = xWᵀ + s·B(A(drop(x))))."""

    def __init__(self, inf, outf, r, alpha, dropout):
        super().__init__()
        self.base = nn.Linear(inf, outf, bias=False)
        self.r = r
        if r > 0:
            self.A = nn.Linear(inf, r, bias=False)
            self.B = nn.Linear(r, outf, bias=False)
            nn.init.kaiming_uniform_(self.A.weight, a=math.sqrt(5))
            nn.init.normal_(self.B.weight, std=0.02)  # non-zero, so the timed steps do the same work
            self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
            self.scale = alpha / r

    def forward(self, x):
        y = self.base(x)
        if self.r > 0:
            y = y + self.B(self.A(self.drop(x))) * self.scale
        return y


class RMSNorm(nn.Module):
    def __init__(self, c, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rot * sin


class Layer(nn.Module):
    def __init__(self, cfg, lin):
        super().__init__()
        C, H, KV, D, I = cfg["hiddenSize"], cfg["numAttentionHeads"], cfg["numKeyValueHeads"], cfg["headDim"], cfg["intermediateSize"]
        self.H, self.KV, self.D = H, KV, D
        self.input_layernorm = RMSNorm(C, cfg["rmsNormEps"])
        self.post_attention_layernorm = RMSNorm(C, cfg["rmsNormEps"])
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = lin(C, H * D), lin(C, KV * D), lin(C, KV * D), lin(H * D, C)
        self.gate_proj, self.up_proj, self.down_proj = lin(C, I), lin(C, I), lin(I, C)

    def forward(self, h, cos, sin):
        B, T, _ = h.shape
        x = self.input_layernorm(h)
        q = self.q_proj(x).view(B, T, self.H, self.D).transpose(1, 2)
        k = self.k_proj(x).view(B, T, self.KV, self.D).transpose(1, 2)
        v = self.v_proj(x).view(B, T, self.KV, self.D).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        g = self.H // self.KV
        k, v = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + self.o_proj(a.transpose(1, 2).reshape(B, T, -1))
        x = self.post_attention_layernorm(h)
        return h + self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Llama(nn.Module):
    def __init__(self, cfg, lin):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocabSize"], cfg["hiddenSize"])
        self.layers = nn.ModuleList(Layer(cfg, lin) for _ in range(cfg["numHiddenLayers"]))
        self.norm = RMSNorm(cfg["hiddenSize"], cfg["rmsNormEps"])
        self.lm_head = nn.Linear(cfg["hiddenSize"], cfg["vocabSize"], bias=False)
        D = cfg["headDim"]
        inv = 1.0 / (cfg["ropeTheta"] ** (torch.arange(0, D, 2).float() / D))
        self.inv = inv

    def forward(self, ids, labels):
        T = ids.shape[1]
        f = torch.outer(torch.arange(T).float(), self.inv)
        e = torch.cat((f, f), dim=-1)
        cos, sin = e.cos(), e.sin()
        h = self.embed_tokens(ids)
        for layer in self.layers:
            h = layer(h, cos, sin)
        logits = self.lm_head(self.norm(h))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)


def main():
    a = json.loads(sys.argv[1])
    torch.set_num_threads(a["threads"])
    if a.get("flushDenormal"): torch.set_flush_denormal(True)
    torch.manual_seed(0)
    cfg = a["config"]
    if cfg.get("architecture", "llama") not in ("llama", "mistral"):
        raise SystemExit(f"torch peer: only llama shapes (got {cfg['architecture']})")
    lora = a["trainable"] == "lora"
    lin = (lambda i, o: LoraLinear(i, o, a["r"], a["alpha"], a["dropout"])) if lora else (lambda i, o: LoraLinear(i, o, 0, 1, 0))
    model = Llama(cfg, lin)
    for p in model.parameters():
        p.data.normal_(0, 0.02) if p.dim() > 1 else None
    if lora:
        for n, p in model.named_parameters():
            p.requires_grad = ".A." in n or ".B." in n
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    B, T = a["B"], a["T"]
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(3, cfg["vocabSize"], (B, T), generator=g)
    labels = torch.cat((ids[:, 1:], torch.full((B, 1), -100)), dim=1)
    model.train()
    times, cpu, loss = [], [], 0.0
    for s in range(a["steps"] + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        l = model(ids, labels)
        l.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss = l.item()
        if s > 0:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"torch": torch.__version__, "stepSeconds": times, "cpuSeconds": cpu, "loss": loss, "maxRssBytes": rss, "trainable": sum(p.numel() for p in params)}))


if __name__ == "__main__":
    main()
