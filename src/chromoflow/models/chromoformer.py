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

Only the TSS row of the embedding and pairwise stages is ever read by the
official model, so only that row is computed; pCRE bins come packed (no
padding). Outputs equal the official model's for the same weights.
"""

from __future__ import annotations

import torch
from torch import nn

from .._dicts import merge
from .layers import MASKED, PairwiseTransformer, Transformer, sinusoidal_positions

PUBLISHED = {
    "bin_sizes": [2000, 500, 100],
    "window": 40_000,
    "max_pcres": 8,
    "d_emb": 128,
    "d_head": 128,
    "embed": {"n_layers": 1, "n_heads": 2, "d_model": 128, "d_ff": 128},
    "pairwise": {"n_layers": 2, "n_heads": 2, "d_model": 128, "d_ff": 256},
    "regulation": {"n_layers": 6, "n_heads": 8, "d_model": 256, "d_ff": 256},
}


class EmbeddingTransformer(nn.Module):
    def __init__(self, n_feats: int, n_bins: int, n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.lin_proj = nn.Linear(n_feats, d_model, bias=False)
        self.transformer = Transformer(n_layers, n_heads, d_model, d_model, d_ff)
        self.register_buffer("positions", sinusoidal_positions(n_bins, d_model), persistent=False)

    def forward(self, x):
        """x: (B, S, M) promoter bins -> (B, d) embedding of the TSS bin (index S // 2)."""
        h = self.lin_proj(x) + self.positions
        return self.transformer(h, query_index=x.shape[1] // 2)[:, 0]


class PairwiseInteractionTransformer(nn.Module):
    def __init__(self, n_feats: int, d_emb: int, n_bins: int, n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.ln = nn.LayerNorm(d_model)  # unused by the official model; kept for its checkpoints
        self.lin_proj_p = nn.Linear(d_emb, d_model, bias=False)
        self.lin_proj_pcre = nn.Linear(n_feats, d_model, bias=False)
        self.transformer = PairwiseTransformer(n_layers, n_heads, d_model, d_model, d_ff)
        self.register_buffer("positions", sinusoidal_positions(n_bins, d_model), persistent=False)

    def forward(self, promoter, slot_gene, bins, bin_slot, bin_pos):
        """promoter: (B, d) TSS embeddings; slot_gene: (N,) gene of each filled pCRE slot;
        bins: (n, M) packed pCRE bins, bin_slot: (n,) their slot (0..N-1), bin_pos: (n,) their position.
        Returns (N, d): one embedding per filled slot."""
        queries = self.lin_proj_p(promoter)[slot_gene]
        keys = self.lin_proj_pcre(bins) + self.positions[bin_pos]
        return self.transformer(queries, keys, bin_slot)


class RegulationTransformer(nn.Module):
    def __init__(self, d_emb: int, n_layers: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.transformer = Transformer(n_layers, n_heads, d_emb, d_model, d_ff, gate=True)

    def forward(self, tokens, score, mask, need_weights: bool = False):
        return self.transformer(tokens, score, mask, need_weights=need_weights)


class Chromoformer(nn.Module):
    """The published model; ``use_pcres=False`` gives the no-Hi-C ablation (same parameters).

    Input: a batch from ``GeneDataset.batch(..., pcre_format="packed")`` as
    tensors (see :func:`chromoflow.training.batches.to_tensors`).
    """

    def __init__(self, n_feats: int = 7, n_out: int = 2, use_pcres: bool = True, **config):
        super().__init__()
        cfg = merge(PUBLISHED, config)
        self.config = {"n_feats": n_feats, "n_out": n_out, "use_pcres": use_pcres, **cfg}
        self.bin_sizes = [int(b) for b in cfg["bin_sizes"]]
        self.use_pcres = use_pcres
        d = cfg["d_emb"]
        if cfg["pairwise"]["d_model"] != d or cfg["embed"]["d_model"] != d:
            raise ValueError("embed.d_model and pairwise.d_model must equal d_emb")
        slots = {b: cfg["window"] // b for b in self.bin_sizes}
        self.embed = nn.ModuleDict({str(b): EmbeddingTransformer(n_feats, slots[b], **cfg["embed"]) for b in self.bin_sizes})
        self.pairwise_interaction = nn.ModuleDict(
            {str(b): PairwiseInteractionTransformer(n_feats, d, slots[b], **cfg["pairwise"]) for b in self.bin_sizes}
        )
        self.regulation = nn.ModuleDict({str(b): RegulationTransformer(d, **cfg["regulation"]) for b in self.bin_sizes})
        self.fc_head = nn.Sequential(nn.Linear(d * len(self.bin_sizes), cfg["d_head"]), nn.ReLU(), nn.Linear(cfg["d_head"], n_out))

    @property
    def inputs(self) -> dict:
        """What the data loader must provide."""
        return {"bin_sizes": self.bin_sizes, "pcres": self.use_pcres, "pcre_format": "packed"}

    @staticmethod
    def regulation_inputs(length: torch.Tensor, score: torch.Tensor):
        """Interaction scores and mask of the (1+P) regulation tokens, from pCRE lengths.

        score: (B, 1+P, 1+P), zero but for the promoter's row, [0, 1+i] = score of pCRE i.
        mask: (B, 1+P, 1+P), 0 among [promoter, filled pCREs], MASKED elsewhere.
        """
        B, P = length.shape
        valid = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=length.device), length > 0], dim=1)
        open_ = valid[:, :, None] & valid[:, None, :]
        full = torch.zeros(B, 1 + P, 1 + P, device=length.device, dtype=torch.float32)
        full[:, 0, 1:] = score
        mask = torch.where(open_, 0.0, MASKED).to(torch.float32)
        return full, mask

    def encode(self, batch, need_weights: bool = False):
        """(B, 3d) representation the head reads; with ``need_weights`` also the regulation attention."""
        length, score = batch["pcre_length"], batch["pcre_score"]
        B, P = length.shape
        if not self.use_pcres:
            length, score = torch.zeros_like(length), torch.zeros_like(score)
        inter, mask = self.regulation_inputs(length, score)
        if self.use_pcres:
            slots = batch["pcre_slots"]
            slot_gene = torch.div(slots, P, rounding_mode="floor")
        reps, attention = [], {}
        for b in self.bin_sizes:
            key = str(b)
            promoter = self.embed[key](batch["promoter"][b])  # (B, d)
            pcre_tokens = promoter.new_zeros(B * P, promoter.shape[-1])
            if self.use_pcres and len(slots):
                emb = self.pairwise_interaction[key](
                    promoter, slot_gene, batch["pcre_bins"][b], batch["pcre_bin_slot"][b], batch["pcre_bin_pos"][b]
                )
                pcre_tokens = pcre_tokens.index_copy(0, slots, emb.to(pcre_tokens.dtype))
            tokens = torch.cat([promoter[:, None], pcre_tokens.view(B, P, -1)], dim=1)  # (B, 1+P, d)
            if need_weights:
                out, attention[b] = self.regulation[key](tokens, inter, mask, need_weights=True)
            else:
                out = self.regulation[key](tokens, inter, mask)
            reps.append(out[:, 0] + tokens[:, 0])
        rep = torch.cat(reps, dim=-1)
        return (rep, attention) if need_weights else rep

    @property
    def head(self) -> nn.Module:
        return self.fc_head

    def forward(self, batch):
        return self.fc_head(self.encode(batch))

