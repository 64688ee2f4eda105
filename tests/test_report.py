"""The report's sentences, tables and figures, computed on small tables whose answers are known by hand."""

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import run

from chromoflow.evaluate.metrics import average_precision, precision_recall_curve, roc_auc
from chromoflow.evaluate.report import gain_from_contacts, h3k36me3_downstream_ratio, planted_recovery, table


def metrics_frame(values: dict) -> pd.DataFrame:
    """{model: [headline metric per fold]} for one sample's classification runs."""
    return pd.DataFrame(
        [
            {
                "sample": "S",
                "task": "classification",
                "model": m,
                "fold": k + 1,
                "status": "scored",
                "roc_auc": v,
                "n": 10,
            }
            for m, vs in values.items()
            for k, v in enumerate(vs)
        ]
    )


@pytest.mark.parametrize(
    ("with_contacts", "without", "verdict", "better"),
    [
        ([0.80, 0.82, 0.84], [0.70, 0.72, 0.74], "helped", 3),
        ([0.71, 0.72, 0.69], [0.70, 0.71, 0.70], "helped a little", 2),  # +0.0033: above zero, below 0.02
        ([0.70, 0.70, 0.70], [0.71, 0.72, 0.69], "did not help", 1),
    ],
)
def test_gain_from_contacts_sentence(with_contacts, without, verdict, better):
    gain = gain_from_contacts(
        metrics_frame({"chromoformer": with_contacts, "chromoformer-nohic": without, "deepchrome": [0.6] * 3})
    )
    assert gain.measured and len(gain.sentences) == 1
    s = gain.sentences[0]
    assert (s.verdict, s.better, s.folds, s.metric) == (verdict, better, 3, "roc auc")
    assert s.gain == pytest.approx(np.mean(with_contacts) - np.mean(without))
    assert gain.table.columns == ["sample", "task", "metric", "with contacts", "without", "gain", "folds better"]
    assert gain.table.rows[0][-1] == f"{better} of 3"


def test_gain_needs_both_models_and_shared_folds():
    assert not gain_from_contacts(metrics_frame({"chromoformer": [0.8], "deepchrome": [0.7]})).measured
    frame = metrics_frame({"chromoformer": [0.8], "chromoformer-nohic": [0.7]})
    frame.loc[frame.model == "chromoformer-nohic", "fold"] = 2  # no fold in common
    gain = gain_from_contacts(frame)
    assert gain.measured and gain.sentences == [] and gain.table is None


def test_planted_recovery_counts_by_hand():
    links = pd.DataFrame(
        {
            "name": ["a", "a", "b", "b", "b", "c", "c", "d"],
            "start2": [100, 500, 100, 500, 900, 100, 500, 100],
            "end2": [200, 600, 200, 600, 1000, 200, 600, 200],
            "rank": [1, 2, 1, 2, 3, 1, 2, 1],
        }
    )
    planted = pd.DataFrame(
        {"gene": ["a", "b", "c", "c", "d"], "start": [150, 950, 120, 520, 100], "end": [160, 960, 130, 530, 200]}
    )
    r = planted_recovery(links, planted)
    # a: planted is rank 1 (hit, 1 of 2 planted); b: planted is rank 3 (miss, 1 of 3); c: all planted (skipped); d: one link (skipped)
    assert (r.hits, r.n) == (1, 2) and r.chance == pytest.approx(1 / 2 + 1 / 3)


def test_h3k36me3_ratio_and_table_text():
    pos = np.arange(-10_000, 10_000, 1000)
    prof = pd.DataFrame({"position": pos, "H3K36me3": np.where((pos >= 4000) & (pos < 6000), -3.0, 1.0)})
    assert h3k36me3_downstream_ratio(prof) == pytest.approx(3.0)
    assert h3k36me3_downstream_ratio(prof.drop(columns="H3K36me3")) is None
    t = table(pd.DataFrame({"model": ["m"], "r": [0.12345], "bad": [np.nan], "n": [3]}), digits=2, left=("model",))
    assert t.rows == [["m", "0.12", "", "3"]] and t.left == ("model",)


def test_average_precision_and_its_curve_agree_on_ties():
    """AP = mean over positives of the precision at their score's threshold (ties taken together), and the PR
    curve drawn in the report has exactly that area."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    p = np.round(rng.random(400), 1)  # many ties
    brute = np.mean([((p >= s) & (y == 1)).sum() / (p >= s).sum() for s in p[y == 1]])
    assert average_precision(y, p) == pytest.approx(brute, abs=1e-12)
    recall, precision = precision_recall_curve(y, p)
    assert np.sum(np.diff(np.r_[0.0, recall]) * precision) == pytest.approx(brute, abs=1e-12)
    pairs = [(a, b) for a in p[y == 1] for b in p[y == 0]]
    assert roc_auc(y, p) == pytest.approx(
        np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs]), abs=1e-12
    )


def write_inputs(folder):
    """A summarize folder (three models, two tasks), one interpretation folder, planted truth, run description."""
    rng = np.random.default_rng(0)
    (folder / "summary").mkdir(parents=True)
    (folder / "interp" / "tracks").mkdir(parents=True)
    rows = []
    for fold in (1, 2, 3):
        for model, base in (("chromoformer", 0.8), ("chromoformer-nohic", 0.7), ("deepchrome", 0.6)):
            rows.append(
                {
                    "sample": "cellA",
                    "task": "classification",
                    "model": model,
                    "fold": fold,
                    "status": "scored",
                    "roc_auc": base + 0.01 * fold,
                    "n": 50,
                }
            )
    rows.append(
        {
            "sample": "cellB",
            "task": "classification",
            "model": "chromoformer",
            "fold": 1,
            "status": "unscored",
            "roc_auc": np.nan,
            "n": 0,
        }
    )
    pd.DataFrame(rows).to_csv(folder / "summary" / "metrics.tsv", sep="\t", index=False)
    pred = [
        {
            "sample": "cellA",
            "task": "classification",
            "model": m,
            "gene_id": f"g{i}",
            "prediction": float(np.clip(0.5 + (i % 2 - 0.5) * 0.4 + rng.normal(0, 0.2), 0, 1)),
            "label": i % 2,
            "heldout": 1,
            "fold": 1 + i % 3,
        }
        for m in ("chromoformer", "chromoformer-nohic", "deepchrome")
        for i in range(60)
    ]
    pd.DataFrame(pred).to_csv(folder / "summary" / "predictions.tsv", sep="\t", index=False)
    pd.DataFrame({"gene_id": ["g1"], "kind": ["knockout"], "delta": [0.1]}).to_csv(
        folder / "interp" / "effects.tsv", sep="\t", index=False
    )
    links = [
        {
            "#chrom1": "chr1",
            "start1": 100_000 * g,
            "end1": 100_000 * g + 1,
            "chrom2": "chr1",
            "start2": 100_000 * g + 20_000 * r,
            "end2": 100_000 * g + 20_000 * r + 2000,
            "name": f"g{g}",
            "gene_name": f"G{g}",
            "rank": r,
            "effect": 0.1 / r,
            "interaction_score": 3.0 / r,
            "attention": 0.5 / r,
        }
        for g in range(12)
        for r in (1, 2, 3)
    ]
    pd.DataFrame(links).to_csv(folder / "interp" / "links.bedpe", sep="\t", index=False)
    pos = np.arange(-20_000, 20_000, 100)
    prof = pd.DataFrame(
        {
            "position": pos,
            "H3K4me3": np.exp(-np.abs(pos) / 2000),
            "H3K36me3": np.where((pos >= 4000) & (pos < 6000), 1.0, 0.1),
        }
    )
    prof.to_csv(folder / "interp" / "tracks" / "attribution_profile.tsv", sep="\t", index=False)
    (folder / "interp" / "run.json").write_text(
        json.dumps({"sample": "cellA", "task": "classification", "model": "chromoformer"})
    )
    truth = [
        f"chr1\t{100_000 * g}\t{100_000 * g + 1}\tchr1\t{100_000 * g + 20_000 * r}\t{100_000 * g + 20_000 * r + 2000}\tg{g}\t{5 if r == (1 if g < 9 else 2) else 1}\n"
        for g in range(12)
        for r in (1, 2)
    ]
    (folder / "truth.bedpe").write_text("".join(truth))
    (folder / "run.json").write_text(
        json.dumps(
            {
                "date": "2026-12-02",
                "chromoflow_version": "0.1.0",
                "samples": [{"sample": "cellA"}],
                "parameters": {"title": "<b>x</b>"},
            }
        )
    )


def test_report_page_says_what_the_tables_say(tmp_path):
    write_inputs(tmp_path)
    out = tmp_path / "report.html"
    res = run(
        "report",
        "--summary",
        tmp_path / "summary",
        "--interpretation",
        tmp_path / "interp",
        "--truth",
        tmp_path / "truth.bedpe",
        "--run-info",
        tmp_path / "run.json",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    page = out.read_text()
    text = re.sub(r"<[^>]+>", "", page)
    # chromoformer 0.82 vs 0.72 mean over three folds, better in all three
    assert (
        "In cellA (classification), 3D contacts helped: Chromoformer reached roc auc 0.820 with its pCREs and 0.720 without (+0.100, better in 3 of 3 held-out folds)."
        in text
    )
    assert "1 run(s) were not scored" in text
    # attention 0.5/r and effect 0.1/r rank the links alike
    assert (
        "The elements the model attends to are mostly the ones whose removal changes its prediction (Spearman ρ = 1.00 over 36 links)."
        in text
    )
    # planted enhancer at rank 1 for genes 0-8, rank 2 for 9-11, among three links: 9 of 12 hits; chance 1/3 each
    assert (
        "Planted enhancers recovered: for 75% of the 12 held-out genes" in text
        and "(picking a pCRE at random: 33%)" in text
    )
    assert "H3K36me3 attribution 4–6 kb downstream of the TSS is 10.0× its mean elsewhere" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page  # values from files are escaped
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 3  # ROC/PR curves, links figure, attribution profile (no metrics.png in this folder)
    for b64 in images:
        png = base64.b64decode(b64)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
