"""DeepChrome (Singh et al., Bioinformatics 2016): a CNN over the ±5 kb promoter bins.

Conv1d(marks -> 50, width 10) -> ReLU -> MaxPool(5) -> flatten (50 x 18) ->
Dropout(0.5) -> Linear 625 -> ReLU -> Linear 125 -> ReLU -> Linear outputs,
on the same 100 bins of 100 bp around the TSS as AttentiveChrome.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .base import ModelConfig, PromoterWindowModel


@dataclass(frozen=True)
class DeepChromeConfig(ModelConfig):
    """DeepChrome's options, as published."""

    n_bins: int = 100
    bin_size: int = 100
    filters: int = 50
    width: int = 10
    pool: int = 5
    dropout: float = 0.5


class DeepChrome(PromoterWindowModel):
    """Reads the promoter window only; no attention to report."""

    name = "deepchrome"
    config_class = DeepChromeConfig

    def __init__(self, n_feats: int, n_out: int = 2, window: int = 40_000, **options):
        super().__init__()
        o = DeepChromeConfig(**options)
        self.config = {"n_feats": n_feats, "n_out": n_out, **o.as_dict(), "window": window}
        n_bins, bin_size, filters, width, pool, dropout = o.n_bins, o.bin_size, o.filters, o.width, o.pool, o.dropout
        self.n_bins, self.bin_size = n_bins, bin_size
        flat = filters * ((n_bins - width + 1) // pool)
        self.features = nn.Sequential(
            nn.Conv1d(n_feats, filters, width), nn.ReLU(), nn.MaxPool1d(pool), nn.Flatten(), nn.Dropout(dropout)
        )
        self.mlp = nn.Sequential(nn.Linear(flat, 625), nn.ReLU(), nn.Linear(625, 125), nn.ReLU())
        self.head = nn.Linear(125, n_out)

    def encode(self, batch, need_weights: bool = False):
        x = self.tss_window(batch).transpose(1, 2)  # (B, M, n_bins)
        return self.mlp(self.features(x))

    def forward(self, batch):
        return self.head(self.encode(batch))
