"""What a task asks of a model: its raw output, its loss, and the prediction users see.

- classification: two logits with cross-entropy (Chromoformer, DeepChrome), or
  one logit with binary cross-entropy (AttentiveChrome, as published); the
  prediction is the probability of the high class;
- regression: one value, MSE; the prediction is log2(expression + 1);
- fold-change: one shared encoder and head applied to both samples,
  prediction = head(A) - head(B) = log2((A + 1) / (B + 1)), MSE.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def outputs(model, task: str, a: dict, b: dict | None, need_weights: bool = False):
    """Raw model output for a task: (B, 2) or (B, 1) logits, or (B,) values (fold change: A minus B).

    With ``need_weights`` also the attention of sample A's forward pass (same pass, not a second one).
    """
    weights = None
    if need_weights:
        rep, weights = model.encode(a, need_weights=True)
        y = model.head(rep)
    else:
        y = model(a)
    if task != "classification":
        y = y.squeeze(-1)
        if task == "fold-change":
            y = y - model(b).squeeze(-1)
    return (y, weights) if need_weights else y


def loss(task: str, out: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    out = out.float()
    if task == "classification":
        if out.shape[-1] == 1:
            return F.binary_cross_entropy_with_logits(out[:, 0], truth.float())
        return F.cross_entropy(out, truth.long())
    return F.mse_loss(out, truth.float())


def prediction(task: str, out: torch.Tensor) -> torch.Tensor:
    """Probability of the high class, or the predicted value (on the output's device)."""
    out = out.float()
    if task == "classification":
        return torch.sigmoid(out[:, 0]) if out.shape[-1] == 1 else torch.softmax(out, dim=-1)[:, 1]
    return out


def predictions(task: str, out: torch.Tensor) -> np.ndarray:
    """:func:`prediction` as a numpy array on the host."""
    return prediction(task, out).cpu().numpy()
