import click

from ..models import MODEL_NAMES, TASKS
from ._base import command


@command("train")
@click.option("--dataset", required=True, type=click.Path(dir_okay=False), help="NAME.h5 from 'chromoflow dataset'.")
@click.option(
    "--reference",
    type=click.Path(dir_okay=False),
    help="Second sample's dataset (--task fold-change: predict log2((A+1)/(B+1))).",
)
@click.option("--model", "model_name", required=True, type=click.Choice(MODEL_NAMES), help="Model to train.")
@click.option(
    "--task",
    required=True,
    type=click.Choice(TASKS),
    help="classification (high/low vs median), regression (log2 expression + 1) or fold-change.",
)
@click.option(
    "--fold",
    required=True,
    help="Held-out fold; the others are trained on. Several folds (1,2,3,4) train one after another in this process, each into OUTDIR/fold<k>.",
)
@click.option(
    "--val-fold",
    type=click.IntRange(1),
    help="Validate on this fold instead of a random share of the training folds (e.g. the 'valid' file of an import-binned dataset); the preset decides whether validation chooses the epoch.",
)
@click.option("--config", help="Preset (default, official, tiny) or a YAML file; see chromoflow.training.config.")
@click.option("--epochs", type=click.IntRange(1), help="Override the configured number of epochs.")
@click.option("--batch-size", type=click.IntRange(1), help="Override the configured batch size.")
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto (CUDA when available), cpu or cuda[:N]. bf16 mixed precision on GPU.",
)
@click.option(
    "--compile",
    "compile_",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "on", "off"]),
    help="torch.compile the model: auto = on CUDA only (compiling takes minutes on a CPU); falls back to eager if it fails.",
)
@click.option(
    "--precision",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "bf16", "fp32"]),
    help="auto = bf16 mixed precision on CUDA, fp32 on CPU.",
)
@click.option(
    "--fold-folders", is_flag=True, help="Write into OUTDIR/fold<k>/ even for one fold (the pipeline's layout)."
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Seed for initialisation, validation split and shuffling.",
)
@click.option(
    "--resume", is_flag=True, help="Continue from OUTDIR/checkpoint.pt (same result as an uninterrupted run)."
)
@click.option(
    "-o",
    "--outdir",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder: model.pt, metrics.json, history.tsv, figures.",
)
def command(
    dataset,
    reference,
    model_name,
    task,
    fold,
    val_fold,
    config,
    epochs,
    batch_size,
    device,
    compile_,
    precision,
    fold_folders,
    seed,
    resume,
    outdir,
):
    """Train a model on every fold but one and evaluate on the held-out fold."""
    from ..training.train import train

    result = train(
        dataset,
        model_name,
        task,
        fold,
        outdir,
        config=config,
        val_fold=val_fold,
        compile=compile_,
        precision=precision,
        fold_folders=fold_folders,
        reference=reference,
        epochs=epochs,
        batch_size=batch_size,
        device=device,
        seed=seed,
        resume=resume,
    )
    for metrics in result if isinstance(result, list) else [result]:
        held = metrics["heldout"]
        shown = ", ".join(
            f"{k} {held[k]:.4f}"
            for k in ("roc_auc", "average_precision", "accuracy", "pearson_r", "spearman_r", "r2", "direction_accuracy")
            if k in held and held[k] is not None
        )
        click.echo(
            f"{outdir}: {model_name} {task} fold {metrics['fold']}: {shown} ({metrics['epochs_run']} epochs, {metrics['samples_per_s'] or 0:.0f} genes/s)",
            err=True,
        )
