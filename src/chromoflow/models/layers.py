"""Transformer pieces of Chromoformer, one idea each.

Parameter names and shapes follow the official ``chromoformer`` package so its
state dicts load with ``strict=True`` (including tensors it never uses, marked
below). Blocks are post-LayerNorm, Q/K/V carry no bias, the output
projection does, attention is scaled by 1/sqrt(d_head), there is no dropout.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Masked attention logits, as the official code fills them: exp() of it is 0
# in fp32 and bf16, and a fully masked row softmaxes to uniform, never NaN.
MASKED = -1e9


def sinusoidal_positions(n: int, dim: int) -> torch.Tensor:
    """(n, dim) table: even channels sin(pos * w_k), odd channels cos(pos * w_k), base 10000."""
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    table = torch.zeros(n, dim)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(..., T, heads * d) -> (..., heads, T, d)"""
    *lead, t, hd = x.shape
    return x.view(*lead, t, heads, hd // heads).transpose(-3, -2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(..., heads, T, d) -> (..., T, heads * d)"""
    *lead, h, t, d = x.shape
    return x.transpose(-3, -2).reshape(*lead, t, h * d)


class FeedForward(nn.Module):
    """Post-LN position-wise MLP: LN(x + W2 ReLU(W1 x))."""

    def __init__(self, d_emb: int, d_ff: int):
        super().__init__()
        self.l1 = nn.Linear(d_emb, d_ff)
        self.l2 = nn.Linear(d_ff, d_emb)
        self.ln = nn.LayerNorm(d_emb)

    def forward(self, x):
        return self.ln(x + self.l2(F.relu(self.l1(x))))


class SelfAttention(nn.Module):
    """Post-LN multi-head self-attention, optionally gated, with an additive logit bias.

    ``query_index`` computes the output of one position only (its query row),
    which is all the later stages of Chromoformer ever read: it saves the
    (T x T) work of the rows nobody uses.
    """

    def __init__(self, d_emb: int, n_heads: int, d_model: int, gate: bool = False):
        super().__init__()
        self.n_heads, self.gate = n_heads, gate
        self.gamma_f = nn.Parameter(torch.ones(n_heads))  # scales the interaction bias per head
        self.w_bias = nn.Linear(2, n_heads, bias=False)  # unused by the official model; kept for its checkpoints
        self.att = nn.Linear(d_emb, (4 if gate else 3) * d_model, bias=False)
        self.ff = nn.Linear(d_model, d_emb)
        self.ln = nn.LayerNorm(d_emb)

    def forward(self, x, score=None, mask=None, query_index: int | None = None, need_weights: bool = False):
        """x: (N, T, d_emb); score: (N, T, T) interaction bias, added as gamma_f[head] * score;
        mask: (N, T, T) additive, 0 where attention is allowed and MASKED where not."""
        bias = None
        if score is not None:
            bias = self.gamma_f[:, None, None] * score[:, None]
        if mask is not None:
            bias = mask[:, None] if bias is None else bias + mask[:, None]
        parts = self.att(x).chunk(4 if self.gate else 3, dim=-1)
        q, k, v = (split_heads(t, self.n_heads) for t in parts[:3])  # (N, h, T, d)
        residual = x
        if query_index is not None:
            q = q[..., query_index : query_index + 1, :]
            residual = x[:, query_index : query_index + 1]
            if bias is not None:
                bias = bias[..., query_index : query_index + 1, :]
        if bias is not None:
            bias = bias.to(q.dtype)
        weights = None
        if need_weights:
            logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
            if bias is not None:
                logits = logits + bias
            weights = logits.softmax(-1)
            out = weights @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        if self.gate:
            g = split_heads(parts[3], self.n_heads)
            if query_index is not None:
                g = g[..., query_index : query_index + 1, :]
            out = out * torch.sigmoid(g)
        y = self.ln(residual + self.ff(merge_heads(out)))
        return (y, weights) if need_weights else y


class AttentionBlock(nn.Module):
    def __init__(self, d_emb: int, n_heads: int, d_model: int, d_ff: int, gate: bool = False):
        super().__init__()
        self.self_att = SelfAttention(d_emb, n_heads, d_model, gate=gate)
        self.ff = FeedForward(d_emb, d_ff)

    def forward(self, x, score=None, mask=None, query_index=None, need_weights: bool = False):
        if need_weights:
            y, w = self.self_att(x, score, mask, query_index, need_weights=True)
            return self.ff(y), w
        return self.ff(self.self_att(x, score, mask, query_index))


class Transformer(nn.Module):
    def __init__(self, n_layers: int, n_heads: int, d_emb: int, d_model: int, d_ff: int, gate: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(AttentionBlock(d_emb, n_heads, d_model, d_ff, gate) for _ in range(n_layers))

    def forward(self, x, score=None, mask=None, query_index: int | None = None, need_weights: bool = False):
        """``query_index`` applies to the last layer only: earlier layers feed every position."""
        weights = []
        for i, layer in enumerate(self.layers):
            qi = query_index if i == len(self.layers) - 1 else None
            if need_weights:
                x, w = layer(x, score, mask, qi, need_weights=True)
                weights.append(w)
            else:
                x = layer(x, score, mask, qi)
        return (x, weights) if need_weights else x


class SegmentCrossAttention(nn.Module):
    """Post-LN cross-attention of one query per segment over that segment's keys.

    Chromoformer's pairwise stage attends from the promoter (its TSS bin is
    the only row ever used) to the bins of one pCRE. pCREs differ in length,
    so keys come packed: ``keys`` (n, d) with ``segment`` (n,) naming the
    query each belongs to. Padding is never materialised, which skips the
    60-90 % of pCRE slots that are padding, and an empty slot costs nothing.
    """

    def __init__(self, d_emb: int, n_heads: int, d_model: int):
        super().__init__()
        self.n_heads = n_heads
        self.gamma_f = nn.Parameter(torch.ones(n_heads))  # unused by the official model; kept for its checkpoints
        self.p_att = nn.Linear(d_emb, d_model, bias=False)
        self.c_att = nn.Linear(d_emb, 2 * d_model, bias=False)
        self.ff = nn.Linear(d_model, d_emb)
        self.ln = nn.LayerNorm(d_emb)

    def forward(self, queries, keys, segment):
        """queries: (N, d_emb); keys: (n, d_emb); segment: (n,) in [0, N)."""
        n_seg, h = queries.shape[0], self.n_heads
        q = self.p_att(queries).view(n_seg, h, -1)  # (N, h, d)
        k, v = (t.view(keys.shape[0], h, -1) for t in self.c_att(keys).chunk(2, dim=-1))  # (n, h, d)
        logits = (q[segment] * k).sum(-1) / math.sqrt(q.shape[-1])  # (n, h)
        weights = segment_softmax(logits, segment, n_seg)
        out = torch.zeros(n_seg, h, v.shape[-1], dtype=v.dtype, device=v.device)
        out.index_add_(0, segment, weights.unsqueeze(-1).to(v.dtype) * v)
        return self.ln(queries + self.ff(out.reshape(n_seg, -1)))


def segment_softmax(logits: torch.Tensor, segment: torch.Tensor, n_seg: int) -> torch.Tensor:
    """Softmax of ``logits`` (n, h) within each segment, in float32."""
    logits = logits.float()
    index = segment[:, None].expand_as(logits)
    peak = torch.full((n_seg, logits.shape[1]), float("-inf"), device=logits.device)
    peak = peak.scatter_reduce(0, index, logits.detach(), reduce="amax", include_self=True)
    e = torch.exp(logits - peak[segment])
    total = torch.zeros_like(peak).index_add_(0, segment, e)
    return e / total[segment]


class PairwiseTransformer(nn.Module):
    def __init__(self, n_layers: int, n_heads: int, d_emb: int, d_model: int, d_ff: int):
        super().__init__()
        self.layers = nn.ModuleList(PairwiseBlock(d_emb, n_heads, d_model, d_ff) for _ in range(n_layers))

    def forward(self, queries, keys, segment):
        # Keys stay the pCRE's own embedding in every layer; only the promoter stream is updated.
        for layer in self.layers:
            queries = layer(queries, keys, segment)
        return queries


class PairwiseBlock(nn.Module):
    def __init__(self, d_emb: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.self_att = SegmentCrossAttention(d_emb, n_heads, d_model)  # official name: self_att
        self.ff = FeedForward(d_emb, d_ff)

    def forward(self, queries, keys, segment):
        return self.ff(self.self_att(queries, keys, segment))
