"""Chromoformer's building blocks: parameter templates, and grouped operations over resolutions.

Parameter names and shapes follow the official ``chromoformer`` package so
its state dicts load with ``strict=True`` (including tensors it never uses,
marked below). The template modules only *declare* one resolution's
parameters (and initialise them as the official code does);
:class:`ResolutionStack` stores R copies of a template stacked along a
leading resolution axis, and the model computes all resolutions at once
with batched operations on those stacks (``G`` below = resolutions, or
resolutions x models). Blocks are post-LayerNorm, Q/K/V carry no bias, the
output projection does, attention is scaled by 1/sqrt(d_head), no dropout.
"""

from __future__ import annotations

import math
from collections.abc import Callable

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


# --------------------------------------------------------------------------- templates


class FeedForwardParams(nn.Module):
    """Post-LN MLP: LN(x + W2 ReLU(W1 x))."""

    def __init__(self, d_emb: int, d_ff: int):
        super().__init__()
        self.l1 = nn.Linear(d_emb, d_ff)
        self.l2 = nn.Linear(d_ff, d_emb)
        self.ln = nn.LayerNorm(d_emb)


class SelfAttentionParams(nn.Module):
    """Post-LN multi-head self-attention, optionally gated (``att`` gives q, k, v[, gate]), with an additive logit bias."""

    def __init__(self, d_emb: int, n_heads: int, d_model: int, gate: bool = False):
        super().__init__()
        self.gamma_f = nn.Parameter(
            torch.ones(n_heads)
        )  # scales the interaction bias per head (unused in embed/pairwise)
        self.w_bias = nn.Linear(2, n_heads, bias=False)  # unused by the official model; kept for its checkpoints
        self.att = nn.Linear(d_emb, (4 if gate else 3) * d_model, bias=False)
        self.ff = nn.Linear(d_model, d_emb)
        self.ln = nn.LayerNorm(d_emb)


class AttentionBlockParams(nn.Module):
    def __init__(self, d_emb: int, n_heads: int, d_model: int, d_ff: int, gate: bool = False):
        super().__init__()
        self.self_att = SelfAttentionParams(d_emb, n_heads, d_model, gate=gate)
        self.ff = FeedForwardParams(d_emb, d_ff)


class TransformerParams(nn.Module):
    def __init__(self, n_layers: int, n_heads: int, d_emb: int, d_model: int, d_ff: int, gate: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(AttentionBlockParams(d_emb, n_heads, d_model, d_ff, gate) for _ in range(n_layers))


class CrossAttentionParams(nn.Module):
    """The pairwise stage's attention: queries from the promoter (``p_att``), keys and values from a pCRE (``c_att``)."""

    def __init__(self, d_emb: int, n_heads: int, d_model: int):
        super().__init__()
        self.gamma_f = nn.Parameter(torch.ones(n_heads))  # unused by the official model; kept for its checkpoints
        self.p_att = nn.Linear(d_emb, d_model, bias=False)
        self.c_att = nn.Linear(d_emb, 2 * d_model, bias=False)
        self.ff = nn.Linear(d_model, d_emb)
        self.ln = nn.LayerNorm(d_emb)


class PairwiseBlockParams(nn.Module):
    def __init__(self, d_emb: int, n_heads: int, d_model: int, d_ff: int):
        super().__init__()
        self.self_att = CrossAttentionParams(d_emb, n_heads, d_model)  # official name: self_att
        self.ff = FeedForwardParams(d_emb, d_ff)


class PairwiseTransformerParams(nn.Module):
    def __init__(self, n_layers: int, n_heads: int, d_emb: int, d_model: int, d_ff: int):
        super().__init__()
        self.layers = nn.ModuleList(PairwiseBlockParams(d_emb, n_heads, d_model, d_ff) for _ in range(n_layers))


# --------------------------------------------------------------------------- stacks


class ResolutionStack(nn.Module):
    """The parameters of one template module per key (resolution), stacked: each becomes one (R, *shape) tensor.

    A stage of a model subclasses it and reads its parameters with :meth:`param`.

    ``state_dict()`` and ``load_state_dict()`` speak the per-copy names
    (``'2000.lin_proj.weight'``, as an ``nn.ModuleDict`` of the templates
    would), so official checkpoints load and save unchanged; inside, each
    parameter is a single tensor, so the model reads all resolutions with
    one batched operation instead of one per resolution.
    """

    def __init__(self, make: Callable[[], nn.Module], keys: list[str]):
        super().__init__()
        copies = [make() for _ in keys]  # built in order: the same initial values as separate modules
        self.keys = [str(k) for k in keys]
        self.names = [n for n, _ in copies[0].named_parameters()]
        for name in self.names:
            stacked = torch.stack([dict(c.named_parameters())[name].detach() for c in copies])
            self.register_parameter(self._attr(name), nn.Parameter(stacked))
        self.register_state_dict_post_hook(ResolutionStack._expand)
        self.register_load_state_dict_pre_hook(ResolutionStack._stack)

    @staticmethod
    def _attr(name: str) -> str:
        return name.replace(".", "__")

    def param(self, name: str) -> torch.Tensor:
        """The stacked (R, *shape) parameter of template name ``name`` (e.g. ``'lin_proj.weight'``)."""
        return getattr(self, self._attr(name))

    @staticmethod
    def _expand(module, state_dict, prefix, local_metadata):
        for name in module.names:
            value = state_dict.pop(prefix + module._attr(name), None)
            if value is None:
                continue
            for i, key in enumerate(module.keys):
                state_dict[f"{prefix}{key}.{name}"] = value[i]

    @staticmethod
    def _stack(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        for name in module.names:
            keys = [f"{prefix}{key}.{name}" for key in module.keys]
            if all(k in state_dict for k in keys):
                parts = [state_dict.pop(k) for k in keys]
                if len({tuple(p.shape) for p in parts}) == 1:
                    state_dict[prefix + module._attr(name)] = torch.stack(parts)
                else:
                    error_msgs.append(
                        f"size mismatch between resolutions for {prefix}*.{name}: {[tuple(p.shape) for p in parts]}"
                    )


# --------------------------------------------------------------------------- grouped operations


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """Per-group linear map: x (G, ..., in), weight (G, out, in), bias (G, out) -> (G, ..., out)."""
    g, shape = x.shape[0], x.shape[1:-1]
    flat = x.reshape(g, -1, x.shape[-1])
    out = (
        torch.bmm(flat, weight.transpose(1, 2))
        if bias is None
        else torch.baddbmm(bias.unsqueeze(1), flat, weight.transpose(1, 2))
    )
    return out.reshape(g, *shape, weight.shape[1])


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Per-group affine LayerNorm: x (G, ..., d), weight/bias (G, d)."""
    view = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
    return torch.addcmul(bias.view(view), F.layer_norm(x, x.shape[-1:], eps=eps), weight.view(view))


def feed_forward(x: torch.Tensor, p: Callable[[str], torch.Tensor], prefix: str) -> torch.Tensor:
    """LN(x + W2 ReLU(W1 x)) with the stacked parameters ``p(prefix + 'l1.weight')`` etc."""
    h = F.relu(linear(x, p(prefix + "l1.weight"), p(prefix + "l1.bias")))
    return layer_norm(
        x + linear(h, p(prefix + "l2.weight"), p(prefix + "l2.bias")), p(prefix + "ln.weight"), p(prefix + "ln.bias")
    )


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(..., T, heads * d) -> (..., heads, T, d)"""
    *lead, t, hd = x.shape
    return x.view(*lead, t, heads, hd // heads).transpose(-3, -2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(..., heads, T, d) -> (..., T, heads * d)"""
    *lead, h, t, d = x.shape
    return x.transpose(-3, -2).reshape(*lead, t, h * d)


def segment_softmax(logits: torch.Tensor, segment: torch.Tensor, n_seg: int) -> torch.Tensor:
    """Softmax of ``logits`` (n, h) within each segment, in float32."""
    logits = logits.float()
    index = segment[:, None].expand_as(logits)
    peak = torch.full((n_seg, logits.shape[1]), float("-inf"), device=logits.device)
    peak = peak.scatter_reduce(0, index, logits.detach(), reduce="amax", include_self=True)
    e = torch.exp(logits - peak.index_select(0, segment))
    total = torch.zeros_like(peak).index_add_(0, segment, e)
    return e / total.index_select(0, segment)  # index_select: a deterministic backward on CPUs
