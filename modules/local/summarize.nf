process SUMMARIZE {
    tag "${manifest.name}"
    label 'process_single'
    container "${params.container}"

    input:
    path manifest
    path files, stageAs: 'runs/*'

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
