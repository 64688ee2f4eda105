import dataclasses
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import official_forward, official_model, run

from chromoflow.data.dataset import GeneDataset
from chromoflow.errors import ChromoflowError
from chromoflow.evaluate.metrics import (
    average_precision,
    fold_change_metrics,
    roc_auc,
    spearman,
)
from chromoflow.evaluate.predict import predict
from chromoflow.models.checkpoint import OFFICIAL_MARKS
from chromoflow.training.config import resolve_config
from chromoflow.training.train import train

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
    nohic = json.loads((trained[("chromoformer-nohic", "regression")] / "metrics.json").read_text())["heldout"][
        "pearson_r"
    ]
    assert full > nohic + 0.05, (full, nohic)


def test_outputs_and_reload(trained, sim_datasets, tmp_path):
    out = trained[("chromoformer", "classification")]
    for name in ("model.pt", "metrics.json", "history.tsv", "heldout.tsv", "history.png", "roc.png", "checkpoint.pt"):
        assert (out / name).stat().st_size > 0, name
    ck = torch.load(out / "model.pt", weights_only=True)
    assert (
        ck["format"] == "chromoflow-model" and ck["task"] == "classification" and ck["dataset"]["marks"][0] == "H3K4me1"
    )
    history = pd.read_csv(out / "history.tsv", sep="\t")
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(history) == metrics["epochs_run"] and {"train_loss", "val_loss", "val_roc_auc", "train_roc_auc"} <= set(
        history.columns
    )
    heldout = pd.read_csv(out / "heldout.tsv", sep="\t")
    assert (heldout.heldout == 1).all() and {"gene_name", "chrom", "tss"} <= set(heldout.columns)
    # predict on the held-out fold reproduces the reported metric
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        out / "model.pt",
        "--fold",
        FOLD,
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert (
        list(pred.columns)
        == ["gene_id", "gene_name", "chrom", "tss", "strand", "fold", "heldout", "prediction", "label"]
        and (pred.fold == FOLD).all()
    )
    assert (pred.heldout == 1).all()  # fold 3 genes: none of them was trained on
    assert ((pred.prediction >= 0) & (pred.prediction <= 1)).all()
    assert roc_auc(pred.label, pred.prediction) == pytest.approx(metrics["heldout"]["roc_auc"], abs=1e-6)


def test_regression_predictions_and_attention(trained, sim_datasets, tmp_path):
    out = trained[("chromoformer", "regression")]
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        out / "model.pt",
        "--attention",
        tmp_path / "att.bedpe",
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    ds = GeneDataset.load(sim_datasets["cellA"])
    assert len(pred) == len(ds) and "target" in pred.columns
    att = pd.read_csv(tmp_path / "att.bedpe", sep="\t")
    assert att.columns[0] == "#chrom1" and len(att) == len(ds.pcres)  # one row per gene and pCRE
    assert ((att.score > 0) & (att.score < 1)).all()
    assert (tmp_path / "att.bedpe.png").exists()
    assert (out / "scatter.png").exists()
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        trained[("attentivechrome", "classification")] / "model.pt",
        "--attention",
        tmp_path / "ac.tsv",
        "--fold",
        1,
        "-o",
        tmp_path / "p2.tsv",
    )
    assert res.exit_code == 0, res.output
    ac = pd.read_csv(tmp_path / "ac.tsv", sep="\t")
    beta = ac.groupby("gene_id").beta.sum()
    assert np.allclose(beta, 1.0, atol=1e-4) and len(ac.alpha.iat[0].split(",")) == 100


def test_same_seed_same_model(sim_datasets, tmp_path):
    a = train(
        sim_datasets["cellA"], "deepchrome", "classification", FOLD, tmp_path / "a", config="tiny", epochs=2, seed=5
    )
    b = train(
        sim_datasets["cellA"], "deepchrome", "classification", FOLD, tmp_path / "b", config="tiny", epochs=2, seed=5
    )
    sa = torch.load(tmp_path / "a" / "model.pt", weights_only=True)["state_dict"]
    sb = torch.load(tmp_path / "b" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a["heldout"] == b["heldout"]


def test_resume_reaches_the_uninterrupted_result(sim_datasets, tmp_path):
    args = (sim_datasets["cellA"], "chromoformer", "regression", FOLD)
    kwargs = {"config": "tiny", "epochs": 4, "seed": 3}
    straight = train(*args, tmp_path / "straight", **kwargs)

    def crash_after_two_epochs(trainer):
        if trainer.state.epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(*args, tmp_path / "resumed", on_epoch=crash_after_two_epochs, **kwargs)
    assert not (tmp_path / "resumed" / "model.pt").exists() and (tmp_path / "resumed" / "checkpoint.pt").exists()
    resumed = train(*args, tmp_path / "resumed", resume=True, **kwargs)
    a = torch.load(tmp_path / "straight" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "resumed" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert straight["heldout"] == resumed["heldout"]
    h = pd.read_csv(tmp_path / "resumed" / "history.tsv", sep="\t")
    assert h.epoch.tolist() == [1, 2, 3, 4]


def test_fold_change(sim_datasets, tmp_path):
    m = train(
        sim_datasets["cellA"],
        "chromoformer",
        "fold-change",
        FOLD,
        tmp_path / "fc",
        config="tiny",
        reference=sim_datasets["cellB"],
        epochs=4,
    )
    assert m["heldout"]["pearson_r"] > 0.4 and m["heldout"]["direction_accuracy"] > 0.7
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        tmp_path / "fc" / "model.pt",
        "-o",
        tmp_path / "x.tsv",
    )
    assert res.exit_code == 1 and "pass --reference" in res.output
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellA"],
        "--reference",
        sim_datasets["cellB"],
        "--checkpoint",
        tmp_path / "fc" / "model.pt",
        "-o",
        tmp_path / "fc.tsv",
    )
    assert res.exit_code == 0
    pred = pd.read_csv(tmp_path / "fc.tsv", sep="\t")
    a, b = GeneDataset.load(sim_datasets["cellA"]).genes, GeneDataset.load(sim_datasets["cellB"]).genes
    np.testing.assert_allclose(pred.target, a.target - b.target, rtol=1e-5, atol=1e-5)


def save_official(path, state, numpy_extras=True):
    ck = {"net": state, "optimizer": {"state": {}, "param_groups": []}, "epoch": 9, "last_val_loss": 0.41}
    if numpy_extras:  # what the official train.py stores besides the weights
        ck.update(
            last_val_auc=np.float64(93.3),
            val_score=np.random.rand(5).astype(np.float32),
            val_label=np.array([0, 1, 1, 0, 1]),
        )
    torch.save(ck, path)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_predict_with_official_checkpoint(demo_dataset, tmp_path, kind):
    official = official_model(kind, seed=4)
    save_official(tmp_path / "official.pt", official.state_dict())
    res = run(
        "predict",
        "--dataset",
        demo_dataset,
        "--checkpoint",
        tmp_path / "official.pt",
        "--device",
        "cpu",
        "-o",
        tmp_path / "p.tsv",
    )
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
                b, rest = k[len(new) :].split(".", 1)
                k = f"{old}{b}.{rest}"
        legacy[k] = v
    save_official(tmp_path / "legacy.pt", legacy, numpy_extras=False)
    # The same genes, marks given in reverse order.
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    assert (
        run(
            "pcres", "--genes", tmp_path / "genes.tsv", "--contacts", demo / "pcres.bedpe", "-o", tmp_path / "pcres.tsv"
        ).exit_code
        == 0
    )
    tracks = [a for m in reversed(OFFICIAL_MARKS) for a in ("--track", f"{m}={demo / f'E003-{m}.bw'}")]
    assert (
        run(
            "dataset",
            "--sample",
            "E003",
            "--genes",
            tmp_path / "genes.tsv",
            "--pcres",
            tmp_path / "pcres.tsv",
            *tracks,
            "-o",
            tmp_path / "rev.h5",
        ).exit_code
        == 0
    )
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
    base = [
        "train",
        "--dataset",
        sim_datasets["cellA"],
        "--model",
        "deepchrome",
        "--task",
        "classification",
        "-o",
        tmp_path / "x",
    ]
    assert "fold 7 has no genes" in expect_error(*base, "--fold", 7)
    assert "neither a preset" in expect_error(*base, "--fold", 1, "--config", tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("training:\n  lrate: 0.1\n")
    assert "unknown option 'training.lrate'" in expect_error(*base, "--fold", 1, "--config", tmp_path / "bad.yaml")
    assert "needs --reference" in expect_error(
        "train",
        "--dataset",
        sim_datasets["cellA"],
        "--model",
        "chromoformer",
        "--task",
        "fold-change",
        "--fold",
        1,
        "-o",
        tmp_path / "y",
    )
    # No --expression when the dataset was built: nothing to learn from.
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    tracks = [a for m in OFFICIAL_MARKS for a in ("--track", f"{m}={demo / f'E003-{m}.bw'}")]
    assert (
        run(
            "dataset", "--sample", "E003", "--genes", tmp_path / "genes.tsv", *tracks, "-o", tmp_path / "noexpr.h5"
        ).exit_code
        == 0
    )
    out = expect_error(
        "train",
        "--dataset",
        tmp_path / "noexpr.h5",
        "--model",
        "deepchrome",
        "--task",
        "regression",
        "--fold",
        1,
        "-o",
        tmp_path / "z",
    )
    assert "no gene has expression values" in out and "--expression" in out
    assert not (tmp_path / "z" / "model.pt").exists()


def test_checkpoint_dataset_mismatch(trained, demo, demo_dataset, tmp_path):
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    one = tmp_path / "one.h5"
    assert (
        run(
            "dataset",
            "--sample",
            "E003",
            "--genes",
            tmp_path / "genes.tsv",
            "--track",
            f"H3K4me3={demo / 'E003-H3K4me3.bw'}",
            "-o",
            one,
        ).exit_code
        == 0
    )
    out = expect_error(
        "predict",
        "--dataset",
        one,
        "--checkpoint",
        trained[("deepchrome", "classification")] / "model.pt",
        "-o",
        tmp_path / "p.tsv",
    )
    assert "needs marks" in out and "missing H3K4me1" in out
    tracks = [a for m in OFFICIAL_MARKS for a in ("--track", f"{m}={demo / f'E003-{m}.bw'}")]
    coarse = tmp_path / "coarse.h5"
    assert (
        run(
            "dataset",
            "--sample",
            "E003",
            "--genes",
            tmp_path / "genes.tsv",
            *tracks,
            "--bin-sizes",
            "1000,200",
            "-o",
            coarse,
        ).exit_code
        == 0
    )
    out = expect_error(
        "predict",
        "--dataset",
        coarse,
        "--checkpoint",
        trained[("chromoformer", "classification")] / "model.pt",
        "-o",
        tmp_path / "p.tsv",
    )
    assert "bin sizes [1000, 200]" in out and "--bin-sizes 2000,500,100" in out
    assert not (tmp_path / "p.tsv").exists()


def test_resolve_config_presets():
    official = resolve_config("chromoformer", "official").training
    assert (
        official.optimizer,
        official.lr,
        official.gamma,
        official.batch_size,
        official.epochs,
        official.drop_last,
        official.select,
    ) == ("adamw", 3e-5, 0.87, 64, 9, True, "last")
    ac = resolve_config("attentivechrome").training
    assert (ac.optimizer, ac.lr, ac.batch_size, ac.grad_clip) == ("adam", 2e-4, 16, 1.0)
    tiny = resolve_config("deepchrome", "tiny", epochs=2, batch_size=7)
    assert (tiny.training.epochs, tiny.training.batch_size) == (2, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.training.epochs = 3  # a configuration is built once, never edited
    assert resolve_config("deepchrome", "tiny").training.epochs == 8  # and overrides never leak into the preset
    # The model section is the model class's own frozen dataclass, nested stages included.
    cf = resolve_config("chromoformer", "tiny").model
    assert (cf.d_emb, cf.pairwise.n_layers, cf.regulation.n_heads, cf.bin_sizes) == (32, 1, 4, (2000, 500, 100))
    assert tiny.model.filters == 16 and tiny.model.as_dict()["filters"] == 16
    with pytest.raises(dataclasses.FrozenInstanceError):
        cf.embed.d_model = 64


# ------------------------------------------------------------------ typed configs


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("training:\n  epoch: 3\n", "unknown option 'training.epoch'"),
        ("training:\n  epochs: 0\n", "training.epochs 0 out of range"),
        ("training:\n  epochs: three\n", "training.epochs must be an integer, got 'three'"),
        ("training:\n  epochs: 2.5\n", "training.epochs must be an integer"),
        ("training:\n  batch_size: 0\n", "training.batch_size 0 out of range"),
        ("training:\n  scheduler: cosine\n", "training.scheduler 'cosine': expected one of step, none"),
        ("training:\n  lr: -1\n", "training.lr -1 out of range"),
        ("training:\n  drop_last: 1\n", "training.drop_last must be true/false"),
        ("model:\n  filterz: 3\n", "unknown option 'model.filterz'"),
        ("model:\n  dropout: 1.5\n", "model.dropout 1.5 out of range"),
        ("optimiser: sgd\n", "unknown top-level key(s) optimiser"),
        ("- a\n- b\n", "expected a mapping"),
        ("training: [1\n", "not valid YAML"),
        ("preset: fast\n", "unknown preset 'fast'"),
    ],
)
def test_config_errors_name_the_key(tmp_path, yaml_text, message):
    path = tmp_path / "c.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ChromoflowError, match=re.escape(message)):
        resolve_config("deepchrome", str(path))


def test_config_errors_on_the_command_line(sim_datasets, tmp_path):
    base = [
        "train",
        "--dataset",
        sim_datasets["cellA"],
        "--model",
        "deepchrome",
        "--task",
        "classification",
        "--fold",
        1,
    ]
    for extra, message in (
        (["--seed", -1], "-1 is not in the range x>=0"),
        (["--epochs", 0], "0 is not in the range x>=1"),
        (["--batch-size", 0], "0 is not in the range x>=1"),
    ):
        res = run(*base, *extra, "-o", tmp_path / "x")
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert not (tmp_path / "x").exists()
    ok = tmp_path / "ok.yaml"
    ok.write_text("preset: official\ntraining:\n  epochs: 2\n  grad_clip: 0.5\n")
    cfg = resolve_config("deepchrome", str(ok))
    assert (cfg.training.optimizer, cfg.training.epochs, cfg.training.grad_clip) == ("sgd", 2, 0.5)


# ------------------------------------------------------------------ honest runs


def test_resume_refuses_other_data_at_the_same_path(sim_datasets, tmp_path):
    import shutil

    ds = tmp_path / "data.h5"
    shutil.copy(sim_datasets["cellA"], ds)
    out = tmp_path / "run"

    def stop(trainer):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(ds, "deepchrome", "classification", FOLD, out, config="tiny", epochs=2, on_epoch=stop)
    shutil.copy(sim_datasets["cellB"], ds)  # same path, other content
    with pytest.raises(ChromoflowError, match="made from a different dataset"):
        train(ds, "deepchrome", "classification", FOLD, out, config="tiny", epochs=2, resume=True)
    with pytest.raises(ChromoflowError, match="made from a different fold"):
        shutil.copy(sim_datasets["cellA"], ds)
        train(ds, "deepchrome", "classification", 2, out, config="tiny", epochs=2, resume=True)


def test_small_validation_split_keeps_last_epoch_and_json_has_no_nan(demo, tmp_path, caplog):
    """The 19 real demo genes in 3 random folds: a 1-gene validation split cannot rank epochs."""
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    tracks = [a for m in OFFICIAL_MARKS for a in ("--track", f"{m}={demo / f'E003-{m}.bw'}")]
    ds = tmp_path / "E003.h5"
    assert (
        run(
            "dataset",
            "--sample",
            "E003",
            "--genes",
            tmp_path / "genes.tsv",
            *tracks,
            "--expression",
            demo / "expression.tsv",
            "--folds",
            "random:3",
            "-o",
            ds,
        ).exit_code
        == 0
    )
    with caplog.at_level("WARNING", logger="chromoflow"):
        m = train(
            ds, "chromoformer", "classification", 1, tmp_path / "r", config="tiny", epochs=3, batch_size=2, seed=1
        )
    assert "keeping the last epoch" in caplog.text
    assert m["selected_epoch"] == m["epochs_run"] == 3 and m["selection"] == "last"
    text = (tmp_path / "r" / "metrics.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text)


def test_attentivechrome_has_one_logit_and_bce(trained):
    ck = torch.load(trained[("attentivechrome", "classification")] / "model.pt", weights_only=True)
    assert ck["state_dict"]["head.weight"].shape == (1, 16) and ck["model_config"]["n_out"] == 1


def test_model_file_lists_trained_genes_and_predict_marks_heldout(trained, sim_datasets, tmp_path):
    out = trained[("deepchrome", "classification")]
    ck = torch.load(out / "model.pt", weights_only=True)
    ds = GeneDataset.load(sim_datasets["cellA"])
    pool = set(ds.genes.gene_id[(ds.genes.fold != FOLD) & (ds.genes.fold > 0)])
    assert set(ck["trained_genes"]) == pool
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellB"],
        "--checkpoint",
        out / "model.pt",
        "--info",
        tmp_path / "i.json",
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 0, res.output
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert len(pred) == len(ds) and (pred.heldout == (~pred.gene_id.isin(pool)).astype(int)).all()
    info = json.loads((tmp_path / "i.json").read_text())
    assert (info["model"], info["task"], info["fold"], info["trained_on"], info["source"]) == (
        "deepchrome",
        "classification",
        FOLD,
        "cellA",
        "chromoflow",
    )
    assert info["n_heldout"] == int((pred.heldout == 1).sum())


def test_summary_scores_only_heldout_genes(trained, sim_datasets, tmp_path):
    """A checkpoint applied to every gene: the summary's metric is the held-out fold's, not the training genes'."""
    from chromoflow.evaluate.summary import summarize

    out = trained[("deepchrome", "classification")]
    assert (
        run(
            "predict",
            "--dataset",
            sim_datasets["cellA"],
            "--checkpoint",
            out / "model.pt",
            "--info",
            tmp_path / "i.json",
            "-o",
            tmp_path / "all.tsv",
        ).exit_code
        == 0
    )
    pred = pd.read_csv(tmp_path / "all.tsv", sep="\t")
    unknown = pred.drop(columns="heldout")
    unknown["heldout"] = ""
    unknown.to_csv(tmp_path / "unknown.tsv", sep="\t", index=False)
    (tmp_path / "manifest.tsv").write_text(
        "sample\ttask\tmodel\tfold\tpredictions\tinfo\n"
        "cellA\tauto\tauto\tauto\tall.tsv\ti.json\n"
        "cellA\tauto\tmystery\t\tunknown.tsv\t\n"
    )
    table = summarize(tmp_path / "manifest.tsv", tmp_path / "summary")
    first, second = table.iloc[0], table.iloc[1]
    held = pred[pred.heldout == 1]
    assert (first.status, first.model, str(first.fold), first.n) == ("scored", "deepchrome", str(FOLD), len(held))
    assert first.roc_auc == pytest.approx(roc_auc(held.label, held.prediction))
    assert first.roc_auc != pytest.approx(roc_auc(pred.label, pred.prediction))  # every gene would say otherwise
    assert (second.status, second.n) == ("unscored", 0) and np.isnan(second.roc_auc)
    by_model = pd.read_csv(tmp_path / "summary" / "metrics_by_model.tsv", sep="\t")
    assert by_model.model.tolist() == ["deepchrome"]


def test_official_checkpoint_fold_from_its_name(demo_dataset, tmp_path):
    official = official_model("classifier", seed=4)
    save_official(tmp_path / "chromoformer-reproduction-E003-conf1-fold3.pt", official.state_dict())
    res = run(
        "predict",
        "--dataset",
        demo_dataset,
        "--checkpoint",
        tmp_path / "chromoformer-reproduction-E003-conf1-fold3.pt",
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 0 and "published fold 3 (from its file name)" in res.output
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    assert (pred.heldout == 0).all()  # chr1, chr8, chr14 are not in fold 3
    save_official(tmp_path / "weights.pt", official.state_dict())
    res = run(
        "predict",
        "--dataset",
        demo_dataset,
        "--checkpoint",
        tmp_path / "weights.pt",
        "--heldout-fold",
        1,
        "-o",
        tmp_path / "q.tsv",
    )
    assert res.exit_code == 0
    assert (pd.read_csv(tmp_path / "q.tsv", sep="\t").heldout == 1).all()  # chr1, chr8, chr14: fold 1
    res = run("predict", "--dataset", demo_dataset, "--checkpoint", tmp_path / "weights.pt", "-o", tmp_path / "r.tsv")
    assert res.exit_code == 0 and "not scored" in res.output
    assert pd.read_csv(tmp_path / "r.tsv", sep="\t").heldout.isna().all()


def test_predictions_as_browser_tracks(trained, sim_datasets, tmp_path):
    out = trained[("chromoformer", "regression")]
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        out / "model.pt",
        "--fold",
        FOLD,
        "--bed",
        tmp_path / "p.bed",
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 0, res.output
    assert (
        run(
            "predict",
            "--dataset",
            sim_datasets["cellA"],
            "--checkpoint",
            out / "model.pt",
            "--fold",
            FOLD,
            "--bed",
            tmp_path / "p.bedgraph",
            "-o",
            tmp_path / "q.tsv",
        ).exit_code
        == 0
    )
    pred = pd.read_csv(tmp_path / "p.tsv", sep="\t").set_index("gene_id")
    bed = pd.read_csv(
        tmp_path / "p.bed",
        sep="\t",
        header=None,
        names=["chrom", "start", "end", "name", "score", "strand", "prediction", "gene_name"],
    )
    assert len(bed) == len(pred) and (bed.end - bed.start == 1).all() and bed.score.between(0, 1000).all()
    assert (bed.start.to_numpy() == pred.loc[bed.name, "tss"].to_numpy()).all()
    np.testing.assert_allclose(bed.prediction, pred.loc[bed.name, "prediction"], rtol=1e-5)
    assert bed.score.iat[int(bed.prediction.argmax())] == 1000 and bed.score.iat[int(bed.prediction.argmin())] == 0
    graph = pd.read_csv(tmp_path / "p.bedgraph", sep="\t", header=None)
    assert graph.shape == (len(pred), 4) and (graph.groupby(0)[1].apply(lambda s: s.is_monotonic_increasing)).all()


def test_several_folds_in_one_process_equal_separate_runs(sim_datasets, tmp_path):
    together = train(
        sim_datasets["cellA"], "chromoformer", "regression", "2,3", tmp_path / "both", config="tiny", epochs=2, seed=4
    )
    alone = train(
        sim_datasets["cellA"], "chromoformer", "regression", 3, tmp_path / "three", config="tiny", epochs=2, seed=4
    )
    assert [m["fold"] for m in together] == [2, 3]
    # The same result up to float rounding (BLAS kernels may round differently on other memory alignments).
    for key, value in alone["heldout"].items():
        assert together[1]["heldout"][key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    a = torch.load(tmp_path / "both" / "fold3" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "three" / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    for k in (2, 3):
        assert (tmp_path / "both" / f"fold{k}" / "heldout.tsv").exists() and (
            tmp_path / "both" / f"fold{k}" / "checkpoint.pt"
        ).exists()
    with pytest.raises(ChromoflowError, match="fold 9 has no genes"):
        train(sim_datasets["cellA"], "deepchrome", "classification", "1,9", tmp_path / "bad", config="tiny", epochs=1)
    assert not (tmp_path / "bad").exists()  # every fold is checked before anything is written


def test_compile_falls_back_to_eager_when_the_compiler_fails(sim_datasets, tmp_path, monkeypatch, caplog):
    def broken(model, **kwargs):
        def run(*args, **kw):
            raise RuntimeError("no C++ compiler here")

        return run

    monkeypatch.setattr(torch, "compile", broken)
    with caplog.at_level("WARNING", logger="chromoflow"):
        m = train(
            sim_datasets["cellA"],
            "deepchrome",
            "classification",
            FOLD,
            tmp_path / "r",
            config="tiny",
            epochs=1,
            compile="on",
        )
    assert "torch.compile failed (RuntimeError: no C++ compiler here); running eagerly" in caplog.text
    assert m["compiled"] is False and m["heldout"]["roc_auc"] > 0.5


def test_device_resident_batches_equal_host_batches(sim_datasets, tmp_path):
    """The GPU path's resident dataset (here on the CPU): the same batches, the same training."""
    ds = GeneDataset.load(sim_datasets["cellA"])
    from chromoflow.data.task_data import TaskData
    from chromoflow.models.base import ModelInputs

    host, resident = TaskData("regression", ds), TaskData("regression", GeneDataset.load(sim_datasets["cellA"]))
    assert resident.make_resident(torch.device("cpu"), [2000, 500, 100], force=True)
    inputs = ModelInputs(bin_sizes=(2000, 500, 100), pcres=True)
    pos = np.arange(0, len(ds), 7)
    for (_, a, _, ta), (_, b, _, tb) in zip(
        host.stream(pos, 32, inputs, "cpu"), resident.stream(pos, 32, inputs, "cpu")
    ):
        assert torch.equal(ta, tb) and b.promoter_source is None and b.pcre_bin_source is None
        for key in ("promoter", "pcre_bins"):
            x, y = getattr(a, key), getattr(b, key)
            assert set(x) == set(y) == {2000, 500, 100} and all(torch.equal(x[r], y[r]) for r in x)
        assert torch.equal(a.pcre_slots, b.pcre_slots) and torch.equal(a.pcre_bin_pos[100], b.pcre_bin_pos[100])
    m1 = train(
        sim_datasets["cellA"],
        "chromoformer",
        "regression",
        FOLD,
        tmp_path / "host",
        config="tiny",
        epochs=1,
        seed=2,
        resident="off",
    )
    m2 = train(
        sim_datasets["cellA"],
        "chromoformer",
        "regression",
        FOLD,
        tmp_path / "dev",
        config="tiny",
        epochs=1,
        seed=2,
        resident="on",
    )
    assert m1["heldout"]["pearson_r"] == pytest.approx(m2["heldout"]["pearson_r"], abs=1e-6)


def test_bf16_training_learns_as_fp32_does(sim_datasets, tmp_path):
    """The GPU's mixed precision, on the CPU: bf16 autocast trains to the same held-out quality as fp32."""
    fp32 = train(
        sim_datasets["cellA"],
        "chromoformer",
        "regression",
        FOLD,
        tmp_path / "fp32",
        config="tiny",
        epochs=4,
        seed=1,
        precision="fp32",
    )
    bf16 = train(
        sim_datasets["cellA"],
        "chromoformer",
        "regression",
        FOLD,
        tmp_path / "bf16",
        config="tiny",
        epochs=4,
        seed=1,
        precision="bf16",
    )
    assert fp32["precision"] == "fp32" and bf16["precision"] == "bf16"
    assert bf16["heldout"]["pearson_r"] > 0.5
    assert bf16["heldout"]["pearson_r"] == pytest.approx(fp32["heldout"]["pearson_r"], abs=0.05)
    assert bf16["heldout"]["pearson_r"] != fp32["heldout"]["pearson_r"]  # it really ran in bf16
    out = tmp_path / "pred.tsv"
    predict(sim_datasets["cellA"], tmp_path / "bf16" / "model.pt", out, precision="bf16", fold=FOLD)
    pred = pd.read_csv(out, sep="\t")
    heldout = pd.read_csv(tmp_path / "bf16" / "heldout.tsv", sep="\t")
    assert np.allclose(pred.prediction.to_numpy(), heldout.prediction.to_numpy(), atol=1e-4)
    with pytest.raises(ChromoflowError, match="--precision 'fp16'"):
        train(
            sim_datasets["cellA"],
            "deepchrome",
            "classification",
            FOLD,
            tmp_path / "x",
            config="tiny",
            epochs=1,
            precision="fp16",
        )


def test_multiqc_custom_content_carries_the_summary():
    """The _mqc files: YAML headers MultiQC reads, and the numbers of metrics_by_model (fold means), row by row."""
    import yaml

    from chromoflow.evaluate.multiqc import general_stats, metrics_table

    by_model = pd.DataFrame(
        {
            "sample": ["cellA", "cellA", "cellB", "cellA"],
            "task": ["classification", "classification", "classification", "fold-change"],
            "model": ["chromoformer", "deepchrome", "chromoformer", "chromoformer"],
            "roc_auc_mean": [0.91, 0.8, 0.85, np.nan],
            "pearson_r_mean": [np.nan, np.nan, np.nan, 0.42],
            "folds": [4, 4, 4, 4],
        }
    )
    text = general_stats(by_model)
    header = yaml.safe_load("\n".join(line[2:] for line in text.splitlines() if line.startswith("# ")))
    assert header["plot_type"] == "generalstats" and header["id"] == "chromoflow_general_stats"
    columns = {k: v for item in header["pconfig"] for k, v in item.items()}
    assert (
        columns["classification_chromoformer_roc_auc"]["min"] == 0.5
        and columns["fold_change_chromoformer_pearson_r"]["min"] == -1.0
    )
    table = pd.read_csv(io.StringIO(text), sep="\t", comment="#", index_col=0)
    assert table.loc["cellA", "classification_chromoformer_roc_auc"] == pytest.approx(0.91)
    assert table.loc["cellB", "classification_chromoformer_roc_auc"] == pytest.approx(0.85)
    assert np.isnan(table.loc["cellB", "classification_deepchrome_roc_auc"]) and table.loc[
        "cellA", "fold_change_chromoformer_pearson_r"
    ] == pytest.approx(0.42)
    section = metrics_table(by_model)
    meta = yaml.safe_load("\n".join(line[2:] for line in section.splitlines() if line.startswith("# ")))
    assert meta["plot_type"] == "table" and meta["section_name"] == "chromoflow: held-out metrics"
    rows = pd.read_csv(io.StringIO(section), sep="\t", comment="#")
    assert rows["Run"].tolist()[0] == "cellA · classification · chromoformer" and rows["roc_auc_mean"].iloc[
        0
    ] == pytest.approx(0.91)
    assert general_stats(by_model.iloc[0:0]) == "" and metrics_table(by_model.iloc[0:0]) == ""
