"""In-silico perturbation, enhancer-gene links and attribution tracks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import run

from chromoflow.data.dataset import GeneDataset
from chromoflow.interpret.perturb import Perturber, Plan
from chromoflow.models.checkpoint import load_model
from chromoflow.training.train import train

FOLD = 3


@pytest.fixture(scope="module")
def models(sim_datasets, tmp_path_factory):
    base = tmp_path_factory.mktemp("interp")
    out = {}
    for model, task, epochs in (("chromoformer", "regression", 6), ("deepchrome", "classification", 3)):
        d = base / f"{model}-{task}"
        train(sim_datasets["cellA"], model, task, FOLD, d, config="tiny", epochs=epochs, seed=1)
        out[model] = d / "model.pt"
    return out


def perturber(models, sim_datasets, name="chromoformer", batch_size=512):
    model, info = load_model(models[name])
    ds = GeneDataset.load(sim_datasets["cellA"])
    return Perturber(model, info, ds, torch.device("cpu"), batch_size=batch_size), ds


def test_no_op_perturbation_is_exactly_zero(models, sim_datasets):
    p, ds = perturber(models, sim_datasets)
    genes = np.flatnonzero(ds.genes.fold.to_numpy() == FOLD)[:40]
    effects = p.run(genes, Plan(knockout=False, silence_marks=tuple(range(7)), factor=1.0))
    assert len(effects) > 40 * 7 and (effects.delta == 0).all()
    same = Perturber(p.model, p.info, ds, torch.device("cpu")).run(genes, Plan(knockout=False, swap=ds))
    assert len(same) and (same.delta == 0).all()  # swapping in the sample's own features changes nothing


def test_only_inputs_left_unchanged_count_as_unedited(models, sim_datasets):
    """The no-op shortcut (effect exactly 0 without a forward pass) never swallows a real edit."""
    p, ds = perturber(models, sim_datasets)
    idx = np.flatnonzero((ds.genes.fold.to_numpy() == FOLD) & (ds.genes.pcre_count.to_numpy() >= 2))[:3]
    counts = ds.genes.pcre_count.to_numpy()[idx]
    for plan, edited in (
        (Plan(knockout=True, silence_marks=(), factor=1.0), True),  # every knockout removes a pCRE
        (Plan(knockout=False, silence_marks=(0, 4), silence_at=("promoter", "pcres"), factor=1.0), False),
        (Plan(knockout=False, silence_marks=(4,), silence_at=("pcres",), factor=0.5), True),  # pCRE bins only
        (Plan(knockout=False, silence_marks=(1,), silence_at=("promoter",), factor=0.0), True),
    ):
        per_gene = p.variants(plan, counts)
        _, _, v_gene, unedited = p.build(idx, per_gene, plan)
        first = np.searchsorted(v_gene, np.arange(len(idx)))
        assert unedited[first].all()
        others = np.setdiff1d(np.arange(len(v_gene)), first)
        # A mark absent from a pCRE (all-zero bins) stays zero when silenced: only then is it unedited.
        assert (~unedited[others]).all() if edited and plan.silence_at != ("pcres",) else True
        if not edited:
            assert unedited.all()
    # pCRE silencing of a mark the pCRE carries is an edit, and shows as one.
    plan = Plan(knockout=False, silence_marks=(4,), silence_at=("pcres",), factor=0.0)
    _, _, v_gene, unedited = p.build(idx, p.variants(plan, counts), plan)
    effects = p.run(idx, plan)
    assert (~unedited).sum() == (effects.delta != 0).sum() > 0


def test_knocking_out_the_only_pcre_equals_no_pcres(models, demo_dataset):
    """On the real demo genes, one of which has a single pCRE."""
    model, info = load_model(models["chromoformer"])
    ds = GeneDataset.load(demo_dataset)
    p = Perturber(model, info, ds, torch.device("cpu"))
    g = np.flatnonzero(ds.genes.pcre_count.to_numpy() == 1)
    assert len(g) >= 1
    effects = p.run(g, Plan(knockout=True))
    ko = effects[effects.kind == "knockout"].set_index("gene_id")
    batch = ds.batch(g, pcres=False).to("cpu")
    with torch.no_grad():
        alone = p.model(batch)[:, 0].numpy()
    np.testing.assert_allclose(ko.loc[ds.genes.gene_id.to_numpy()[g], "perturbed"], alone, atol=1e-5)


def test_one_gene_never_changes_another(models, sim_datasets):
    p, ds = perturber(models, sim_datasets, batch_size=64)
    genes = np.flatnonzero(ds.genes.fold.to_numpy() == FOLD)[:30]
    plan = Plan(knockout=True, silence_marks=(5,), factor=0.0)
    together = p.run(genes, plan).reset_index(drop=True)
    alone = pd.concat([p.run(np.array([g]), plan) for g in genes[:5]], ignore_index=True)
    np.testing.assert_allclose(together.iloc[: len(alone)].delta.to_numpy(), alone.delta.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(together.iloc[: len(alone)].baseline.to_numpy(), alone.baseline.to_numpy(), atol=1e-6)


def test_silencing_everything_at_the_promoter_equals_a_zero_window(models, sim_datasets):
    p, ds = perturber(models, sim_datasets)
    genes = np.flatnonzero(ds.genes.fold.to_numpy() == FOLD)[:10]
    effects = p.run(genes, Plan(knockout=False, silence_marks=tuple(range(7)), silence_at=("promoter",), factor=0.0))
    assert set(effects.region) == {"promoter"} and effects.groupby("gene_id").size().eq(7).all()
    # Half the depth: between nothing and silenced, for the activating marks of active genes.
    half = p.run(genes, Plan(knockout=False, silence_marks=(1,), silence_at=("promoter",), factor=0.5))
    zero = effects[effects.mark == "H3K4me3"].set_index("gene_id").delta
    assert (np.sign(half.set_index("gene_id").delta) == np.sign(zero)).mean() >= 0.7


def test_regions_edit_only_genes_they_touch(models, sim_datasets, tmp_path):
    p, ds = perturber(models, sim_datasets)
    g = int(np.flatnonzero(ds.genes.fold.to_numpy() == FOLD)[0])
    chrom, tss = ds.genes.chrom.iat[g], int(ds.genes.tss.iat[g])
    edits = tmp_path / "edits.bed"
    edits.write_text(f"{chrom}\t{tss - 20000}\t{tss + 20000}\tH3K4me3\t0\n")
    genes = np.flatnonzero(ds.genes.fold.to_numpy() == FOLD)[:12]
    res = run(
        "perturb",
        "--dataset",
        ds.path,
        "--checkpoint",
        models["chromoformer"],
        "--fold",
        FOLD,
        "--genes",
        ",".join(ds.genes.gene_id.to_numpy()[genes]),
        "--no-knockout",
        "--regions",
        edits,
        "-o",
        tmp_path / "e.tsv",
    )
    assert res.exit_code == 0, res.output
    e = pd.read_csv(tmp_path / "e.tsv", sep="\t").set_index("gene_id")
    assert (e.kind == "regions").all()
    touched = e.loc[ds.genes.gene_id.iat[g], "delta"]
    silenced = p.run(
        np.array([g]), Plan(knockout=False, silence_marks=(1,), silence_at=("promoter",), factor=0.0)
    ).delta.iat[0]
    assert touched == pytest.approx(silenced, abs=1e-5)  # the edit covers exactly the promoter window
    # Every gene whose promoter window and pCREs miss the edited region keeps its prediction exactly.
    touches = set()
    for k in genes:
        gid, c, t = ds.genes.gene_id.iat[k], ds.genes.chrom.iat[k], int(ds.genes.tss.iat[k])
        rows = slice(int(ds.genes.pcre_offset.iat[k]), int(ds.genes.pcre_offset.iat[k] + ds.genes.pcre_count.iat[k]))
        pc = ds.pcres.iloc[rows]
        if (c == chrom and abs(t - tss) < 40_000) or (
            (pc.chrom == chrom) & (pc.start < tss + 20_000) & (pc.end > tss - 20_000)
        ).any():
            touches.add(gid)
    untouched = e.drop(index=list(touches))
    assert len(untouched) >= 5 and (untouched.delta == 0).all()


def test_links_interact_and_tracks(models, sim_datasets, tmp_path):
    res = run(
        "perturb",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        models["chromoformer"],
        "--fold",
        FOLD,
        "--silence",
        "H3K27ac",
        "--links",
        tmp_path / "links.bedpe",
        "--interact",
        tmp_path / "links.interact",
        "--tracks",
        tmp_path / "tracks",
        "-o",
        tmp_path / "effects.tsv",
    )
    assert res.exit_code == 0, res.output
    effects = pd.read_csv(tmp_path / "effects.tsv", sep="\t")
    ds = GeneDataset.load(sim_datasets["cellA"])
    held = ds.genes[ds.genes.fold == FOLD]
    assert set(effects.kind) == {"knockout", "silence"} and set(effects.gene_id) == set(held.gene_id)
    counts = held.set_index("gene_id").pcre_count
    ko = effects[effects.kind == "knockout"].groupby("gene_id").size()
    assert ko.to_dict() == counts[counts > 0].to_dict()
    links = pd.read_csv(tmp_path / "links.bedpe", sep="\t")
    assert links.columns[0] == "#chrom1" and len(links) == int(held.pcre_count.sum())
    assert (links.groupby("name")["rank"].min() == 1).all() and links.attention.between(0, 1).all()
    first = links[links["rank"] == 1].set_index("name")
    assert (first.effect >= links.groupby("name").effect.max() - 1e-12).all()  # rank 1 = largest effect
    interact = (tmp_path / "links.interact").read_text().splitlines()
    assert interact[0].startswith("track type=interact") and len(interact) == len(links) + 1
    assert all(len(line.split("\t")) == 18 for line in interact[1:])
    profile = pd.read_csv(tmp_path / "tracks" / "attribution_profile.tsv", sep="\t")
    assert len(profile) == 400 and set(ds.marks) <= set(profile.columns)
    import pyBigWig

    bw = pyBigWig.open(str(tmp_path / "tracks" / "attribution.H3K36me3.bw"))
    g = held.iloc[0]
    assert bw.stats(g.chrom, int(g.tss) - 20_000, int(g.tss) + 20_000, type="coverage")[0] > 0.9
    bw.close()


def test_baselines_can_be_silenced_but_not_knocked_out(models, sim_datasets, tmp_path):
    res = run(
        "perturb",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        models["deepchrome"],
        "--fold",
        FOLD,
        "--silence",
        "all",
        "-o",
        tmp_path / "e.tsv",
    )
    assert res.exit_code == 0, res.output
    e = pd.read_csv(tmp_path / "e.tsv", sep="\t")
    assert set(e.kind) == {"silence"} and set(e.region) == {"promoter"} and e.perturbed.between(0, 1).all()
    res = run(
        "perturb",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        models["deepchrome"],
        "--links",
        tmp_path / "l.bedpe",
        "-o",
        tmp_path / "x.tsv",
    )
    assert res.exit_code == 1 and "has no pCREs to knock out" in res.output and not (tmp_path / "x.tsv").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--silence", "H3K99me9"], "--silence 'H3K99me9': unknown mark"),
        (["--factor", "-1", "--silence", "H3K4me3"], "--factor -1.0: must be a finite number >= 0"),
        (["--genes", "NOPE"], "--genes: 1 of 1 genes are not in"),
        (["--fold", "9"], "fold 9 has no genes"),
    ],
)
def test_perturb_bad_input(models, sim_datasets, tmp_path, extra, message):
    res = run(
        "perturb",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        models["chromoformer"],
        *extra,
        "-o",
        tmp_path / "e.tsv",
    )
    assert res.exit_code == 1 and message in res.output, res.output
    assert not list(tmp_path.iterdir())


def test_perturb_bad_regions(models, sim_datasets, tmp_path):
    for text, message in (
        ("chrZZ\t1\t100\tH3K4me3\t0\n", "chromosome 'chrZZ' is not in the dataset"),
        ("chr1\t1\t100\tH3K4me3\t-2\n", "factor must be a finite number >= 0"),
        ("chr1\t1\t100\tK4\t0\n", "unknown mark 'K4'"),
    ):
        (tmp_path / "r.bed").write_text(text)
        res = run(
            "perturb",
            "--dataset",
            sim_datasets["cellA"],
            "--checkpoint",
            models["chromoformer"],
            "--regions",
            tmp_path / "r.bed",
            "-o",
            tmp_path / "e.tsv",
        )
        assert res.exit_code == 1 and "r.bed line 1" in res.output and message in res.output, res.output
        assert not (tmp_path / "e.tsv").exists()


# ------------------------------------------------------------------ seams: positions, grids, precision, outputs


@pytest.fixture(scope="module")
def fold_change(sim, sim_datasets, tmp_path_factory):
    """A fold-change model of cellA vs cellB, and cellB rebuilt without its first gene (not in the held-out fold)."""
    from conftest import track_args

    base = tmp_path_factory.mktemp("fc")
    train(
        sim_datasets["cellA"],
        "chromoformer",
        "fold-change",
        FOLD,
        base / "run",
        config="tiny",
        epochs=2,
        seed=1,
        reference=sim_datasets["cellB"],
    )
    genes = pd.read_csv(sim_datasets["genes"], sep="\t", dtype=str)
    ds = GeneDataset.load(sim_datasets["cellA"])
    gone = next(k for k in range(len(ds)) if ds.genes.fold.iat[k] != FOLD)
    assert gone < int(np.flatnonzero(ds.genes.fold.to_numpy() == FOLD)[0])  # every held-out gene sits after it
    genes.drop(index=gone).to_csv(base / "genes.tsv", sep="\t", index=False)
    res = run(
        "dataset",
        "--sample",
        "cellB",
        "--genes",
        base / "genes.tsv",
        "--pcres",
        sim_datasets["pcres"],
        *track_args(sim, "cellB"),
        "--expression",
        sim / "expression.tsv",
        "-j",
        1,
        "-o",
        base / "cellB-1.h5",
    )
    assert res.exit_code == 0, res.output
    return base / "run" / "model.pt", base / "cellB-1.h5"


def test_fold_change_results_of_a_gene_do_not_depend_on_other_genes(fold_change, sim_datasets, tmp_path):
    """The same held-out genes perturbed against a reference with and without an unrelated gene: effects, link
    attention and attribution tracks are identical, gene by gene."""
    import pyBigWig

    checkpoint, partial = fold_change
    outs = {}
    for name, reference in (("full", sim_datasets["cellB"]), ("partial", partial)):
        d = tmp_path / name
        d.mkdir()
        res = run(
            "perturb",
            "--dataset",
            sim_datasets["cellA"],
            "--checkpoint",
            checkpoint,
            "--reference",
            reference,
            "--fold",
            FOLD,
            "--links",
            d / "links.bedpe",
            "--tracks",
            d / "tracks",
            "-o",
            d / "effects.tsv",
        )
        assert res.exit_code == 0, res.output
        outs[name] = d
    for table in ("effects.tsv", "links.bedpe", "tracks/attribution_profile.tsv"):
        a, b = (pd.read_csv(outs[n] / table, sep="\t") for n in ("full", "partial"))
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-6, atol=1e-9)
    held = GeneDataset.load(sim_datasets["cellA"]).genes.query(f"fold == {FOLD}")
    bws = [pyBigWig.open(str(outs[n] / "tracks" / "attribution.H3K4me3.bw")) for n in ("full", "partial")]
    for g in held.head(10).itertuples():
        a, b = (np.nan_to_num(bw.values(g.chrom, g.tss - 20_000, g.tss + 20_000, numpy=True)) for bw in bws)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
        assert np.abs(a).sum() > 0
    for bw in bws:
        bw.close()


def test_fold_change_genes_missing_from_the_reference_are_left_out_with_a_warning(fold_change, sim_datasets, tmp_path):
    checkpoint, partial = fold_change
    ds = GeneDataset.load(sim_datasets["cellA"])
    gone = sorted(set(ds.genes.gene_id) - set(GeneDataset.load(partial).genes.gene_id))
    keep = ds.genes.gene_id[ds.genes.fold == FOLD].head(3).tolist()
    res = run(
        "perturb",
        "--dataset",
        ds.path,
        "--checkpoint",
        checkpoint,
        "--reference",
        partial,
        "--genes",
        ",".join(gone + keep),
        "-o",
        tmp_path / "e.tsv",
    )
    assert (
        res.exit_code == 0 and f"1 of the selected genes of {ds.path} are not in it (e.g. {gone[0]!r})" in res.output
    ), res.output
    assert set(pd.read_csv(tmp_path / "e.tsv", sep="\t").gene_id) == set(keep)


def test_attribution_follows_any_bin_layout(sim, sim_datasets, tmp_path):
    """A dataset binned at 2000/500/250 bp: attribution on a 250 bp grid, its totals equal gradient x input
    summed over every input bin, computed directly."""
    from conftest import track_args

    from chromoflow.models import objective

    ds_path = tmp_path / "cellA.h5"
    res = run(
        "dataset",
        "--sample",
        "cellA",
        "--genes",
        sim_datasets["genes"],
        "--pcres",
        sim_datasets["pcres"],
        *track_args(sim, "cellA"),
        "--expression",
        sim / "expression.tsv",
        "--bin-sizes",
        "2000,500,250",
        "-j",
        1,
        "-o",
        ds_path,
    )
    assert res.exit_code == 0, res.output
    train(ds_path, "chromoformer", "regression", FOLD, tmp_path / "run", config="tiny", epochs=1, seed=1)
    ds = GeneDataset.load(ds_path)
    genes = ds.genes.gene_id[ds.genes.fold == FOLD].head(6).tolist()
    res = run(
        "perturb",
        "--dataset",
        ds_path,
        "--checkpoint",
        tmp_path / "run" / "model.pt",
        "--genes",
        ",".join(genes),
        "--tracks",
        tmp_path / "tracks",
        "-o",
        tmp_path / "e.tsv",
    )
    assert res.exit_code == 0, res.output
    profile = pd.read_csv(tmp_path / "tracks" / "attribution_profile.tsv", sep="\t")
    assert len(profile) == 160 and np.diff(profile.position).tolist() == [250] * 159 and profile.position.iat[80] == 0
    model, _ = load_model(tmp_path / "run" / "model.pt")
    idx = np.flatnonzero(ds.genes.gene_id.isin(genes).to_numpy())
    batch = ds.batch(idx).to("cpu")
    for b in ds.bin_sizes:
        batch.promoter[b].requires_grad_(True)
    objective.prediction("regression", objective.outputs(model.eval(), "regression", batch, None)).sum().backward()
    total = sum((batch.promoter[b].grad * batch.promoter[b]).sum((0, 1)).detach().numpy() for b in ds.bin_sizes) / len(
        idx
    )
    np.testing.assert_allclose(profile[ds.marks].sum().to_numpy(), total, rtol=1e-4, atol=1e-7)


def test_perturb_precision_defaults_to_fp32(models, sim_datasets, tmp_path):
    base = ["perturb", "--dataset", sim_datasets["cellA"], "--checkpoint", models["chromoformer"], "--fold", FOLD]
    tables = {}
    for name, extra in (("default", []), ("fp32", ["--precision", "fp32"]), ("bf16", ["--precision", "bf16"])):
        assert run(*base, *extra, "-o", tmp_path / f"{name}.tsv").exit_code == 0
        tables[name] = pd.read_csv(tmp_path / f"{name}.tsv", sep="\t")
    pd.testing.assert_frame_equal(tables["default"], tables["fp32"])
    assert not np.array_equal(tables["bf16"].perturbed, tables["fp32"].perturbed)  # the option acts
    np.testing.assert_allclose(tables["bf16"].perturbed, tables["fp32"].perturbed, atol=0.05)


def test_perturb_writes_every_output_or_none(models, sim_datasets, tmp_path, monkeypatch):
    base = [
        "perturb",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        models["chromoformer"],
        "--fold",
        FOLD,
        "-o",
        tmp_path / "e.tsv",
    ]
    (tmp_path / "a-file").write_text("x")
    for extra, message in (
        (["--links", tmp_path / "no" / "l.bedpe"], "output folder"),
        (["--tracks", tmp_path / "a-file" / "t"], "is not a folder"),
    ):
        res = run(*base, *extra)
        assert res.exit_code == 1 and message in res.output, res.output
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    from chromoflow.errors import ChromoflowError
    from chromoflow.prep import bigwig

    written = []

    def fail_on_the_third(
        path, chroms, bases, final=None
    ):  # a bigWig that does not write completely (e.g. a full disk)
        written.append(path)
        if len(written) == 3:
            raise ChromoflowError(f"{path.name}: the bigWig did not write completely; is the disk full?")

    monkeypatch.setattr(bigwig, "_verify", fail_on_the_third)
    res = run(
        *base[:-2],
        "--links",
        tmp_path / "l.bedpe",
        "--interact",
        tmp_path / "l.interact",
        "--tracks",
        tmp_path / "tracks",
        "-o",
        tmp_path / "e.tsv",
    )
    assert res.exit_code == 1 and "did not write completely" in res.output and len(written) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no effects, links, tracks or temporary file


def test_predict_writes_every_output_or_none(models, sim_datasets, tmp_path):
    res = run(
        "predict",
        "--dataset",
        sim_datasets["cellA"],
        "--checkpoint",
        models["chromoformer"],
        "--attention",
        tmp_path / "no" / "a.bedpe",
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 1 and "output folder" in res.output and not list(tmp_path.iterdir())
