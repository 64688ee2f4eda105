"""Chromoformer (Lee, Yang & Kim, Nat. Commun. 2022), parameter-compatible with the official package.

Per resolution (2000/500/100 bp), three transformers:

1. **embedding**: promoter bins (B, S, M) -> Linear(M -> d) + sinusoidal
   positions -> self-attention -> the TSS bin's embedding (B, d);
2. **pairwise interaction**: that embedding as the query, each pCRE's bins
   (Linear(M -> d) + positions) as keys/values, -> one embedding per pCRE;
3. **regulation**: [promoter, pCRE 1..8] tokens, gated self-attention with the
   interaction score as an additive bias on the promoter's row (scaled per
   head by ``gamma_f``), padding slots masked.

Head: the promoter token after + before regulation, concatenated over
resolutions (3d) -> Linear -> ReLU -> Linear -> 2 logits or 1 value.

How it is computed (the outputs equal the official model's for the same
weights, within float rounding):

- **all resolutions at once**: every parameter is stored stacked over the
  resolutions (:class:`~chromoflow.models.layers.ResolutionStack`; the state
  dict keeps the official per-resolution names), and each step is one
  batched operation over (resolution, gene, ...) instead of three;
- **only what is read**: the official model reads only the TSS row of the
  embedding and pairwise transformers, so only that row is computed. With a
  one-layer embedding (the published size) its attention is folded into the
  7 input channels: logits are x (W_lin^T W_k^T q) + pos W_k^T q and the
  output is (sum a x) W_lin^T + sum a pos, so no per-bin 128-wide projection
  is ever made;
- **only real pCRE bins**: pCRE bins come packed (no padding); the pairwise
  keys of all layers and resolutions come from one matrix product of the bins
  with the folded (c_att W_pcre) weights, plus projected position tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._dicts import merge
from ..errors import ChromoflowError
from .base import GeneModel, ModelConfig, ModelInputs
from .layers import (
    MASKED,
    PairwiseTransformerParams,
    ResolutionStack,
    TransformerParams,
    feed_forward,
    layer_norm,
    linear,
    merge_heads,
    segment_softmax,
    sinusoidal_positions,
    split_heads,
)


@dataclass(frozen=True)
class StageConfig(ModelConfig):
    """One transformer stage: layers, heads, width, feed-forward width."""

    n_layers: int
    n_heads: int
    d_model: int
    d_ff: int


@dataclass(frozen=True)
class ChromoformerConfig(ModelConfig):
    """Chromoformer's options; the defaults are the published model's (its geometry comes from the dataset)."""

    bin_sizes: tuple[int, ...] = (2000, 500, 100)
    window: int = 40_000
    max_pcres: int = 8
    d_emb: int = 128
    d_head: int = 128
    embed: StageConfig = StageConfig(n_layers=1, n_heads=2, d_model=128, d_ff=128)
    pairwise: StageConfig = StageConfig(n_layers=2, n_heads=2, d_model=128, d_ff=256)
    regulation: StageConfig = StageConfig(n_layers=6, n_heads=8, d_model=256, d_ff=256)


PUBLISHED = ChromoformerConfig().as_dict()


class EmbeddingParams(nn.Module):
    def __init__(self, n_feats: int, n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.lin_proj = nn.Linear(n_feats, d_model, bias=False)
        self.transformer = TransformerParams(n_layers, n_heads, d_model, d_model, d_ff)


class PairwiseParams(nn.Module):
    def __init__(self, n_feats: int, d_emb: int, n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.ln = nn.LayerNorm(d_model)  # unused by the official model; kept for its checkpoints
        self.lin_proj_p = nn.Linear(d_emb, d_model, bias=False)
        self.lin_proj_pcre = nn.Linear(n_feats, d_model, bias=False)
        self.transformer = PairwiseTransformerParams(n_layers, n_heads, d_model, d_model, d_ff)


class RegulationParams(nn.Module):
    def __init__(self, d_emb: int, n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.transformer = TransformerParams(n_layers, n_heads, d_emb, d_model, d_ff, gate=True)


class BinGrid(nn.Module):
    """Where the bins of every resolution sit when concatenated (T = sum of slots), with their positional encodings.

    Buffers only, none saved: ``positions`` (T, d), ``offsets`` (R,) first bin of each resolution, ``tss_index``
    (R,) each resolution's TSS bin, ``resolution_mask`` (R, T) 0 on a resolution's own bins, MASKED elsewhere.
    """

    def __init__(self, bin_sizes: list[int], window: int, d: int):
        super().__init__()
        self.bin_sizes = list(bin_sizes)
        self.slots = [window // b for b in self.bin_sizes]
        offsets = [0]
        for s in self.slots[:-1]:
            offsets.append(offsets[-1] + s)
        self.register_buffer("positions", torch.cat([sinusoidal_positions(s, d) for s in self.slots]), persistent=False)
        self.register_buffer("offsets", torch.tensor(offsets), persistent=False)
        self.register_buffer(
            "tss_index", torch.tensor([o + s // 2 for o, s in zip(offsets, self.slots)]), persistent=False
        )
        block = torch.full((len(self.slots), sum(self.slots)), MASKED)
        for r, (o, s) in enumerate(zip(offsets, self.slots)):
            block[r, o : o + s] = 0.0
        self.register_buffer("resolution_mask", block, persistent=False)


class Embedding(ResolutionStack):
    """Stage 1, the embedding transformer: promoter bins -> the TSS bin's embedding, every resolution at once."""

    def __init__(self, n_feats: int, keys: list[str], n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__(lambda: EmbeddingParams(n_feats, n_layers, n_heads, d_model, d_ff), keys)
        self.n_layers, self.n_heads, self.d = n_layers, n_heads, d_model

    def forward(self, promoter: dict, grid: BinGrid) -> torch.Tensor:
        """promoter {b: (B, S_b, M)} -> (R, B, d)."""
        if self.n_layers != 1:
            return self.every_bin(promoter, grid)
        p, H, d = self.param, self.n_heads, self.d
        R = len(grid.bin_sizes)
        x = torch.cat([promoter[b] for b in grid.bin_sizes], dim=1)  # (B, T, M)
        B, T, M = x.shape
        w_lin = p("lin_proj.weight")  # (R, d, M)
        w_q, w_k, w_v = p("transformer.layers.0.self_att.att.weight").split(d, dim=1)  # (R, d, d) each
        dh = d // H
        h_tss = linear(x.index_select(1, grid.tss_index).transpose(0, 1), w_lin) + grid.positions.index_select(
            0, grid.tss_index
        ).unsqueeze(1)  # (R, B, d)
        q = linear(h_tss, w_q).view(R, B, H, dh).permute(0, 2, 1, 3).reshape(R * H, B, dh)
        u = torch.bmm(q, w_k.reshape(R * H, dh, d))  # (R*H, B, d): W_k^T q per head
        a = torch.bmm(u.view(R, H * B, d), w_lin).view(R * H, B, M)  # W_lin^T W_k^T q
        logits = torch.bmm(x, a.permute(1, 2, 0)).permute(2, 0, 1)  # (R*H, B, T)
        logits = logits + torch.matmul(u, grid.positions.t().to(u.dtype))
        logits = logits / math.sqrt(dh) + grid.resolution_mask.repeat_interleave(H, dim=0).unsqueeze(1).to(logits.dtype)
        alpha = logits.float().softmax(-1).to(x.dtype)  # (R*H, B, T)
        pooled = torch.bmm(alpha.transpose(0, 1), x).transpose(0, 1)  # (R*H, B, M): sum of a x
        pooled_h = torch.bmm(pooled.reshape(R, H * B, M), w_lin.transpose(1, 2)).view(R * H, B, d)
        pooled_h = pooled_h + torch.matmul(alpha, grid.positions.to(alpha.dtype))
        v = torch.bmm(pooled_h, w_v.reshape(R * H, dh, d).transpose(1, 2))  # (R*H, B, dh)
        out = v.view(R, H, B, dh).permute(0, 2, 1, 3).reshape(R, B, d)
        pre = "transformer.layers.0."
        y = layer_norm(
            h_tss + linear(out, p(pre + "self_att.ff.weight"), p(pre + "self_att.ff.bias")),
            p(pre + "self_att.ln.weight"),
            p(pre + "self_att.ln.bias"),
        )
        return feed_forward(y, p, pre + "ff.")

    def every_bin(self, promoter: dict, grid: BinGrid) -> torch.Tensor:
        """promoter {b: (B, S_b, M)} -> (R, B, d) by attention over every bin in the earlier layers, one resolution at
        a time (any number of layers; with one layer it equals :meth:`forward`)."""
        p, H, L = self.param, self.n_heads, self.n_layers
        out = []
        for r, b in enumerate(grid.bin_sizes):
            x = promoter[b]
            o, s = int(grid.offsets[r]), grid.slots[r]
            h = F.linear(x, p("lin_proj.weight")[r]) + grid.positions[o : o + s]
            for layer in range(L):
                pre = f"transformer.layers.{layer}."
                qkv = F.linear(h, p(pre + "self_att.att.weight")[r]).chunk(3, dim=-1)
                q, k, v = (split_heads(t, H) for t in qkv)
                rows = h
                if layer == L - 1:  # only the TSS row is read
                    q, rows = q[..., s // 2 : s // 2 + 1, :], h[:, s // 2 : s // 2 + 1]
                att = merge_heads(F.scaled_dot_product_attention(q, k, v))
                y = F.layer_norm(
                    rows + F.linear(att, p(pre + "self_att.ff.weight")[r], p(pre + "self_att.ff.bias")[r]),
                    h.shape[-1:],
                    p(pre + "self_att.ln.weight")[r],
                    p(pre + "self_att.ln.bias")[r],
                )
                z = F.linear(
                    F.relu(F.linear(y, p(pre + "ff.l1.weight")[r], p(pre + "ff.l1.bias")[r])),
                    p(pre + "ff.l2.weight")[r],
                    p(pre + "ff.l2.bias")[r],
                )
                h = F.layer_norm(y + z, h.shape[-1:], p(pre + "ff.ln.weight")[r], p(pre + "ff.ln.bias")[r])
            out.append(h[:, 0])
        return torch.stack(out)


class PairwiseInteraction(ResolutionStack):
    """Stage 2, the pairwise interaction transformer: the promoter embedding attends to each pCRE's bins."""

    def __init__(self, n_feats: int, d_emb: int, keys: list[str], n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__(lambda: PairwiseParams(n_feats, d_emb, n_layers, n_heads, d_model, d_ff), keys)
        self.n_layers, self.n_heads, self.d = n_layers, n_heads, d_model

    def forward(self, promoter: torch.Tensor, batch, grid: BinGrid) -> torch.Tensor:
        """promoter (R, B, d), the batch's packed pCRE bins -> (R, N, d), one embedding per filled pCRE slot."""
        p, H, d, L = self.param, self.n_heads, self.d, self.n_layers
        R, P = len(grid.bin_sizes), batch.pcre_length.shape[1]
        slots = batch.pcre_slots
        N = slots.shape[0]
        dh = d // H
        # Gathers are index_select throughout: its backward (index_add) is deterministic on CPUs,
        # that of advanced indexing (index_put with accumulate) is not.
        queries = linear(promoter, p("lin_proj_p.weight")).index_select(
            1, torch.div(slots, P, rounding_mode="floor")
        )  # (R, N, d)
        # Keys and values of every layer, for the bins of every resolution, from one product:
        # (bins W_pcre^T + pos) W_c^T = bins (W_c W_pcre)^T + pos W_c^T.
        w_c = torch.cat(
            [p(f"transformer.layers.{layer}.self_att.c_att.weight") for layer in range(L)], dim=1
        )  # (R, L*2d, d)
        w_bins = torch.bmm(w_c, p("lin_proj_pcre.weight"))  # (R, L*2d, M)
        bins = [batch.pcre_bins[b] for b in grid.bin_sizes]
        M = bins[0].shape[1]
        block = torch.cat(
            [F.pad(x, (r * M, (R - 1 - r) * M)) for r, x in enumerate(bins)]
        )  # (n, R*M): each bin in its resolution's columns
        kv = block @ w_bins.transpose(1, 2).reshape(R * M, -1)  # (n, L*2d)
        pos_table = torch.matmul(grid.positions.to(w_c.dtype), w_c.transpose(1, 2))  # (R, T, L*2d)
        T = grid.positions.shape[0]
        res = torch.cat([torch.full_like(batch.pcre_bin_pos[b], r) for r, b in enumerate(grid.bin_sizes)])
        pos = torch.cat([batch.pcre_bin_pos[b] + grid.offsets[r] for r, b in enumerate(grid.bin_sizes)])
        kv = (kv + pos_table.reshape(R * T, -1).index_select(0, res * T + pos)).view(-1, L, 2, H, dh)
        segment = res * N + torch.cat([batch.pcre_bin_slot[b] for b in grid.bin_sizes])
        scale = 1.0 / math.sqrt(dh)
        for layer in range(L):
            pre = f"transformer.layers.{layer}."
            q = linear(queries, p(pre + "self_att.p_att.weight")).reshape(R * N, H, dh)
            k, v = kv[:, layer, 0], kv[:, layer, 1]
            logits = (q.index_select(0, segment) * k).sum(-1) * scale  # (n, H)
            w = segment_softmax(logits, segment, R * N).to(v.dtype)
            out = torch.zeros(R * N, H, dh, dtype=v.dtype, device=v.device).index_add_(0, segment, w.unsqueeze(-1) * v)
            out = linear(
                out.view(R, N, d).to(queries.dtype), p(pre + "self_att.ff.weight"), p(pre + "self_att.ff.bias")
            )
            queries = layer_norm(queries + out, p(pre + "self_att.ln.weight"), p(pre + "self_att.ln.bias"))
            queries = feed_forward(queries, p, pre + "ff.")
        return queries


class Regulation(ResolutionStack):
    """Stage 3, the regulation transformer: gated self-attention over [promoter, pCRE 1..P] with the interaction
    score, scaled per head by ``gamma_f``, as a bias on the promoter's row."""

    def __init__(self, d_emb: int, keys: list[str], n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__(lambda: RegulationParams(d_emb, n_layers, n_heads, d_model, d_ff), keys)
        self.n_layers, self.n_heads = n_layers, n_heads

    def forward(self, tokens: torch.Tensor, score: torch.Tensor, mask: torch.Tensor, need_weights: bool = False):
        """tokens (R, B, 1+P, d), score and mask (B, 1+P, 1+P) -> (tokens of the same shape, [per layer (R, B, H,
        1+P, 1+P) attention weights] if ``need_weights`` else [])."""
        p, H, L = self.param, self.n_heads, self.n_layers
        R, B, T, d = tokens.shape
        weights = []
        x = tokens
        for layer in range(L):
            pre = f"transformer.layers.{layer}."
            gamma = p(pre + "self_att.gamma_f")  # (R, H)
            bias = (gamma.view(R, 1, H, 1, 1) * score.view(1, B, 1, T, T) + mask.view(1, B, 1, T, T)).reshape(
                R * B, H, T, T
            )
            q, k, v, g = (
                split_heads(t.reshape(R * B, T, -1), H)
                for t in linear(x, p(pre + "self_att.att.weight")).chunk(4, dim=-1)
            )
            bias = bias.to(q.dtype)
            if need_weights:
                w = (q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + bias).softmax(-1)
                att = w @ v
                weights.append(w.view(R, B, H, T, T))
            else:
                att = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
            att = merge_heads(att * torch.sigmoid(g)).view(R, B, T, -1)
            y = layer_norm(
                x + linear(att, p(pre + "self_att.ff.weight"), p(pre + "self_att.ff.bias")),
                p(pre + "self_att.ln.weight"),
                p(pre + "self_att.ln.bias"),
            )
            x = feed_forward(y, p, pre + "ff.")
        return x, weights

    @staticmethod
    def inputs(length: torch.Tensor, score: torch.Tensor):
        """Interaction scores and mask of the (1+P) regulation tokens, from pCRE lengths.

        score: (B, 1+P, 1+P), zero but for the promoter's row, [0, 1+i] = score of pCRE i.
        mask: (B, 1+P, 1+P), 0 among [promoter, filled pCREs], MASKED elsewhere.
        """
        B, P = length.shape
        valid = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=length.device), length > 0], dim=1)
        open_ = valid[:, :, None] & valid[:, None, :]
        full = F.pad(score.to(torch.float32).unsqueeze(1), (1, 0, 0, P))  # row 0 = [0, scores]
        mask = torch.where(open_, 0.0, MASKED).to(torch.float32)
        return full, mask


class Chromoformer(GeneModel):
    """The published model; ``use_pcres=False`` gives the no-Hi-C ablation (same parameters).

    Input: a :class:`~chromoflow.data.batch.PackedBatch` on the model's device.
    Reports the promoter's regulation attention to each pCRE.
    """

    name = "chromoformer"
    config_class = ChromoformerConfig

    def __init__(self, n_feats: int = 7, n_out: int = 2, use_pcres: bool = True, **config):
        super().__init__()
        cfg = ChromoformerConfig.from_dict(merge(PUBLISHED, config))
        self.config = {"n_feats": n_feats, "n_out": n_out, "use_pcres": use_pcres, **cfg.as_dict()}
        self.bin_sizes = [int(b) for b in cfg.bin_sizes]
        self.use_pcres = use_pcres
        d = cfg.d_emb
        if cfg.pairwise.d_model != d or cfg.embed.d_model != d:
            raise ValueError("embed.d_model and pairwise.d_model must equal d_emb")
        self.d, self.n_feats = d, n_feats
        keys = [str(b) for b in self.bin_sizes]
        # Built in this order, so that a seed gives the official model's initial weights.
        self.embed = Embedding(n_feats, keys, **cfg.embed.as_dict())
        self.pairwise_interaction = PairwiseInteraction(n_feats, d, keys, **cfg.pairwise.as_dict())
        self.regulation = Regulation(d, keys, **cfg.regulation.as_dict())
        self.fc_head = nn.Sequential(
            nn.Linear(d * len(self.bin_sizes), cfg.d_head), nn.ReLU(), nn.Linear(cfg.d_head, n_out)
        )
        self.grid = BinGrid(self.bin_sizes, cfg.window, d)

    @property
    def inputs(self) -> ModelInputs:
        return ModelInputs(bin_sizes=tuple(self.bin_sizes), pcres=self.use_pcres)

    @property
    def attention(self) -> str | None:
        return "pcre" if self.use_pcres else None

    @classmethod
    def geometry(cls, dataset) -> dict:
        return {"bin_sizes": dataset.bin_sizes, "window": dataset.window, "max_pcres": dataset.max_pcres}

    def check_geometry(self, dataset, source) -> None:
        window = int(self.config["window"])
        if list(dataset.bin_sizes) != self.bin_sizes or dataset.window != window:
            raise ChromoflowError(
                f"{dataset.path}: bin sizes {dataset.bin_sizes} / window {dataset.window} differ from the model's "
                f"{self.bin_sizes} / {window} ({source}); rebuild the dataset with --bin-sizes {','.join(map(str, self.bin_sizes))} --window {window}"
            )

    def compact_attention(self, weights):
        """(R, B, 1+P): the last regulation layer's promoter row, mean over heads, on the host."""
        return np.stack([weights[b][-1][:, :, 0, :].float().mean(1).cpu().numpy() for b in self.bin_sizes])

    # ----------------------------------------------------------------- forward
    def encode(self, batch, need_weights: bool = False):
        """(B, R*d) representation the head reads; with ``need_weights`` also the regulation attention per resolution."""
        length, score = batch.pcre_length, batch.pcre_score
        B, P = length.shape
        R = len(self.bin_sizes)
        if not self.use_pcres:
            length, score = torch.zeros_like(length), torch.zeros_like(score)
        promoter = self.embed(batch.promoter, self.grid)  # (R, B, d)
        pcre_tokens = promoter.new_zeros(R, B * P, self.d)
        if self.use_pcres and batch.pcre_slots.shape[0]:
            emb = self.pairwise_interaction(promoter, batch, self.grid)  # (R, N, d)
            pcre_tokens = pcre_tokens.index_copy(1, batch.pcre_slots, emb.to(pcre_tokens.dtype))
        tokens = torch.cat([promoter.unsqueeze(2), pcre_tokens.view(R, B, P, self.d)], dim=2)  # (R, B, 1+P, d)
        inter, mask = Regulation.inputs(length, score)
        out, weights = self.regulation(tokens, inter, mask, need_weights)
        rep = (out[:, :, 0] + tokens[:, :, 0]).transpose(0, 1).reshape(B, R * self.d)
        if need_weights:
            return rep, {b: [w[r] for w in weights] for r, b in enumerate(self.bin_sizes)}
        return rep

    @property
    def head(self) -> nn.Module:
        return self.fc_head

    def forward(self, batch):
        return self.fc_head(self.encode(batch))
