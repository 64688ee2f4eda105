"""AttentiveChrome (Singh et al., NeurIPS 2017), as in QData/AttentiveChrome ``v2PyTorch``.

Input: the 100 bins of 100 bp around the TSS (±5 kb; the central 100 of the
dataset's 400 promoter bins), one sequence per mark.

- Bin level, one encoder per mark: BiLSTM(1 -> 32 per direction) over the 100
  bins; attention alpha_t = softmax_t(h_t . w_mark) with a learned context
  vector; the mark's summary m_j = sum_t alpha_t h_t (64).
- Mark level: the marks as a sequence, BiLSTM(64 -> 16 per direction);
  attention beta_j = softmax_j(s_j . w) ; v = sum_j beta_j s_j (32).
- Linear(32 -> outputs).

Every parameter starts as U(-0.1, 0.1), as published. Classification has one
output, a logit trained with binary cross-entropy, as published.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .base import ModelConfig, PromoterWindowModel


class ContextAttention(nn.Module):
    """Soft attention over a sequence against a learned context vector."""

    def __init__(self, dim: int):
        super().__init__()
        self.context = nn.Parameter(torch.empty(dim).uniform_(-0.1, 0.1))

    def forward(self, h):
        """h: (N, T, dim) -> summary (N, dim), weights (N, T)."""
        weights = torch.softmax(h @ self.context, dim=1)
        return (weights.unsqueeze(-1) * h).sum(1), weights


class SequenceEncoder(nn.Module):
    """BiLSTM then context attention."""

    def __init__(self, d_in: int, hidden: int):
        super().__init__()
        self.rnn = nn.LSTM(d_in, hidden, batch_first=True, bidirectional=True)
        self.attention = ContextAttention(2 * hidden)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.attention(h)


@dataclass(frozen=True)
class AttentiveChromeConfig(ModelConfig):
    """AttentiveChrome's options, as published."""

    n_bins: int = 100
    bin_size: int = 100
    bin_hidden: int = 32
    mark_hidden: int = 16


class AttentiveChrome(PromoterWindowModel):
    """One logit for classification (sigmoid, as published); reports its attention over bins and marks."""

    name = "attentivechrome"
    config_class = AttentiveChromeConfig

    classification_outputs = 1
    attention = "marks"

    def __init__(self, n_feats: int, n_out: int = 1, window: int = 40_000, **options):
        super().__init__()
        o = AttentiveChromeConfig(**options)
        self.config = {"n_feats": n_feats, "n_out": n_out, **o.as_dict(), "window": window}
        n_bins, bin_size, bin_hidden, mark_hidden = o.n_bins, o.bin_size, o.bin_hidden, o.mark_hidden
        self.n_bins, self.bin_size = n_bins, bin_size
        self.bins = nn.ModuleList(SequenceEncoder(1, bin_hidden) for _ in range(n_feats))
        self.marks = SequenceEncoder(2 * bin_hidden, mark_hidden)
        self.head = nn.Linear(2 * mark_hidden, n_out)
        for p in self.parameters():  # the published initialisation
            nn.init.uniform_(p, -0.1, 0.1)

    def encode(self, batch, need_weights: bool = False):
        x = self.tss_window(batch)
        summaries, alphas = [], []
        for j, encoder in enumerate(self.bins):
            m, alpha = encoder(x[:, :, j : j + 1])
            summaries.append(m)
            alphas.append(alpha)
        v, beta = self.marks(torch.stack(summaries, dim=1))
        if need_weights:
            return v, {"alpha": torch.stack(alphas, dim=1), "beta": beta}  # (B, M, n_bins), (B, M)
        return v

    def forward(self, batch):
        return self.head(self.encode(batch))

    def compact_attention(self, weights):
        """(alpha (B, M, bins), beta (B, M)) on the host."""
        return weights["alpha"].float().cpu().numpy(), weights["beta"].float().cpu().numpy()
