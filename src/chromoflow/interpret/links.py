"""Enhancer-gene links: the predicted effect of knocking out each pCRE, as browser arcs.

``links.bedpe`` (IGV, HiGlass and the WashU browser open it as arcs), one row
per (gene, pCRE), under a ``#`` header line naming the columns::

    #chrom1 start1 end1 chrom2 start2 end2 name score strand1 strand2 gene_name rank effect
     interaction_score attention baseline knocked_out

- anchor 1: the gene's TSS (1 bp); anchor 2: the pCRE; ``name``: gene_id;
- ``effect`` = baseline - knocked-out prediction: how much the model's
  prediction drops when the contact is lost (positive: the element supports
  expression); ``score`` = the same effect (browsers scale arcs by it);
- ``rank``: 1 = the gene's pCRE with the largest effect;
- ``interaction_score``: the contact score the pCRE came with;
- ``attention``: the promoter's last-layer regulation attention to it (mean
  over heads and resolutions).

``links.interact``: the same links in UCSC's ``interact`` format (BED5+13,
with a ``track type=interact`` line), loadable as a custom track; turn it
into bigInteract with ``bedToBigBed -as=interact.as -type=bed5+13``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._io import atomic_output

LINK_COLUMNS = [
    "chrom1",
    "start1",
    "end1",
    "chrom2",
    "start2",
    "end2",
    "name",
    "score",
    "strand1",
    "strand2",
    "gene_name",
    "rank",
    "effect",
    "interaction_score",
    "attention",
    "baseline",
    "knocked_out",
]


def links_table(effects: pd.DataFrame, ds, attention: dict | None = None) -> pd.DataFrame:
    """Links from the ``knockout`` rows of an effects table; ``attention``: {(gene_id, rank): weight}."""
    ko = effects[effects["kind"] == "knockout"].copy()
    if ko.empty:
        return pd.DataFrame(columns=LINK_COLUMNS)
    ko["effect"] = ko["baseline"] - ko["perturbed"]
    ko = ko.sort_values(["gene_id", "effect", "pcre_rank"], ascending=[True, False, True], kind="stable")
    ko["rank"] = ko.groupby("gene_id").cumcount() + 1
    pc = ds.pcres.assign(key=lambda f: f["chrom"] + ":" + f["start"].astype(str) + "-" + f["end"].astype(str))
    score = dict(zip(pc["key"], pc["score"]))
    keys = ko["pcre_chrom"].astype(str) + ":" + ko["pcre_start"].astype(str) + "-" + ko["pcre_end"].astype(str)
    att = attention or {}
    frame = pd.DataFrame(
        {
            "chrom1": ko["chrom"],
            "start1": ko["tss"],
            "end1": ko["tss"] + 1,
            "chrom2": ko["pcre_chrom"],
            "start2": ko["pcre_start"].astype(np.int64),
            "end2": ko["pcre_end"].astype(np.int64),
            "name": ko["gene_id"],
            "score": ko["effect"],
            "strand1": ko["strand"],
            "strand2": ".",
            "gene_name": ko["gene_name"],
            "rank": ko["rank"],
            "effect": ko["effect"],
            "interaction_score": keys.map(score).to_numpy(),
            "attention": [att.get((g, int(r)), np.nan) for g, r in zip(ko["gene_id"], ko["pcre_rank"])],
            "baseline": ko["baseline"],
            "knocked_out": ko["perturbed"],
        }
    )
    return frame[LINK_COLUMNS].reset_index(drop=True)


def write_links(frame: pd.DataFrame, path) -> None:
    with atomic_output(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write("#" + "\t".join(LINK_COLUMNS) + "\n")
            frame.to_csv(fh, sep="\t", header=False, index=False, float_format="%.6g")


def write_interact(frame: pd.DataFrame, path, name: str = "chromoflow links") -> None:
    """UCSC interact (BED5+13): one record per link spanning both anchors; score 0-1000 from the effect."""
    eff = frame["effect"].to_numpy(np.float64)
    top = np.nanmax(np.abs(eff)) if len(eff) and np.isfinite(eff).any() else 1.0
    score = np.clip(np.round(np.abs(eff) / (top or 1.0) * 1000), 0, 1000).astype(np.int64)
    start = np.minimum(frame["start1"].to_numpy(), frame["start2"].to_numpy())
    end = np.maximum(frame["end1"].to_numpy(), frame["end2"].to_numpy())
    color = np.where(eff >= 0, "#b2182b", "#2166ac")  # red: supports expression; blue: represses
    table = pd.DataFrame(
        {
            "chrom": frame["chrom1"],
            "chromStart": start,
            "chromEnd": end,
            "name": frame["gene_name"].where(frame["gene_name"] != "", frame["name"]) + "_" + frame["rank"].astype(str),
            "score": score,
            "value": eff,
            "exp": "in-silico knockout",
            "color": color,
            "sourceChrom": frame["chrom2"],
            "sourceStart": frame["start2"],
            "sourceEnd": frame["end2"],
            "sourceName": "pCRE" + frame["rank"].astype(str),
            "sourceStrand": ".",
            "targetChrom": frame["chrom1"],
            "targetStart": frame["start1"],
            "targetEnd": frame["end1"],
            "targetName": frame["name"],
            "targetStrand": frame["strand1"],
        }
    )
    with atomic_output(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write(
                f'track type=interact name="{name}" description="in-silico pCRE knockout effect" useScore=on maxHeightPixels=200:100:50 visibility=full\n'
            )
            table.to_csv(fh, sep="\t", header=False, index=False, float_format="%.6g")
