"""BERTScore as the bert-score package computes it, on a small random BERT written by save_pretrained.

usage: bertscore_ref.py OUT_DIR

The `bert_score` package is not installable here, so its algorithm is re-implemented below from
its source (github.com/Tiiiger/bert_score, bert_score/utils.py and score.py at commit 19e7f55),
function by function with the same names, in float32 as it runs:

- sent_encode: the text is stripped, then tokenizer.encode(add_special_tokens=True, truncation);
  an empty text is [CLS] [SEP] (build_inputs_with_special_tokens([])). For RoBERTa and GPT-2
  tokenizers bert-score passes add_prefix_space=True, and loads the slow tokenizer
  (get_tokenizer(use_fast=False)), whose prepare_for_tokenization then puts a space before the
  (stripped, non-empty) text: encoding " " + text here does the same.
- get_model: the encoder is cut to its first `num_layers` layers; the embedding is the last
  hidden state of the cut model (hidden_states[num_layers]).
- idf: get_idf_dict over the references, idf(w) = log((M + 1) / (df(w) + 1)), unseen ids
  log(M + 1); without idf every weight is 1 except [SEP] and [CLS], 0. ([CLS]/[SEP] appear in
  every reference, so their idf is log(1) = 0 as well.)
- bert_cos_score_idf: the unique sentences sorted by word count, embedded in batches (padded
  with [PAD] under the attention mask); pairs then batched, each side padded with 2.0 and a
  length mask.
- greedy_cos_idf: rows L2-normalised, sim = hyp · refᵀ multiplied by the mask product, P from
  the max over the reference axis, R over the candidate axis, weighted by idf normalised per
  sentence; F = 2PR / (P + R), NaN → 0; a side with only [CLS] [SEP] sets P and R to 0.
- score(rescale_with_baseline): (x − b) / (1 − b) per P, R, F with the baseline row of the layer.

Writes OUT_DIR/bert and OUT_DIR/roberta (model dirs: config.json, model.safetensors, tokenizer
files) and OUT_DIR/result.json: the pairs and, per setting, P, R, F lists.
"""
import copy
import os
from collections import Counter, defaultdict
from math import log

import torch
from tokenizers import BertWordPieceTokenizer, ByteLevelBPETokenizer, processors
from torch.nn.utils.rnn import pad_sequence
from transformers import BertConfig, BertModel, BertTokenizerFast, RobertaConfig, RobertaModel, RobertaTokenizerFast

from common import CORPUS, args, write_json

CANDIDATES = [
    "I am quite satisfied with my current job.",
    "Strongly agree!",
    "",
    "   ",
    "The rent went up since 2019, about 12 percent.",
    "We recycle paper and glass but not batteries.",
    "Honestly I would rather commute every day.",
    "4",
    "Twice a week, with friends.",
    "A master's degree in economics.",
    "My household income is around $54,000 per year, before taxes.",
    "quite quite quite satisfied satisfied",
]
REFERENCES = [
    "How satisfied are you with your current job? I am quite satisfied, thank you.",
    "Do you agree that public transport should be free? Strongly agree!",
    "I have no answer.",
    "Nothing to add.",
    "I moved to Zürich in 2019 and the rent went up by 12.5% since then.",
    "We recycle plastic, paper and glass — but not always the batteries.",
    "Honestly, I'd rather work from home three days a week than commute.",
    "4",
    "Café visits: twice a week, usually with friends from the neighbourhood.",
    "What is your highest level of education? A master's degree in economics.",
    "My household income is around $54,000 per year, before taxes.",
    "Strongly agree!",
]
SETTINGS = [
    {"name": "bert-layer2", "model": "bert", "num_layers": 2, "idf": False, "baseline": None},
    {"name": "bert-layer2-idf", "model": "bert", "num_layers": 2, "idf": True, "baseline": None},
    {"name": "bert-layer4", "model": "bert", "num_layers": 4, "idf": False, "baseline": None},
    {"name": "bert-layer1-idf", "model": "bert", "num_layers": 1, "idf": True, "baseline": None},
    {"name": "bert-layer3-idf-baseline", "model": "bert", "num_layers": 3, "idf": True, "baseline": [0.31, 0.29, 0.30]},
    {"name": "roberta-layer2", "model": "roberta", "num_layers": 2, "idf": False, "baseline": None},
    {"name": "roberta-layer3-idf-baseline", "model": "roberta", "num_layers": 3, "idf": True, "baseline": [0.83, 0.84, 0.83]},
]
BATCH_SIZE = 5  # smaller than the pair count, so batches pad differently (bert-score's default is 64)


def sent_encode(tokenizer, sent):
    sent = sent.strip()
    if sent == "":
        # bert-score: build_inputs_with_special_tokens([]), gone from transformers 5: [CLS] [SEP]
        return tokenizer.encode("", add_special_tokens=True)
    if isinstance(tokenizer, RobertaTokenizerFast):
        sent = " " + sent  # add_prefix_space=True on the slow tokenizer, see the module doc
    return tokenizer.encode(sent, add_special_tokens=True, max_length=tokenizer.model_max_length, truncation=True)


def get_model(model, num_layers):
    cut = copy.deepcopy(model)
    cut.encoder.layer = torch.nn.ModuleList([layer for layer in cut.encoder.layer[:num_layers]])
    return cut.eval()


def get_idf_dict(arr, tokenizer):
    idf_count = Counter()
    num_docs = len(arr)
    for a in arr:
        idf_count.update(set(sent_encode(tokenizer, a)))
    idf_dict = defaultdict(lambda: log((num_docs + 1) / 1))
    idf_dict.update({idx: log((num_docs + 1) / (c + 1)) for idx, c in idf_count.items()})
    return idf_dict


def padding(arr, pad_token, dtype=torch.long):
    lens = torch.LongTensor([len(a) for a in arr])
    max_len = lens.max().item()
    padded = torch.ones(len(arr), max_len, dtype=dtype) * pad_token
    mask = torch.zeros(len(arr), max_len, dtype=torch.long)
    for i, a in enumerate(arr):
        padded[i, : lens[i]] = torch.tensor(a, dtype=dtype)
        mask[i, : lens[i]] = 1
    return padded, lens, mask


def get_bert_embedding(all_sens, model, tokenizer, idf_dict):
    arr = [sent_encode(tokenizer, a) for a in all_sens]
    idf_weights = [[idf_dict[i] for i in a] for a in arr]
    padded, _, mask = padding(arr, tokenizer.pad_token_id)
    padded_idf, _, _ = padding(idf_weights, 0, dtype=torch.float)
    with torch.no_grad():
        emb = model(padded, attention_mask=mask)[0]
    return emb, mask, padded_idf


def greedy_cos_idf(ref_embedding, ref_masks, ref_idf, hyp_embedding, hyp_masks, hyp_idf):
    ref_embedding.div_(torch.norm(ref_embedding, dim=-1).unsqueeze(-1))
    hyp_embedding.div_(torch.norm(hyp_embedding, dim=-1).unsqueeze(-1))
    batch_size = ref_embedding.size(0)
    sim = torch.bmm(hyp_embedding, ref_embedding.transpose(1, 2))
    masks = torch.bmm(hyp_masks.unsqueeze(2).float(), ref_masks.unsqueeze(1).float())
    masks = masks.expand(batch_size, -1, -1).contiguous().view_as(sim).float()
    sim = sim * masks
    word_precision = sim.max(dim=2)[0]
    word_recall = sim.max(dim=1)[0]
    hyp_idf.div_(hyp_idf.sum(dim=1, keepdim=True))
    ref_idf.div_(ref_idf.sum(dim=1, keepdim=True))
    P = (word_precision * hyp_idf).sum(dim=1)
    R = (word_recall * ref_idf).sum(dim=1)
    F = 2 * P * R / (P + R)
    hyp_zero_mask = hyp_masks.sum(dim=1).eq(2)
    ref_zero_mask = ref_masks.sum(dim=1).eq(2)
    P = P.masked_fill(hyp_zero_mask, 0.0).masked_fill(ref_zero_mask, 0.0)
    R = R.masked_fill(hyp_zero_mask, 0.0).masked_fill(ref_zero_mask, 0.0)
    F = F.masked_fill(torch.isnan(F), 0.0)
    # (bert-score computes F before zeroing P and R, so an empty side keeps F only if it is NaN.)
    return P, R, F, (sim < 0).logical_and(masks > 0)


def bert_cos_score_idf(model, refs, hyps, tokenizer, idf_dict, batch_size):
    sentences = sorted(list(set(refs + hyps)), key=lambda x: len(x.split(" ")), reverse=True)
    stats_dict = {}
    for start in range(0, len(sentences), batch_size):
        sen_batch = sentences[start : start + batch_size]
        embs, masks, padded_idf = get_bert_embedding(sen_batch, model, tokenizer, idf_dict)
        for i, sen in enumerate(sen_batch):
            n = masks[i].sum().item()
            stats_dict[sen] = (embs[i, :n], padded_idf[i, :n])

    def pad_batch_stats(sen_batch):
        emb, idf = zip(*[stats_dict[s] for s in sen_batch])
        lens = [e.size(0) for e in emb]
        emb_pad = pad_sequence([e.clone() for e in emb], batch_first=True, padding_value=2.0)
        idf_pad = pad_sequence([i.clone() for i in idf], batch_first=True)
        lens_t = torch.tensor(lens, dtype=torch.long)
        pad_mask = torch.arange(max(lens), dtype=torch.long).expand(len(lens), max(lens)) < lens_t.unsqueeze(1)
        return emb_pad, pad_mask, idf_pad

    preds, negatives = [], 0
    with torch.no_grad():
        for start in range(0, len(refs), batch_size):
            P, R, F, neg = greedy_cos_idf(*pad_batch_stats(refs[start : start + batch_size]), *pad_batch_stats(hyps[start : start + batch_size]))
            negatives += int(neg.sum())
            preds.append(torch.stack((P, R, F), dim=-1))
    return torch.cat(preds, dim=0), negatives


def score(model, tokenizer, cands, refs, setting):
    cut = get_model(model, setting["num_layers"])
    if not setting["idf"]:
        idf_dict = defaultdict(lambda: 1.0)
        idf_dict[tokenizer.sep_token_id] = 0
        idf_dict[tokenizer.cls_token_id] = 0
    else:
        idf_dict = get_idf_dict(refs, tokenizer)
    preds, negatives = bert_cos_score_idf(cut, refs, cands, tokenizer, idf_dict, BATCH_SIZE)
    if setting["baseline"] is not None:
        b = torch.tensor(setting["baseline"], dtype=torch.float32)
        preds = (preds - b) / (1 - b)
    return preds, negatives


def make_bert(out):
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(CORPUS + REFERENCES + CANDIDATES, vocab_size=400, min_frequency=1, show_progress=False)
    tokenizer = BertTokenizerFast(tokenizer_object=wp._tokenizer, do_lower_case=True, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]", model_max_length=128)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=4, num_attention_heads=4, intermediate_size=128, max_position_embeddings=128, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(17)
    model = BertModel(config).eval()
    with torch.no_grad():  # LayerNorm gains and biases away from 1 and 0, so every weight counts
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.add_(torch.randn(p.shape) * 0.1)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return BertModel.from_pretrained(out).eval(), tokenizer


def make_roberta(out):
    # A byte-level BPE with RoBERTa's special tokens (<pad> = 1, positions from padding_idx + 1)
    # and add_prefix_space false, as roberta-large's tokenizer files have it.
    bpe = ByteLevelBPETokenizer(add_prefix_space=False)
    bpe.train_from_iterator(CORPUS + REFERENCES + CANDIDATES, vocab_size=400, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"], show_progress=False)
    bpe._tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), add_prefix_space=False, trim_offsets=True)
    tokenizer = RobertaTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>", add_prefix_space=False, model_max_length=128)
    config = RobertaConfig(vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=3, num_attention_heads=4, intermediate_size=128, max_position_embeddings=130, pad_token_id=1, bos_token_id=0, eos_token_id=2)
    torch.manual_seed(23)
    model = RobertaModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name:
                p.add_(torch.randn(p.shape) * 0.1)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return RobertaModel.from_pretrained(out).eval(), tokenizer


def main():
    (out,) = args(1)
    dirs = {"bert": os.path.join(out, "bert"), "roberta": os.path.join(out, "roberta")}
    models = {"bert": make_bert(dirs["bert"]), "roberta": make_roberta(dirs["roberta"])}
    result = {"dirs": dirs, "candidates": CANDIDATES, "references": REFERENCES, "files": sorted(os.listdir(dirs["bert"])), "settings": []}
    for setting in SETTINGS:
        model, tokenizer = models[setting["model"]]
        preds, negatives = score(model, tokenizer, CANDIDATES, REFERENCES, setting)
        result["settings"].append({**setting, "P": preds[:, 0].tolist(), "R": preds[:, 1].tolist(), "F": preds[:, 2].tolist(), "negative_similarities": negatives})
    write_json(os.path.join(out, "result.json"), result)


if __name__ == "__main__":
    main()
