/**
 * LoRA as the trained part of a step: the sites' A and B (the trainer's buffers) and their
 * dropout keep-masks are fed to each layer's forward and backward; the backward returns
 * grad.lora.<module>.A / .B, allocated by ORT per run (the trainer adds them up at once).
 */
import type { OrtTensor } from '../../model/onnx/session.js';
import { peftLoraTensorName } from '../../formats/peft-adapter.js';
import type { DecoderArchitecture } from '../../model/architectures/index.js';
import type { LlamaConfig } from '../../model/config.js';
import { maskInputName } from '../graphs/spec.js';
import type { LoraSite, LoraTensors } from '../lora.js';
import type { TokenBatch, TrainedTensor } from './step.js';
import type { TensorOf, TrainedPart } from './trained-part.js';
import { InternalError } from '../../core/errors.js';

export class LoraTraining implements TrainedPart {
  private readonly siteOf = new Map<string, number>();
  private masks?: Uint8Array[];
  private tokens = 0;
  private grads: Float32Array[] = [];

  /** Rows of a dropout mask per token: 1, or k for an MoE expert's token–expert pairs. */
  private readonly pairsPerToken: number;

  constructor(private readonly arch: DecoderArchitecture, cfg: LlamaConfig, private readonly sites: LoraSite[], private readonly params: LoraTensors[], private readonly r: number, private readonly dropout: boolean) {
    const layers = cfg.numHiddenLayers;
    this.pairsPerToken = arch.routing?.pairsPerToken(cfg) ?? 1;
    if (params.length !== sites.length) throw new InternalError(`training step: ${params.length} LoRA tensors for ${sites.length} sites`);
    const adapted = [...new Set(sites.map((s) => s.module))];
    for (let l = 0; l < layers; l++) {
      const here = sites.filter((s) => s.layer === l).map((s) => s.module);
      if (here.length !== adapted.length) throw new InternalError(`training step: every layer must adapt the same modules (layer ${l}: ${here.join(', ')})`);
    }
    sites.forEach((s, i) => this.siteOf.set(`${s.layer}:${s.module}`, i));
  }

  /** A₀, B₀, A₁, B₁, … in site order; LoRA A and B are weights, so AdamW decays them. */
  parameters(): TrainedTensor[] {
    return this.sites.flatMap((site, i) => [
      { name: peftLoraTensorName(site.path, 'A'), shape: [this.r, site.inDim], data: this.params[i]!.A, decay: true },
      { name: peftLoraTensorName(site.path, 'B'), shape: [site.outDim, this.r], data: this.params[i]!.B, decay: true },
    ]);
  }

  begin(tokens: number, masks?: Uint8Array[]): void {
    this.tokens = tokens;
    this.masks = masks;
    this.grads = new Array(2 * this.sites.length);
  }

  private layerSites(l: number): Array<{ site: LoraSite; i: number }> {
    return this.sites.filter((s) => s.layer === l).map((site) => ({ site, i: this.siteOf.get(`${l}:${site.module}`)! }));
  }

  feedLayer(l: number, feeds: Record<string, OrtTensor>, _wants: ReadonlySet<string>, tensor: TensorOf): void {
    for (const { site, i } of this.layerSites(l)) {
      const m = site.module;
      feeds[`lora.${m}.A`] = tensor('float32', this.params[i]!.A, [this.r, site.inDim]);
      feeds[`lora.${m}.B`] = tensor('float32', this.params[i]!.B, [site.outDim, this.r]);
      if (this.dropout) {
        const mask = this.masks?.[site.maskSlot];
        if (!mask) throw new InternalError(`training step: a dropout mask is needed for ${site.path}`);
        const rows = site.maskRows === 'pairs' ? this.tokens * this.pairsPerToken : this.tokens;
        if (mask.length !== rows * site.inDim) throw new InternalError(`training step: the dropout mask of ${site.path} has ${mask.length} values, expected ${rows} × ${site.inDim}`);
        feeds[maskInputName({ arch: this.arch }, m)] = tensor('uint8', mask, [rows, site.inDim]);
      }
    }
  }

  fetchLayer(l: number, fetches: Record<string, OrtTensor | null>): void {
    for (const { site } of this.layerSites(l)) fetches[`grad.lora.${site.module}.A`] = fetches[`grad.lora.${site.module}.B`] = null;
  }

  takeLayer(l: number, out: Record<string, OrtTensor>): void {
    for (const { site, i } of this.layerSites(l)) {
      this.grads[2 * i] = out[`grad.lora.${site.module}.A`]!.data as Float32Array;
      this.grads[2 * i + 1] = out[`grad.lora.${site.module}.B`]!.data as Float32Array;
    }
  }

  fetchHead(): void {}

  takeHead(): void {}

  finish(_dh0: Float32Array, _batch: TokenBatch): Float32Array[] {
    return this.grads;
  }
}
