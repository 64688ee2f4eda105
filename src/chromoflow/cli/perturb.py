import click

from ._base import command


@command("perturb")
@click.option("--dataset", required=True, type=click.Path(dir_okay=False), help="NAME.h5 from 'chromoflow dataset'.")
@click.option(
    "--checkpoint",
    required=True,
    type=click.Path(dir_okay=False),
    help="model.pt from 'chromoflow train', or an official Chromoformer checkpoint.",
)
@click.option(
    "--reference",
    type=click.Path(dir_okay=False),
    help="Second sample's dataset, for fold-change models (perturbations act on --dataset).",
)
@click.option("--genes", help="Only these genes: comma-separated gene IDs or names, or a file with one per line.")
@click.option("--fold", type=click.IntRange(0), help="Only genes of this fold (e.g. the checkpoint's held-out fold).")
@click.option(
    "--knockout/--no-knockout", default=True, show_default=True, help="Remove each pCRE in turn (models with pCREs)."
)
@click.option(
    "--silence",
    help="Scale these marks by --factor, at the promoter and/or each pCRE: comma-separated names, or 'all'.",
)
@click.option(
    "--silence-at",
    default="both",
    show_default=True,
    type=click.Choice(["both", "promoter", "pcres"]),
    help="Where --silence acts.",
)
@click.option(
    "--factor",
    default=0.0,
    show_default=True,
    type=float,
    help="Depth scale factor for --silence (0 = silenced, 0.5 = half).",
)
@click.option(
    "--regions",
    type=click.Path(dir_okay=False),
    help="Edits to apply together: tab-separated chrom, start, end, mark, factor (e.g. loss of H3K27me3 in a set of domains).",
)
@click.option(
    "--swap",
    type=click.Path(dir_okay=False),
    help="Another sample's dataset: replace the promoter's / each pCRE's features by its (same genes and pCREs).",
)
@click.option(
    "--swap-at",
    default="both",
    show_default=True,
    type=click.Choice(["both", "promoter", "pcres"]),
    help="Where --swap acts.",
)
@click.option(
    "--links",
    type=click.Path(dir_okay=False),
    help="Also write enhancer-gene links (BEDPE arcs with knockout effect, rank, interaction score, attention).",
)
@click.option("--interact", type=click.Path(dir_okay=False), help="Also write the links in UCSC interact format.")
@click.option(
    "--tracks",
    type=click.Path(file_okay=False),
    help="Also write attribution bigWigs (one per mark) and the attribution profile around the TSS into this folder.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")
@click.option(
    "--precision",
    default="fp32",
    show_default=True,
    type=click.Choice(["auto", "bf16", "fp32"]),
    help="fp32 (knockout effects are often below bf16's resolution), bf16, or auto = bf16 mixed precision on CUDA.",
)
@click.option(
    "--batch-size", default=512, show_default=True, type=click.IntRange(1), help="Perturbed inputs per forward pass."
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="effects.tsv: one row per gene and perturbation (baseline, perturbed, delta).",
)
def command(
    dataset,
    checkpoint,
    reference,
    genes,
    fold,
    knockout,
    silence,
    silence_at,
    factor,
    regions,
    swap,
    swap_at,
    links,
    interact,
    tracks,
    device,
    precision,
    batch_size,
    output,
):
    """In-silico perturbation: knock out pCREs, silence marks, edit regions or swap in another sample's features."""
    from ..interpret.perturb import perturb

    effects = perturb(
        dataset,
        checkpoint,
        output,
        genes=genes,
        fold=fold,
        knockout=knockout,
        silence=silence,
        silence_at=silence_at,
        factor=factor,
        regions=regions,
        swap=swap,
        swap_at=swap_at,
        reference=reference,
        links=links,
        interact=interact,
        tracks=tracks,
        device=device,
        precision=precision,
        batch_size=batch_size,
    )
    click.echo(
        f"{output}: {len(effects)} perturbations of {effects['gene_id'].nunique() if len(effects) else 0} genes",
        err=True,
    )
