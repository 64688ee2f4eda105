import numpy as np
import pytest
import torch
from conftest import official_forward, official_model

from chromoflow.data.batch import PackedBatch
from chromoflow.data.dataset import GeneDataset
from chromoflow.data.layout import left_pad, n_bins
from chromoflow.models.attentivechrome import AttentiveChrome
from chromoflow.models.chromoformer import Chromoformer
from chromoflow.models.deepchrome import DeepChrome
from chromoflow.models.layers import segment_softmax, sinusoidal_positions


def test_parameter_names_and_shapes_match_official():
    official = official_model("classifier").state_dict()
    ours = Chromoformer(n_feats=7, n_out=2).state_dict()
    assert len(official) == len(ours) == 370
    assert {k: tuple(v.shape) for k, v in official.items()} == {k: tuple(v.shape) for k, v in ours.items()}
    assert sum(v.numel() for v in ours.values()) == 5_342_672
    # Tensors the official forward never uses are still there, for strict loading.
    assert "regulation.100.transformer.layers.5.self_att.w_bias.weight" in ours
    assert "pairwise_interaction.2000.ln.weight" in ours and "embed.500.transformer.layers.0.self_att.gamma_f" in ours


def edited_demo_batch(demo_dataset):
    """All demo genes; one stripped of its pCREs, one cut to 3, others keep their 1 or 8."""
    ds = GeneDataset.load(demo_dataset)
    batch = ds.batch(np.arange(len(ds)))
    length, score, dense = batch.pcre_length.copy(), batch.pcre_score.copy(), batch.dense_pcres()
    full = np.flatnonzero((length > 0).all(1))
    assert len(full) >= 3 and ((length > 0).sum(1) == 1).any()
    for gene, keep in ((full[0], 0), (full[1], 3)):
        length[gene, keep:] = 0
        score[gene, keep:] = 0
        for b in dense:
            dense[b][gene, keep:] = 0
    return PackedBatch.from_dense(batch.promoter, length, score, dense)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_outputs_equal_official_package(demo_dataset, kind):
    """Same weights, same inputs: the official model and ours agree within 1e-4 (fp32), 0..8 pCREs."""
    official = official_model(kind)
    ours = Chromoformer(n_feats=7, n_out=2 if kind == "classifier" else 1)
    ours.load_state_dict(official.state_dict(), strict=True)
    ours.eval()
    batch = edited_demo_batch(demo_dataset)
    want = official_forward(official, batch)
    with torch.no_grad():
        got = ours(batch.to("cpu"))
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-4, rtol=0), (got - want).abs().max()


def test_padding_and_batch_company_do_not_change_outputs(demo_dataset):
    torch.manual_seed(0)
    model = Chromoformer(
        n_feats=7,
        n_out=1,
        d_emb=32,
        d_head=16,
        embed={"d_model": 32},
        pairwise={"d_model": 32, "n_layers": 1},
        regulation={"n_layers": 2, "d_model": 64, "n_heads": 4},
    ).eval()
    ds = GeneDataset.load(demo_dataset)
    batch = ds.batch(np.arange(len(ds)))
    with torch.no_grad():
        together = model(
            PackedBatch.from_dense(batch.promoter, batch.pcre_length, batch.pcre_score, batch.dense_pcres()).to("cpu")
        )
        alone = torch.cat([model(ds.batch([i]).to("cpu")) for i in range(len(ds))])
        # Four more empty pCRE slots per gene, and garbage in every padded position.
        length = np.pad(batch.pcre_length, ((0, 0), (0, 4)))
        score = np.pad(batch.pcre_score, ((0, 0), (0, 4)))
        wider = {}
        for b, x in batch.dense_pcres().items():
            noisy = np.pad(x, ((0, 0), (0, 4), (0, 0), (0, 0)))
            S = x.shape[2]
            n = n_bins(length, b)
            lp = left_pad(n, S)
            pos = np.arange(S)
            padding = ~((pos >= lp[..., None]) & (pos < (lp + n)[..., None]) & (length[..., None] > 0))
            noisy[padding] = 7.0
            wider[b] = noisy
        padded = model(PackedBatch.from_dense(batch.promoter, length, score, wider).to("cpu"))
    assert torch.allclose(together, alone, atol=1e-5)
    assert torch.allclose(together, padded, atol=1e-5)


def test_nohic_ignores_pcres(demo_dataset):
    torch.manual_seed(1)
    model = Chromoformer(n_feats=7, n_out=2, use_pcres=False).eval()
    ds = GeneDataset.load(demo_dataset)
    with torch.no_grad():
        with_p = model(ds.batch(np.arange(6)).to("cpu"))
        without = model(ds.batch(np.arange(6), pcres=False).to("cpu"))
    assert torch.equal(with_p, without)
    assert model.inputs.pcres is False and model.attention is None


def test_folded_embedding_equals_attention_over_every_bin(demo_dataset):
    """The one-layer embedding folded into the input channels equals plain attention over all bins (fp32)."""
    torch.manual_seed(2)
    model = Chromoformer(n_feats=7, n_out=2).eval()
    ds = GeneDataset.load(demo_dataset)
    batch = ds.batch(np.arange(len(ds))).to("cpu")
    with torch.no_grad():
        folded = model.embed(batch.promoter, model.grid)
        plain = model.embed.every_bin(batch.promoter, model.grid)
    assert folded.shape == (3, len(ds), 128)
    assert torch.allclose(folded, plain, atol=1e-5), (folded - plain).abs().max()


def test_attention_weights_path_equals_fast_path(demo_dataset):
    torch.manual_seed(3)
    model = Chromoformer(n_feats=7, n_out=2).eval()
    with torch.no_grad():
        for r in range(3):
            model.regulation.param("transformer.layers.5.self_att.gamma_f")[r].copy_(
                torch.tensor([0.5, 2.0, 1, 1, 1, 1, 3, 0.1])
            )
    ds = GeneDataset.load(demo_dataset)
    batch = ds.batch(np.arange(len(ds))).to("cpu")
    with torch.no_grad():
        fast = model.encode(batch)
        slow, weights = model.encode(batch, need_weights=True)
    assert torch.allclose(fast, slow, atol=1e-5)
    w = weights[100][-1]  # (B, heads, 9, 9), last layer
    length = batch.pcre_length
    empty = torch.cat([torch.zeros(len(ds), 1, dtype=torch.bool), length == 0], dim=1)
    assert torch.allclose(
        w[:, :, 0][empty.unsqueeze(1).expand_as(w[:, :, 0])], torch.zeros(1)
    )  # masked slots get no weight
    assert torch.allclose(w.sum(-1), torch.ones(1))


def test_state_dict_round_trip_keeps_official_names():
    torch.manual_seed(4)
    a = Chromoformer(n_feats=7, n_out=1)
    state = a.state_dict()
    assert "embed.500.transformer.layers.0.self_att.att.weight" in state and not any("__" in k for k in state)
    assert state["regulation.100.transformer.layers.2.ff.l1.weight"].shape == (256, 128)
    b = Chromoformer(n_feats=7, n_out=1)
    b.load_state_dict(state, strict=True)
    assert all(torch.equal(state[k], v) for k, v in b.state_dict().items())
    assert torch.equal(
        b.embed.param("lin_proj.weight")[1], state["embed.500.lin_proj.weight"]
    )  # stacked in resolution order


def test_segment_softmax():
    logits = torch.tensor([[1.0], [2.0], [0.5], [3.0], [-1.0]])
    seg = torch.tensor([0, 0, 1, 1, 1])
    got = segment_softmax(logits, seg, 2)[:, 0]
    want = torch.cat([torch.softmax(torch.tensor([1.0, 2.0]), 0), torch.softmax(torch.tensor([0.5, 3.0, -1.0]), 0)])
    assert torch.allclose(got, want)


def test_positions_match_official_formula():
    table = sinusoidal_positions(400, 128)
    assert torch.allclose(table[0, 0::2], torch.zeros(64)) and torch.allclose(table[0, 1::2], torch.ones(64))
    assert table[7, 2] == pytest.approx(np.sin(7 * np.exp(-np.log(10000) * 2 / 128)), abs=1e-6)


def test_baselines_read_the_central_5kb():
    x = torch.zeros(2, 400, 3)
    x[:, 150:250] = torch.arange(100, dtype=torch.float32)[None, :, None]
    batch = PackedBatch(index=np.arange(2), promoter={100: x})
    crop = DeepChrome(3, 2).tss_window(batch)
    assert crop.shape == (2, 100, 3) and torch.equal(crop[0, :, 0], torch.arange(100.0))
    torch.manual_seed(0)
    for model in (AttentiveChrome(3, 2), DeepChrome(3, 2)):
        model.eval()
        assert model(batch).shape == (2, 2)
        y = x.clone()
        y[:, :150] = 9.0  # outside ±5 kb: ignored
        assert torch.equal(model(batch), model(PackedBatch(index=np.arange(2), promoter={100: y})))
    _, att = AttentiveChrome(3, 2).encode(batch, need_weights=True)
    assert att["alpha"].shape == (2, 3, 100) and torch.allclose(att["beta"].sum(1), torch.ones(2))


def test_bf16_autocast_path_runs_and_stays_close(demo_dataset):
    """The GPU path's mixed precision, exercised on CPU: masks and softmax survive bf16."""
    torch.manual_seed(4)
    model = Chromoformer(n_feats=7, n_out=2).eval()
    ds = GeneDataset.load(demo_dataset)
    batch = ds.batch(np.arange(len(ds))).to("cpu")
    with torch.no_grad():
        full = model(batch)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            half = model(batch)
            _, att = model.encode(batch, need_weights=True)
    assert half.dtype == torch.bfloat16 and torch.isfinite(half).all()
    assert (half.float() - full).abs().max() < 0.05
    assert all(torch.isfinite(w).all() for ws in att.values() for w in ws)


def test_training_step_is_bit_reproducible_on_cpu(demo_dataset):
    """Same batch, same weights: identical gradients every time (no scatter with a thread-order-dependent sum)."""
    torch.set_num_threads(max(2, torch.get_num_threads()))
    ds = GeneDataset.load(demo_dataset)
    batch = ds.batch(np.resize(np.arange(len(ds)), 64)).to("cpu")
    torch.manual_seed(0)
    model = Chromoformer(7, 1)
    grads = []
    for _ in range(3):
        model.zero_grad()
        model(batch).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert len(grads[0]) > 100  # the pairwise and regulation stages took part
    for other in grads[1:]:
        assert all(torch.equal(grads[0][n], other[n]) for n in other), [
            n for n in other if not torch.equal(grads[0][n], other[n])
        ]
