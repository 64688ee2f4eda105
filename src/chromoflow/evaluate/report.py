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
the figures that support them; a Jinja2 template (``templates/report.html.j2``)
keeps that in one readable page. The functions here compute what the page
says (:class:`Gain`, :func:`links_section`, :func:`planted_recovery`) and
are tested on small tables; the template only lays it out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_output
from ..errors import ChromoflowError
from ..figures import file_data_uri, png_data_uri, pyplot
from .metrics import (
    HEADLINE,
    average_precision,
    pearson,
    precision_recall_curve,
    roc_auc,
    roc_curve,
    spearman,
)

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


@dataclass(frozen=True)
class Table:
    """A table as the page shows it: column names, rows of text, the columns aligned left."""

    columns: list
    rows: list
    left: tuple = ()


def table(frame: pd.DataFrame, digits: int = 3, left: tuple = ()) -> Table:
    """``frame`` as text: floats with ``digits`` decimals, missing or infinite values empty."""

    def text(v) -> str:
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return ""
        return f"{v:.{digits}f}" if isinstance(v, (float, np.floating)) else str(v)

    columns = [str(c) for c in frame.columns]
    return Table(columns, [[text(v) for v in row] for row in frame.itertuples(index=False, name=None)], tuple(left))


# ------------------------------------------------------------------ sections


@dataclass(frozen=True)
class GainSentence:
    sample: str
    task: str
    metric: str  # the headline metric, in words
    with_contacts: float
    without: float
    gain: float
    better: int  # folds where Chromoformer beat the no-Hi-C ablation
    folds: int

    @property
    def verdict(self) -> str:
        if self.gain > 0.02 and self.better > self.folds / 2:
            return "helped"
        return "did not help" if self.gain <= 0 else "helped a little"


@dataclass(frozen=True)
class Gain:
    """Chromoformer with and without its pCREs, per sample and task; ``measured`` is False without both models."""

    measured: bool
    sentences: list = field(default_factory=list)
    table: Table | None = None


def gain_from_contacts(metrics: pd.DataFrame) -> Gain:
    """The sentences and table comparing chromoformer with chromoformer-nohic, fold by fold."""
    scored = metrics[metrics.get("status", "scored") == "scored"] if "status" in metrics else metrics
    have = set(scored["model"])
    if not {"chromoformer", "chromoformer-nohic"} <= have:
        return Gain(measured=False)
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
        rows.append(
            {
                "sample": sample,
                "task": task,
                "metric": metric,
                "with contacts": a.loc[folds].mean(),
                "without": b.loc[folds].mean(),
                "gain": diff.mean(),
                "folds better": f"{better} of {len(folds)}",
            }
        )
        sentences.append(
            GainSentence(
                str(sample),
                str(task),
                metric.replace("_", " "),
                float(a.loc[folds].mean()),
                float(b.loc[folds].mean()),
                float(diff.mean()),
                better,
                len(folds),
            )
        )
    return Gain(
        True, sentences, table(pd.DataFrame(rows), left=("sample", "task", "metric", "folds better")) if rows else None
    )


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean, spread and range of the headline metric over folds, per sample, task and model (scored runs only)."""
    scored = metrics[metrics["status"] == "scored"] if "status" in metrics else metrics
    rows = []
    for (sample, task, model), sub in scored.groupby(["sample", "task", "model"]):
        metric = HEADLINE[task]
        v = sub[metric].astype(float)
        rows.append(
            {
                "sample": sample,
                "task": task,
                "model": model,
                "metric": metric,
                "mean": v.mean(),
                "sd": v.std(),
                "min": v.min(),
                "max": v.max(),
                "folds": len(v),
                "genes": int(sub["n"].sum()),
            }
        )
    return pd.DataFrame(rows)


def curves(predictions: pd.DataFrame) -> list[str]:
    """ROC and precision-recall (classification) or predicted vs observed (regression) per sample and task, models overlaid."""
    plt = pyplot()
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
                ax2.step(
                    np.r_[0.0, recall],
                    np.r_[precision[:1], precision],
                    where="pre",
                    lw=1.4,
                    label=f"{m} (AP {average_precision(y, p):.3f})",
                )
            ax1.plot([0, 1], [0, 1], ls="--", c="grey", lw=1, label="chance")
            ax1.set(
                xlabel="false positive rate",
                ylabel="true positive rate",
                title=f"{sample}: ROC, held-out genes, all folds",
            )
            base = sub.label.mean()
            ax2.axhline(base, ls="--", c="grey", lw=1, label=f"chance ({base:.2f})")
            ax2.set(xlabel="recall", ylabel="precision", title=f"{sample}: precision-recall")
            for ax in (ax1, ax2):
                ax.legend(frameon=False, fontsize=7)
                ax.title.set_fontsize(9)
            figs.append((png_data_uri(fig), f"{sample} {task}"))
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
            figs.append((png_data_uri(fig), f"{sample} {task}"))
    return figs


def interpretation_sections(groups: dict, planted: pd.DataFrame | None) -> list[dict]:
    """One section per sample x task x model (see :func:`load_interpretations`): the folds' links together, their
    attribution profiles averaged."""
    from .plots import profile_plot

    sections = []
    for (sample, task, model), members in sorted(groups.items()):
        section = {
            "title": f"{' · '.join(x for x in (sample, task, model) if x)} ({len(members)} fold{'s' if len(members) > 1 else ''})",
            "links": None,
            "profile": None,
            "h3k36me3_ratio": None,
        }
        links = [m["links"] for m in members if m["links"] is not None]
        links = pd.concat(links, ignore_index=True) if links else pd.DataFrame()
        if len(links):
            section["links"] = links_section(links, planted)
        profiles = [m["profile"] for m in members if m["profile"] is not None]
        if profiles:
            prof = pd.concat(profiles).groupby("position", sort=True).mean().reset_index()
            section["profile"] = png_data_uri(
                profile_plot(prof, f"{model}, {sample}, {task}: attribution around the TSS")
            )
            section["h3k36me3_ratio"] = h3k36me3_downstream_ratio(prof)
        sections.append(section)
    return sections


def h3k36me3_downstream_ratio(profile: pd.DataFrame) -> float | None:
    """Mean |H3K36me3 attribution| 4-6 kb downstream of the TSS over its mean elsewhere in the window (the TSS bin
    and 3-7 kb left out); None without H3K36me3 or without attribution elsewhere."""
    if "H3K36me3" not in profile:
        return None
    window = profile[profile.position != 0]
    down = window[(window.position >= 4000) & (window.position < 6000)]["H3K36me3"].abs().mean()
    rest = window[(window.position < 3000) | (window.position > 7000)]["H3K36me3"].abs().mean()
    return float(down / rest) if rest else None


def links_section(links: pd.DataFrame, planted: pd.DataFrame | None) -> dict:
    """The strongest links, effect against distance and attention (figure), how far attention agrees with effect
    (``rho``, ``agreement``) and, for simulated data, the planted enhancers recovered."""
    plt = pyplot()
    top = links.sort_values("effect", ascending=False).head(15)
    cols = ["name", "gene_name", "chrom2", "start2", "end2", "rank", "effect", "interaction_score", "attention"]
    shown = top[[c for c in cols if c in top]].rename(
        columns={"name": "gene", "chrom2": "pCRE chrom", "start2": "start", "end2": "end"}
    )
    distance = ((links.start2 + links.end2) / 2 - links.start1).abs() / 1000
    has_att = links["attention"].notna().any() if "attention" in links else False
    fig, axes = plt.subplots(1, 2 if has_att else 1, figsize=(9 if has_att else 4.6, 3.6), squeeze=False)
    axes[0][0].scatter(distance, links.effect, s=6, alpha=0.5, lw=0)
    axes[0][0].axhline(0, c="grey", lw=0.8)
    axes[0][0].set(xlabel="TSS to pCRE distance (kb)", ylabel="knockout effect", title="effect vs distance")
    rho = None
    if has_att:
        ok = links["attention"].notna()
        axes[0][1].scatter(links.loc[ok, "attention"], links.loc[ok, "effect"], s=6, alpha=0.5, lw=0)
        rho = spearman(links.loc[ok, "attention"], links.loc[ok, "effect"])
        axes[0][1].set(
            xlabel="promoter attention to the pCRE",
            ylabel="knockout effect",
            title=f"attention vs effect (Spearman {rho:.2f})",
        )
    for ax in axes[0]:
        ax.title.set_fontsize(9)
    return {
        "top": table(shown, left=("gene", "gene_name", "pCRE chrom")),
        "figure": png_data_uri(fig),
        "rho": rho,
        "agreement": None
        if rho is None
        else ("mostly the ones" if rho > 0.5 else ("partly the ones" if rho > 0.2 else "not the ones")),
        "n_attention": int(links["attention"].notna().sum()) if has_att else 0,
        "recovery": planted_recovery(links, planted) if planted is not None else None,
    }


@dataclass(frozen=True)
class Recovery:
    """Genes with planted and decoy pCREs (``n``), those whose top-ranked link is planted (``hits``), and the
    expected hits when ranking at random (``chance``)."""

    hits: int
    n: int
    chance: float


def planted_recovery(links: pd.DataFrame, planted: pd.DataFrame) -> Recovery:
    """Simulated data: how often a gene's top-ranked link is a planted enhancer, vs ranking at random."""
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
    return Recovery(hits, n, chance)


# ------------------------------------------------------------------ inputs, each checked: one line per problem

METRIC_TEXT = ("sample", "task", "model", "fold", "status", "trained_on", "checkpoint")
LINK_NUMBERS = (
    "start1",
    "end1",
    "start2",
    "end2",
    "score",
    "rank",
    "effect",
    "interaction_score",
    "attention",
    "baseline",
    "knocked_out",
)


def load_summary(summary: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """metrics.tsv and predictions.tsv of a ``summarize`` folder, every value checked."""
    from .._tables import numeric_columns, read_table
    from ..models import TASKS

    for name in ("metrics.tsv", "predictions.tsv"):
        if not (summary / name).is_file():
            raise ChromoflowError(f"{summary}: no {name}; give the folder 'chromoflow summarize' wrote")
    metrics = read_table(
        summary / "metrics.tsv",
        ["sample", "task", "model", "fold"],
        "metrics table",
        hint="written by 'chromoflow summarize'",
        allow_empty=True,
    )
    numeric_columns(
        metrics, summary / "metrics.tsv", [c for c in metrics.columns if c not in METRIC_TEXT], choices={"task": TASKS}
    )
    if "status" not in metrics.columns:
        metrics["status"] = "scored"
    for task in set(metrics.loc[metrics.status == "scored", "task"]):
        if HEADLINE[task] not in metrics.columns:
            raise ChromoflowError(f"{summary / 'metrics.tsv'}: scored {task} runs but no {HEADLINE[task]} column")
    predictions = read_table(
        summary / "predictions.tsv",
        ["sample", "task", "model", "gene_id", "prediction"],
        "predictions table",
        hint="written by 'chromoflow summarize'",
        allow_empty=True,
    )
    numeric_columns(
        predictions,
        summary / "predictions.tsv",
        ("prediction", "label", "target", "heldout", "fold", "tss"),
        required=("prediction",),
        choices={"task": TASKS},
    )
    return metrics, predictions


def load_run_info(path) -> dict:
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChromoflowError(f"--run-info {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChromoflowError(
            f"{path}: not a readable JSON run description ({' '.join(str(exc).split())[:150]})"
        ) from None
    if not isinstance(info, dict):
        raise ChromoflowError(
            f"{path}: a JSON run description must be an object (samples, marks, folds, …), got {type(info).__name__}"
        )
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
        read_table(
            folder / "effects.tsv",
            ["gene_id", "kind", "delta"],
            "effects table",
            hint="written by 'chromoflow perturb'",
            allow_empty=True,
        )
        links = None
        if (folder / "links.bedpe").exists():
            links = read_table(
                folder / "links.bedpe",
                ["#chrom1", "start1", "end1", "chrom2", "start2", "end2", "name", "rank", "effect"],
                "links table",
                hint="written by 'chromoflow perturb --links'",
                allow_empty=True,
            )
            links = numeric_columns(
                links.rename(columns={"#chrom1": "chrom1"}),
                folder / "links.bedpe",
                LINK_NUMBERS,
                required=("start1", "start2", "end2", "rank", "effect"),
            )
        profile = None
        if (folder / "tracks" / "attribution_profile.tsv").exists():
            path = folder / "tracks" / "attribution_profile.tsv"
            profile = read_table(
                path, ["position"], "attribution profile", hint="written by 'chromoflow perturb --tracks'"
            )
            profile = numeric_columns(profile, path, list(profile.columns), required=list(profile.columns))
        key = (str(meta.get("sample", folder.name)), str(meta.get("task", "")), str(meta.get("model", "")))
        fold = str(meta.get("fold", ""))
        order = (int(fold) if fold.isdigit() else 1 << 30, fold, str(folder))
        groups.setdefault(key, []).append({"links": links, "profile": profile, "order": order})
    # Folders arrive in whatever order the pipeline's tasks finished: fold order makes the page the same every run
    # (points drawn in the same order, profiles averaged in the same order).
    for members in groups.values():
        members.sort(key=lambda m: m["order"])
    return groups


def load_truth(path) -> pd.DataFrame:
    """The simulator's interactions.bedpe: (gene, start, end) of the planted enhancers (score >= 3; decoys score less)."""
    from .._tables import column, read_rows

    _, rows, lines = read_rows(
        path, 8, "interaction (BEDPE with the gene in column 7 and the score in column 8)", header="auto", int_cols=(4,)
    )
    start, end = column(rows, lines, 4, path, "start2"), column(rows, lines, 5, path, "end2")
    score = column(rows, lines, 7, path, "score", kind=float)
    frame = pd.DataFrame({"gene": [r[6] for r in rows], "start": start, "end": end, "score": score})
    return frame[frame.score >= 3.0]


# ------------------------------------------------------------------ page


def write_report(
    summary, out, interpretation=(), run_info=None, truth=None, title: str = "chromoflow report", versions=None
) -> None:
    summary = Path(summary)
    metrics, predictions = load_summary(summary)
    info = load_run_info(run_info) if run_info else {}
    folders = [Path(f) for f in interpretation]
    for f in folders:
        if not f.is_dir() or not (f / "effects.tsv").is_file():
            raise ChromoflowError(
                f"--interpretation {f}: not a folder with 'chromoflow perturb' outputs (effects.tsv, links.bedpe, tracks/)"
            )
    sections = load_interpretations(folders)
    if truth is not None and not Path(truth).is_file():
        raise ChromoflowError(f"--truth {truth}: no such file (the simulation's interactions.bedpe)")
    planted = load_truth(truth) if truth else None
    if versions is not None and not Path(versions).is_file():
        raise ChromoflowError(f"--versions {versions}: no such file")
    figure = summary / "metrics.png"
    unscored = metrics[metrics["status"] != "scored"] if "status" in metrics else metrics.iloc[:0]
    facts = [
        (label, str(info[key]))
        for key, label in (("marks", "Marks"), ("folds", "Folds"), ("models", "Models"), ("tasks", "Tasks"))
        if info.get(key)
    ]
    samples = pd.DataFrame(info["samples"]) if info.get("samples") else None
    parameters = (
        pd.DataFrame(sorted(info["parameters"].items()), columns=["parameter", "value"]).astype(str)
        if info.get("parameters")
        else None
    )
    version_text = None
    if versions:
        from .._io import open_text

        with open_text(versions) as fh:
            version_text = fh.read()
    metric_rows = metrics_table(metrics)
    page = _template().render(
        title=title,
        css=CSS,
        date=info.get("date") or datetime.now().strftime("%Y-%m-%d %H:%M"),
        version=info.get("chromoflow_version", ""),
        gain=gain_from_contacts(metrics),
        facts=facts,
        samples=table(samples, left=tuple(samples.columns)) if samples is not None else None,
        parameters=table(parameters, left=("parameter", "value")) if parameters is not None else None,
        versions=version_text,
        metrics=table(metric_rows, left=("sample", "task", "model", "metric")) if len(metric_rows) else None,
        metrics_figure=file_data_uri(figure.read_bytes()) if figure.exists() else None,
        unscored=len(unscored),
        curves=curves(predictions),
        interpretation=interpretation_sections(sections, planted) if folders else [],
        files=list(
            (
                info.get("outputs")
                or {
                    "summary/metrics.tsv": "one row per sample × task × model × fold",
                    "summary/predictions.tsv": "every held-out prediction",
                }
            ).items()
        ),
    )
    with atomic_output(out) as tmp:
        tmp.write_text(page, encoding="utf-8")


def _template():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chromoflow.evaluate", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.globals["zip"] = zip
    return env.get_template("report.html.j2")
