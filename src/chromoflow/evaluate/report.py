"""One self-contained HTML page per run: what ran, how well each model did, whether 3D contacts helped, and why.

``chromoflow report`` reads a ``summarize`` folder (metrics and held-out
predictions), optionally interpretation folders (``perturb`` effects, links,
attribution profiles) and a run description (JSON: samples, marks,
contacts, folds, parameters, versions, output locations), and writes one
HTML file with every figure embedded (PNG data URIs): it opens in a browser
with no server and no network.

Why not MultiQC: its custom-content sections show tables and plots of
numbers, but this report's point is a few sentences computed from the
results (the gain from contacts, the recovery of planted enhancers) next to
the figures that support them; a small template keeps that in one readable
page, with no extra dependency.
"""

from __future__ import annotations

import base64
import html
import io
import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_output
from ..errors import ChromoflowError
from .metrics import (
    HEADLINE,
    average_precision,
    pearson,
    precision_recall_curve,
    roc_auc,
    roc_curve,
    spearman,
)
from .plots import _pyplot

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2127;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff}
h1{font-size:26px;margin:8px 0 4px} h2{font-size:20px;margin:36px 0 8px;border-bottom:2px solid #e3e6ea;padding-bottom:4px}
h3{font-size:16px;margin:20px 0 6px} p,li{line-height:1.5;font-size:14.5px}
.lead{font-size:16px;background:#eef5ff;border-left:4px solid #2f6fde;padding:10px 14px;margin:12px 0}
.warn{background:#fff4e5;border-left-color:#e08a00}
table{border-collapse:collapse;font-size:13px;margin:8px 0 16px} th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:right}
th{background:#f0f2f5} td.l,th.l{text-align:left} tr:nth-child(even) td{background:#fafbfc}
img{max-width:100%;border:1px solid #e3e6ea;margin:6px 0} .grid{display:flex;flex-wrap:wrap;gap:12px} .grid img{max-width:520px}
code{background:#f0f2f5;padding:1px 4px;border-radius:3px;font-size:13px} .muted{color:#6b7480;font-size:13px}
nav a{margin-right:14px;font-size:14px}
"""


def _png(fig) -> str:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _table(frame: pd.DataFrame, digits: int = 3, left: tuple = ()) -> str:
    head = "".join(f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in frame.columns)
    rows = []
    for _, r in frame.iterrows():
        cells = []
        for c in frame.columns:
            v = r[c]
            text = "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else (f"{v:.{digits}f}" if isinstance(v, (float, np.floating)) else str(v))
            cells.append(f'<td class="{"l" if c in left else ""}">{html.escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


# ------------------------------------------------------------------ sections


def gain_from_contacts(metrics: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The sentence and table comparing chromoformer with chromoformer-nohic, fold by fold."""
    scored = metrics[metrics.get("status", "scored") == "scored"] if "status" in metrics else metrics
    have = set(scored["model"])
    if not {"chromoformer", "chromoformer-nohic"} <= have:
        return ("The gain from 3D contacts was not measured: add <code>chromoformer-nohic</code> to the models "
                "(the same model without pCREs) to see it.", pd.DataFrame())
    rows, sentences = [], []
    for (sample, task), sub in scored.groupby(["sample", "task"]):
        metric = HEADLINE[task]
        a = sub[sub.model == "chromoformer"].set_index("fold")[metric]
        b = sub[sub.model == "chromoformer-nohic"].set_index("fold")[metric]
        folds = sorted(set(a.index) & set(b.index), key=str)
        if not folds:
            continue
        diff = a.loc[folds] - b.loc[folds]
        better = int((diff > 0).sum())
        rows.append({"sample": sample, "task": task, "metric": metric, "with contacts": a.loc[folds].mean(), "without": b.loc[folds].mean(), "gain": diff.mean(), "folds better": f"{better} of {len(folds)}"})
        verdict = "helped" if diff.mean() > 0.02 and better > len(folds) / 2 else ("did not help" if diff.mean() <= 0 else "helped a little")
        sentences.append(
            f"In <b>{html.escape(str(sample))}</b> ({task}), 3D contacts <b>{verdict}</b>: Chromoformer reached "
            f"{metric.replace('_', ' ')} {a.loc[folds].mean():.3f} with its pCREs and {b.loc[folds].mean():.3f} without "
            f"({diff.mean():+.3f}, better in {better} of {len(folds)} held-out folds)."
        )
    return " ".join(sentences) or "No fold has both models scored.", pd.DataFrame(rows)


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    scored = metrics[metrics["status"] == "scored"] if "status" in metrics else metrics
    rows = []
    for (sample, task, model), sub in scored.groupby(["sample", "task", "model"]):
        metric = HEADLINE[task]
        v = sub[metric].astype(float)
        rows.append({"sample": sample, "task": task, "model": model, "metric": metric, "mean": v.mean(), "sd": v.std(), "min": v.min(), "max": v.max(), "folds": len(v), "genes": int(sub["n"].sum())})
    return pd.DataFrame(rows)


def curves(predictions: pd.DataFrame) -> list[str]:
    """ROC and precision-recall (classification) or predicted vs observed (regression) per sample and task, models overlaid."""
    plt = _pyplot()
    figs = []
    pred = predictions[predictions["heldout"] == 1] if "heldout" in predictions else predictions
    for (sample, task), sub in pred.groupby(["sample", "task"]):
        models = sorted(set(sub["model"]))
        if task == "classification" and "label" in sub:
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
            for m in models:
                s = sub[(sub.model == m) & sub.label.notna()]
                y, p = s.label.to_numpy(int), s.prediction.to_numpy(float)
                fpr, tpr = roc_curve(y, p)
                ax1.plot(fpr, tpr, lw=1.6, label=f"{m} (AUC {roc_auc(y, p):.3f})")
                recall, precision = precision_recall_curve(y, p)  # the steps whose area is the AP in the legend
                ax2.step(np.r_[0.0, recall], np.r_[precision[:1], precision], where="pre", lw=1.4, label=f"{m} (AP {average_precision(y, p):.3f})")
            ax1.plot([0, 1], [0, 1], ls="--", c="grey", lw=1, label="chance")
            ax1.set(xlabel="false positive rate", ylabel="true positive rate", title=f"{sample}: ROC, held-out genes, all folds")
            base = sub.label.mean()
            ax2.axhline(base, ls="--", c="grey", lw=1, label=f"chance ({base:.2f})")
            ax2.set(xlabel="recall", ylabel="precision", title=f"{sample}: precision-recall")
            for ax in (ax1, ax2):
                ax.legend(frameon=False, fontsize=7)
                ax.title.set_fontsize(9)
            figs.append((_png(fig), f"{sample} {task}"))
        elif "target" in sub:
            fig, axes = plt.subplots(1, len(models), figsize=(3.4 * len(models), 3.3), squeeze=False)
            for ax, m in zip(axes[0], models):
                s = sub[(sub.model == m) & sub.target.notna()]
                y, p = s.target.to_numpy(float), s.prediction.to_numpy(float)
                ax.scatter(y, p, s=5, alpha=0.5, lw=0)
                lo, hi = float(min(y.min(), p.min())), float(max(y.max(), p.max()))
                ax.plot([lo, hi], [lo, hi], ls="--", c="grey", lw=1)
                ax.set(xlabel="observed", ylabel="predicted", title=f"{m}\nr = {pearson(y, p):.3f}")
                ax.title.set_fontsize(9)
            fig.suptitle(f"{sample}, {task}: predicted vs observed, held-out genes, all folds", fontsize=10, y=1.08)
            figs.append((_png(fig), f"{sample} {task}"))
    return figs


def interpretation_sections(groups: dict, planted: pd.DataFrame | None) -> str:
    """One section per sample x task x model (see :func:`load_interpretations`): the folds' links together, their
    attribution profiles averaged."""
    from ..interpret.attribution import profile_plot

    parts = []
    for (sample, task, model), members in sorted(groups.items()):
        parts.append(f"<h3>{html.escape(' · '.join(x for x in (sample, task, model) if x))} ({len(members)} fold{'s' if len(members) > 1 else ''})</h3>")
        links = [m["links"] for m in members if m["links"] is not None]
        links = pd.concat(links, ignore_index=True) if links else pd.DataFrame()
        if len(links):
            parts.append(links_section(links, planted))
        profiles = [m["profile"] for m in members if m["profile"] is not None]
        if profiles:
            prof = pd.concat(profiles).groupby("position", sort=True).mean().reset_index()
            parts.append("<p>Where each mark matters along the promoter window (gradient × input, mean over the held-out genes of every fold, transcription direction; per-mark bigWigs are in each fold's <code>tracks/</code>):</p>")
            parts.append(_img(_png(profile_plot(prof, f"{model}, {sample}, {task}: attribution around the TSS")), "attribution profile"))
            if "H3K36me3" in prof:
                window = prof[prof.position != 0]
                down = window[(window.position >= 4000) & (window.position < 6000)]["H3K36me3"].abs().mean()
                rest = window[(window.position < 3000) | (window.position > 7000)]["H3K36me3"].abs().mean()
                if rest:
                    parts.append(f"<p>H3K36me3 attribution 4–6 kb downstream of the TSS is {down / rest:.1f}× its mean elsewhere in the window.</p>")
    return "\n".join(parts)


def links_section(links: pd.DataFrame, planted: pd.DataFrame | None) -> str:
    plt = _pyplot()
    out = []
    top = links.sort_values("effect", ascending=False).head(15)
    out.append("<p>The elements whose loss changes the prediction most (in-silico knockout; effect = drop in the prediction):</p>")
    cols = ["name", "gene_name", "chrom2", "start2", "end2", "rank", "effect", "interaction_score", "attention"]
    out.append(_table(top[[c for c in cols if c in top]].rename(columns={"name": "gene", "chrom2": "pCRE chrom", "start2": "start", "end2": "end"}), left=("gene", "gene_name", "pCRE chrom")))
    distance = ((links.start2 + links.end2) / 2 - links.start1).abs() / 1000
    has_att = links["attention"].notna().any()
    fig, axes = plt.subplots(1, 2 if has_att else 1, figsize=(9 if has_att else 4.6, 3.6), squeeze=False)
    axes[0][0].scatter(distance, links.effect, s=6, alpha=0.5, lw=0)
    axes[0][0].axhline(0, c="grey", lw=0.8)
    axes[0][0].set(xlabel="TSS to pCRE distance (kb)", ylabel="knockout effect", title="effect vs distance")
    rho = None
    if has_att:
        ok = links["attention"].notna()
        axes[0][1].scatter(links.loc[ok, "attention"], links.loc[ok, "effect"], s=6, alpha=0.5, lw=0)
        rho = spearman(links.loc[ok, "attention"], links.loc[ok, "effect"])
        axes[0][1].set(xlabel="promoter attention to the pCRE", ylabel="knockout effect", title=f"attention vs effect (Spearman {rho:.2f})")
    for ax in axes[0]:
        ax.title.set_fontsize(9)
    out.append(_img(_png(fig), "effect vs distance and attention"))
    if rho is not None:
        agree = "mostly the ones" if rho > 0.5 else ("partly the ones" if rho > 0.2 else "not the ones")
        out.append(f"<p>The elements the model attends to are {agree} whose removal changes its prediction (Spearman ρ = {rho:.2f} over {int(links['attention'].notna().sum())} links).</p>")
    if planted is not None:
        out.append(planted_recovery(links, planted))
    return "\n".join(out)


def planted_recovery(links: pd.DataFrame, planted: pd.DataFrame) -> str:
    """Simulated data: share of genes whose top-ranked link is a planted enhancer, vs ranking at random."""
    hits, chance, n = 0, 0.0, 0
    for gene, sub in links.groupby("name"):
        mine = planted[planted.gene == gene]
        if mine.empty or len(sub) < 2:
            continue
        overlap = np.array([((mine.start < e) & (mine.end > s)).any() for s, e in zip(sub.start2, sub.end2)])
        if not overlap.any() or overlap.all():
            continue
        n += 1
        hits += bool(overlap[sub["rank"].to_numpy().argmin()])
        chance += overlap.mean()
    if not n:
        return "<p class='muted'>No gene has both planted and unplanted pCREs to rank.</p>"
    return (
        f"<p class='lead'>Planted enhancers recovered: for <b>{hits / n:.0%}</b> of the {n} held-out genes that have both planted "
        f"enhancers and decoy contacts among their pCREs, the element ranked first by knockout effect is a planted enhancer "
        f"(picking a pCRE at random: {chance / n:.0%}).</p>"
    )


# ------------------------------------------------------------------ inputs, each checked: one line per problem

METRIC_TEXT = ("sample", "task", "model", "fold", "status", "trained_on", "checkpoint")
LINK_NUMBERS = ("start1", "end1", "start2", "end2", "score", "rank", "effect", "interaction_score", "attention", "baseline", "knocked_out")


def load_summary(summary: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """metrics.tsv and predictions.tsv of a ``summarize`` folder, every value checked."""
    from .._tables import numeric_columns, read_table
    from ..models import TASKS

    for name in ("metrics.tsv", "predictions.tsv"):
        if not (summary / name).is_file():
            raise ChromoflowError(f"{summary}: no {name}; give the folder 'chromoflow summarize' wrote")
    metrics = read_table(summary / "metrics.tsv", ["sample", "task", "model", "fold"], "metrics table", hint="written by 'chromoflow summarize'", allow_empty=True)
    numeric_columns(metrics, summary / "metrics.tsv", [c for c in metrics.columns if c not in METRIC_TEXT], choices={"task": TASKS})
    if "status" not in metrics.columns:
        metrics["status"] = "scored"
    for task in set(metrics.loc[metrics.status == "scored", "task"]):
        if HEADLINE[task] not in metrics.columns:
            raise ChromoflowError(f"{summary / 'metrics.tsv'}: scored {task} runs but no {HEADLINE[task]} column")
    predictions = read_table(summary / "predictions.tsv", ["sample", "task", "model", "gene_id", "prediction"], "predictions table", hint="written by 'chromoflow summarize'", allow_empty=True)
    numeric_columns(predictions, summary / "predictions.tsv", ("prediction", "label", "target", "heldout", "fold", "tss"), required=("prediction",), choices={"task": TASKS})
    return metrics, predictions


def load_run_info(path) -> dict:
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChromoflowError(f"--run-info {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChromoflowError(f"{path}: not a readable JSON run description ({' '.join(str(exc).split())[:150]})") from None
    if not isinstance(info, dict):
        raise ChromoflowError(f"{path}: a JSON run description must be an object (samples, marks, folds, …), got {type(info).__name__}")
    if not isinstance(info.get("samples", []), list) or not all(isinstance(r, dict) for r in info.get("samples", [])):
        raise ChromoflowError(f"{path}: 'samples' must be a list of objects (one per sample)")
    if not isinstance(info.get("parameters", {}), dict) or not isinstance(info.get("outputs", {}), dict):
        raise ChromoflowError(f"{path}: 'parameters' and 'outputs' must be objects")
    return info


def load_interpretations(folders: list[Path]) -> dict:
    """{(sample, task, model): [{"links": frame | None, "profile": frame | None}, ...]} from ``perturb`` folders."""
    from .._tables import numeric_columns, read_table

    groups: dict[tuple, list] = {}
    for folder in folders:
        meta = {}
        if (folder / "run.json").exists():
            meta = load_run_info(folder / "run.json")
        read_table(folder / "effects.tsv", ["gene_id", "kind", "delta"], "effects table", hint="written by 'chromoflow perturb'", allow_empty=True)
        links = None
        if (folder / "links.bedpe").exists():
            links = read_table(folder / "links.bedpe", ["#chrom1", "start1", "end1", "chrom2", "start2", "end2", "name", "rank", "effect"], "links table", hint="written by 'chromoflow perturb --links'", allow_empty=True)
            links = numeric_columns(links.rename(columns={"#chrom1": "chrom1"}), folder / "links.bedpe", LINK_NUMBERS, required=("start1", "start2", "end2", "rank", "effect"))
        profile = None
        if (folder / "tracks" / "attribution_profile.tsv").exists():
            path = folder / "tracks" / "attribution_profile.tsv"
            profile = read_table(path, ["position"], "attribution profile", hint="written by 'chromoflow perturb --tracks'")
            profile = numeric_columns(profile, path, list(profile.columns), required=list(profile.columns))
        key = (str(meta.get("sample", folder.name)), str(meta.get("task", "")), str(meta.get("model", "")))
        groups.setdefault(key, []).append({"links": links, "profile": profile})
    return groups


def load_truth(path) -> pd.DataFrame:
    """The simulator's interactions.bedpe: (gene, start, end) of the planted enhancers (score >= 3; decoys score less)."""
    from .._tables import column, read_rows

    _, rows, lines = read_rows(path, 8, "interaction (BEDPE with the gene in column 7 and the score in column 8)", header="auto", int_cols=(4,))
    start, end = column(rows, lines, 4, path, "start2"), column(rows, lines, 5, path, "end2")
    score = column(rows, lines, 7, path, "score", kind=float)
    frame = pd.DataFrame({"gene": [r[6] for r in rows], "start": start, "end": end, "score": score})
    return frame[frame.score >= 3.0]


# ------------------------------------------------------------------ page


def write_report(summary, out, interpretation=(), run_info=None, truth=None, title: str = "chromoflow report", versions=None) -> None:
    summary = Path(summary)
    metrics, predictions = load_summary(summary)
    info = load_run_info(run_info) if run_info else {}
    folders = [Path(f) for f in interpretation]
    for f in folders:
        if not f.is_dir() or not (f / "effects.tsv").is_file():
            raise ChromoflowError(f"--interpretation {f}: not a folder with 'chromoflow perturb' outputs (effects.tsv, links.bedpe, tracks/)")
    sections = load_interpretations(folders)
    if truth is not None and not Path(truth).is_file():
        raise ChromoflowError(f"--truth {truth}: no such file (the simulation's interactions.bedpe)")
    planted = load_truth(truth) if truth else None
    if versions is not None and not Path(versions).is_file():
        raise ChromoflowError(f"--versions {versions}: no such file")
    gain_text, gain = gain_from_contacts(metrics)
    table = metrics_table(metrics)
    page = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style></head><body><main>"]
    page.append(f"<h1>{html.escape(title)}</h1><p class='muted'>{html.escape(info.get('date') or datetime.now().strftime('%Y-%m-%d %H:%M'))} · chromoflow {html.escape(info.get('chromoflow_version', ''))}</p>")
    page.append("<nav><a href='#overview'>Overview</a><a href='#metrics'>Metrics</a><a href='#contacts'>3D contacts</a><a href='#curves'>Curves</a><a href='#why'>Why</a><a href='#files'>Files</a></nav>")
    page.append(f"<div class='lead'>{gain_text}</div>")
    # Overview
    page.append("<h2 id='overview'>Overview</h2>")
    if info.get("samples"):
        page.append(_table(pd.DataFrame(info["samples"]), left=tuple(pd.DataFrame(info["samples"]).columns)))
    for key, label in (("marks", "Marks"), ("folds", "Folds"), ("models", "Models"), ("tasks", "Tasks")):
        if info.get(key):
            page.append(f"<p><b>{label}:</b> {html.escape(str(info[key]))}</p>")
    if info.get("parameters"):
        params = pd.DataFrame(sorted(info["parameters"].items()), columns=["parameter", "value"])
        page.append("<details><summary>All parameters</summary>" + _table(params.astype(str), left=("parameter", "value")) + "</details>")
    if versions:
        from .._io import open_text

        with open_text(versions) as fh:
            page.append("<details><summary>Software versions</summary><pre>" + html.escape(fh.read()) + "</pre></details>")
    # Metrics
    page.append("<h2 id='metrics'>How well each model did</h2><p>Held-out genes only (each fold's genes scored by the model that never trained on them); mean and spread over folds.</p>")
    if len(table):
        page.append(_table(table, left=("sample", "task", "model", "metric")))
    figure = summary / "metrics.png"
    if figure.exists():
        page.append(_img("data:image/png;base64," + base64.b64encode(figure.read_bytes()).decode(), "metrics per model"))
    unscored = metrics[metrics["status"] != "scored"] if "status" in metrics else metrics.iloc[:0]
    if len(unscored):
        page.append(f"<p class='lead warn'>{len(unscored)} run(s) were not scored: their held-out genes are unknown (a checkpoint that does not say which genes it was trained on). Their predictions are in predictions.tsv.</p>")
    # Contacts
    page.append(f"<h2 id='contacts'>Did 3D contacts help?</h2><p>{gain_text}</p>")
    if len(gain):
        page.append(_table(gain, left=("sample", "task", "metric", "folds better")))
    # Curves
    page.append("<h2 id='curves'>Curves</h2>")
    for uri, alt in curves(predictions):
        page.append(_img(uri, alt))
    # Interpretation
    if folders:
        page.append("<h2 id='why'>Which elements drive the predictions</h2>")
        page.append(interpretation_sections(sections, planted))
    # Files
    page.append("<h2 id='files'>Where the outputs are</h2>")
    files = info.get("outputs") or {
        "summary/metrics.tsv": "one row per sample × task × model × fold", "summary/predictions.tsv": "every held-out prediction",
    }
    page.append("<ul>" + "".join(f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>" for k, v in files.items()) + "</ul>")
    page.append("</main></body></html>")
    with atomic_output(out) as tmp:
        tmp.write_text("\n".join(page), encoding="utf-8")
