import json

import numpy as np
import pandas as pd
import pytest
import torch

from chromoflow.data.dataset import GeneDataset
from chromoflow.errors import ChromoflowError
from chromoflow.training import train as train_mod
from chromoflow.training.checkpoint import OFFICIAL_MARKS
from chromoflow.training.config import resolve_config
from chromoflow.training.metrics import average_precision, fold_change_metrics, roc_auc, spearman
from chromoflow.training.train import train

from conftest import official_forward, official_model, run

FOLD = 3  # chr2, 3, 4, 16, 18, 20: about a quarter of the simulated genes


def test_metrics_by_hand():
    y, p = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert roc_auc(y, p) == pytest.approx(0.75)
    assert average_precision(y, p) == pytest.approx((1 + 2 / 3) / 2)
    assert roc_auc([0, 1, 1], [0.5, 0.5, 0.9]) == pytest.approx(0.75)  # a tie counts half
    assert spearman([1, 2, 3, 4], [10, 20, 30, 5]) == pytest.approx(-0.2)
    fc = fold_change_metrics([2.0, -1.5, 0.2, -3.0], [1.0, 0.5, -0.1, -2.0])
    assert fc["direction_accuracy"] == pytest.approx(2 / 3) and fc["n_changed"] == 3


@pytest.fixture(scope="module")
def trained(sim_datasets, tmp_path_factory):
    """Tiny models of every kind, trained once: {(model, task): outdir}."""
    out = {}
    base = tmp_path_factory.mktemp("trained")
    for model in ("chromoformer", "chromoformer-nohic", "attentivechrome", "deepchrome"):
        for task in ("classification", "regression"):
            if model.startswith("chromoformer") or task == "classification":
                d = base / f"{model}-{task}"
                train(sim_datasets["cellA"], model, task, FOLD, d, config="tiny", seed=0)
                out[(model, task)] = d
    return out


@pytest.mark.parametrize("model", ["chromoformer", "chromoformer-nohic", "attentivechrome", "deepchrome"])
def test_every_model_learns(trained, model):
    metrics = json.loads((trained[(model, "classification")] / "metrics.json").read_text())
    assert metrics["heldout"]["roc_auc"] > 0.75, metrics["heldout"]
    assert metrics["n_heldout"] > 100 and metrics["samples_per_s"] > 0


def test_contacts_help_when_the_answer_is_distal(trained):
    """On data whose expression depends on looped enhancers, the Hi-C model wins."""
    full = json.loads((trained[("chromoformer", "regression")] / "metrics.json").read_text())["heldout"]["pearson_r"]
    nohic = json.loads((trained[("chromoformer-nohic", "regression")] / "metrics.json").read_text())["heldout"]["pearson_r"]
    assert full > nohic + 0.05, (full, nohic)


def test_outputs_and_reload(trained, sim_datasets, tmp_path):
    out = trained[("chromoformer", "classification")]
    for name in ("model.pt", "metrics.json", "history.tsv", "heldout.tsv", "history.png", "roc.png", "checkpoint.pt"):
        assert (out / name).stat().st_size > 0, name
    ck = torch.load(out / "model.pt", weights_only=True)
    assert ck["format"] == "chromoflow-model" and ck["task"] == "classification" and ck["dataset"]["marks"][0] == "H3K4me1"
    history = pd.read_csv(out / "history.tsv", sep="\t")
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(history) == metrics["epochs_run"] and {"train_loss", "val_loss", "heldout_roc_auc"} <= set(history.columns)
    # predict on the held-out fold reproduces the reported metric
    res = run("predict", "--dataset", sim_datasets["cellA"], "--checkpoint", out / "model.pt", "--fold", FOLD, "-o", tmp_path / "p.tsv")
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert list(pred.columns) == ["gene_id", "prediction", "fold", "label"] and (pred.fold == FOLD).all()
    assert ((pred.prediction >= 0) & (pred.prediction <= 1)).all()
    assert roc_auc(pred.label, pred.prediction) == pytest.approx(metrics["heldout"]["roc_auc"], abs=1e-6)


def test_regression_predictions_and_attention(trained, sim_datasets, tmp_path):
    out = trained[("chromoformer", "regression")]
    res = run("predict", "--dataset", sim_datasets["cellA"], "--checkpoint", out / "model.pt", "--attention", tmp_path / "att.bedpe", "-o", tmp_path / "p.tsv")
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    ds = GeneDataset.load(sim_datasets["cellA"])
    assert len(pred) == len(ds) and "target" in pred.columns
    att = pd.read_csv(tmp_path / "att.bedpe", sep="\t", header=None)
    assert len(att) == len(ds.pcres)  # one row per gene and pCRE
    assert ((att[7] > 0) & (att[7] < 1)).all()
    assert (tmp_path / "att.bedpe.png").exists()
    assert (out / "scatter.png").exists()
    res = run("predict", "--dataset", sim_datasets["cellA"], "--checkpoint", trained[("attentivechrome", "classification")] / "model.pt", "--attention", tmp_path / "ac.tsv", "--fold", 1, "-o", tmp_path / "p2.tsv")
    assert res.exit_code == 0, res.output
    ac = pd.read_csv(tmp_path / "ac.tsv", sep="\t")
    beta = ac.groupby("gene_id").beta.sum()
    assert np.allclose(beta, 1.0, atol=1e-4) and len(ac.alpha.iat[0].split(",")) == 100


def test_same_seed_same_model(sim_datasets, tmp_path):
    a = train(sim_datasets["cellA"], "deepchrome", "classification", FOLD, tmp_path / "a", config="tiny", epochs=2, seed=5)
    b = train(sim_datasets["cellA"], "deepchrome", "classification", FOLD, tmp_path / "b", config="tiny", epochs=2, seed=5)
    sa = torch.load(tmp_path / "a" / "model.pt", weights_only=True)["state_dict"]
    sb = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a["heldout"] == b["heldout"]


def test_resume_reaches_the_uninterrupted_result(sim_datasets, tmp_path, monkeypatch):
    args = (sim_datasets["cellA"], "chromoformer", "regression", FOLD)
    kwargs = {"config": "tiny", "epochs": 4, "seed": 3}
    straight = train(*args, tmp_path / "straight", **kwargs)

    real_save = train_mod.save_torch
    calls = {"n": 0}

    def crash_after_two_epochs(obj, path):
        real_save(obj, path)
        if str(path).endswith("checkpoint.pt"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(train_mod, "save_torch", crash_after_two_epochs)
    with pytest.raises(KeyboardInterrupt):
        train(*args, tmp_path / "resumed", **kwargs)
    monkeypatch.setattr(train_mod, "save_torch", real_save)
    assert not (tmp_path / "resumed" / "model.pt").exists()
    resumed = train(*args, tmp_path / "resumed", resume=True, **kwargs)
    a = torch.load(tmp_path / "straight" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert straight["heldout"] == resumed["heldout"]
    h = pd.read_csv(tmp_path / "resumed" / "history.tsv", sep="\t")
    assert h.epoch.tolist() == [1, 2, 3, 4]


def test_fold_change(sim_datasets, tmp_path):
    m = train(sim_datasets["cellA"], "chromoformer", "fold-change", FOLD, tmp_path / "fc", config="tiny", reference=sim_datasets["cellB"], epochs=4)
    assert m["heldout"]["pearson_r"] > 0.4 and m["heldout"]["direction_accuracy"] > 0.7
    res = run("predict", "--dataset", sim_datasets["cellA"], "--checkpoint", tmp_path / "fc" / "model.pt", "-o", tmp_path / "x.tsv")
    assert res.exit_code == 1 and "pass --reference" in res.output
    res = run("predict", "--dataset", sim_datasets["cellA"], "--reference", sim_datasets["cellB"], "--checkpoint", tmp_path / "fc" / "model.pt", "-o", tmp_path / "fc.tsv")
    assert res.exit_code == 0
    pred = pd.read_csv(tmp_path / "fc.tsv", sep="\t")
    a, b = GeneDataset.load(sim_datasets["cellA"]).genes, GeneDataset.load(sim_datasets["cellB"]).genes
    np.testing.assert_allclose(pred.target, a.target - b.target, rtol=1e-5, atol=1e-5)


def save_official(path, state, numpy_extras=True):
    ck = {"net": state, "optimizer": {"state": {}, "param_groups": []}, "epoch": 9, "last_val_loss": 0.41}
    if numpy_extras:  # what the official train.py stores besides the weights
        ck.update(last_val_auc=np.float64(93.3), val_score=np.random.rand(5).astype(np.float32), val_label=np.array([0, 1, 1, 0, 1]))
    torch.save(ck, path)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_predict_with_official_checkpoint(demo_dataset, tmp_path, kind):
    official = official_model(kind, seed=4)
    save_official(tmp_path / "official.pt", official.state_dict())
    res = run("predict", "--dataset", demo_dataset, "--checkpoint", tmp_path / "official.pt", "--device", "cpu", "-o", tmp_path / "p.tsv")
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    ds = GeneDataset.load(demo_dataset)
    out = official_forward(official, ds.batch(np.arange(len(ds))))
    want = torch.softmax(out, -1)[:, 1].numpy() if kind == "classifier" else out[:, 0].numpy()
    np.testing.assert_allclose(pred.prediction.to_numpy(), want, atol=1e-4)
    assert ("label" if kind == "classifier" else "target") in pred.columns


def test_official_legacy_key_names_and_mark_order(demo_dataset, demo, tmp_path):
    """Older checkpoints name branches embed2000/pw_int2000/reg2000; dataset marks may come in any order."""
    official = official_model("classifier", seed=6)
    legacy = {}
    for k, v in official.state_dict().items():
        for new, old in (("embed.", "embed"), ("pairwise_interaction.", "pw_int"), ("regulation.", "reg")):
            if k.startswith(new):
                b, rest = k[len(new):].split(".", 1)
                k = f"{old}{b}.{rest}"
        legacy[k] = v
    save_official(tmp_path / "legacy.pt", legacy, numpy_extras=False)
    # The same genes, marks given in reverse order.
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    assert run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", demo / "pcres.bedpe", "-o", tmp_path / "pcres.tsv").exit_code == 0
    tracks = [a for m in reversed(OFFICIAL_MARKS) for a in ("--track", f"{m}={demo / f'E003-{m}.bw'}")]
    assert run("dataset", "--sample", "E003", "--genes", tmp_path / "genes.tsv", "--pcres", tmp_path / "pcres.tsv", *tracks, "-o", tmp_path / "rev.h5").exit_code == 0
    for ds_path, out in ((demo_dataset, "a.tsv"), (tmp_path / "rev.h5", "b.tsv")):
        res = run("predict", "--dataset", ds_path, "--checkpoint", tmp_path / "legacy.pt", "-o", tmp_path / out)
        assert res.exit_code == 0, res.output
    a, b = (pd.read_csv(tmp_path / f, sep="\t") for f in ("a.tsv", "b.tsv"))
    np.testing.assert_allclose(a.prediction, b.prediction, atol=1e-6)
    ds = GeneDataset.load(demo_dataset)
    want = torch.softmax(official_forward(official, ds.batch(np.arange(len(ds)))), -1)[:, 1].numpy()
    np.testing.assert_allclose(a.prediction, want, atol=1e-4)


def test_unsafe_checkpoint_is_refused(tmp_path, demo_dataset):
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"net": {"embed.2000.lin_proj.weight": torch.zeros(1)}, "evil": Payload()}, tmp_path / "evil.pt")
    res = run("predict", "--dataset", demo_dataset, "--checkpoint", tmp_path / "evil.pt", "-o", tmp_path / "p.tsv")
    assert res.exit_code == 1 and "refused to load" in res.output and "pwned" not in res.output


def expect_error(*args) -> str:
    res = run(*args)
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and res.output.startswith("Error:")
    return res.output


def test_training_errors(sim_datasets, demo, demo_dataset, tmp_path):
    base = ["train", "--dataset", sim_datasets["cellA"], "--model", "deepchrome", "--task", "classification", "-o", tmp_path / "x"]
    assert "fold 7 has no genes" in expect_error(*base, "--fold", 7)
    assert "neither a preset" in expect_error(*base, "--fold", 1, "--config", tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("training:\n  lrate: 0.1\n")
    assert "unknown training option(s) lrate" in expect_error(*base, "--fold", 1, "--config", tmp_path / "bad.yaml")
    assert "needs --reference" in expect_error("train", "--dataset", sim_datasets["cellA"], "--model", "chromoformer", "--task", "fold-change", "--fold", 1, "-o", tmp_path / "y")
    # No --expression when the dataset was built: nothing to learn from.
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    tracks = [a for m in OFFICIAL_MARKS for a in ("--track", f"{m}={demo / f'E003-{m}.bw'}")]
    assert run("dataset", "--sample", "E003", "--genes", tmp_path / "genes.tsv", *tracks, "-o", tmp_path / "noexpr.h5").exit_code == 0
    out = expect_error("train", "--dataset", tmp_path / "noexpr.h5", "--model", "deepchrome", "--task", "regression", "--fold", 1, "-o", tmp_path / "z")
    assert "no gene has expression values" in out and "--expression" in out
    assert not (tmp_path / "z" / "model.pt").exists()


def test_checkpoint_dataset_mismatch(trained, demo, demo_dataset, tmp_path):
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    one = tmp_path / "one.h5"
    assert run("dataset", "--sample", "E003", "--genes", tmp_path / "genes.tsv", "--track", f"H3K4me3={demo / 'E003-H3K4me3.bw'}", "-o", one).exit_code == 0
    out = expect_error("predict", "--dataset", one, "--checkpoint", trained[("deepchrome", "classification")] / "model.pt", "-o", tmp_path / "p.tsv")
    assert "needs marks" in out and "missing H3K4me1" in out
    tracks = [a for m in OFFICIAL_MARKS for a in ("--track", f"{m}={demo / f'E003-{m}.bw'}")]
    coarse = tmp_path / "coarse.h5"
    assert run("dataset", "--sample", "E003", "--genes", tmp_path / "genes.tsv", *tracks, "--bin-sizes", "1000,200", "-o", coarse).exit_code == 0
    out = expect_error("predict", "--dataset", coarse, "--checkpoint", trained[("chromoformer", "classification")] / "model.pt", "-o", tmp_path / "p.tsv")
    assert "bin sizes [1000, 200]" in out and "--bin-sizes 2000,500,100" in out
    assert not (tmp_path / "p.tsv").exists()


def test_resolve_config_presets():
    official = resolve_config("chromoformer", "official")["training"]
    assert (official["optimizer"], official["lr"], official["gamma"], official["batch_size"], official["epochs"], official["drop_last"], official["select"]) == ("adamw", 3e-5, 0.87, 64, 9, True, "last")
    ac = resolve_config("attentivechrome")["training"]
    assert (ac["optimizer"], ac["lr"], ac["batch_size"], ac["grad_clip"]) == ("adam", 2e-4, 16, 1.0)
    assert resolve_config("deepchrome", "tiny", epochs=2, batch_size=7)["training"]["epochs"] == 2
