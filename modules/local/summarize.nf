process SUMMARIZE {
    tag "${manifest.name}"
    label 'process_single'
    container "${params.container}"

    input:
    path manifest
    // Each run's file in its own folder, runs/run<i>/ (every training fold's files are named heldout.tsv, metrics.json).
    path files, stageAs: 'runs/run*/*'

    output:
    path 'metrics.tsv',          emit: metrics
    path 'metrics_by_model.tsv', emit: by_model
    path 'predictions.tsv',      emit: predictions
    path '*.png',                emit: figures, optional: true
    path 'versions.yml',         emit: versions

    script:
    """
    chromoflow-summarize --manifest ${Shell.quote(manifest)} --base runs -o .

    ${Shell.versions(task.process)}
    """

    stub:
    """
    touch metrics.tsv metrics_by_model.tsv predictions.tsv
    ${Shell.stubVersions(task.process)}
    """
}
