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
    chromoflow summarize --manifest '${manifest}' --base runs -o .

    cat <<END_VERSIONS > versions.yml
    "${task.process}":
        chromoflow: \$(chromoflow --version | sed 's/.*version //')
    END_VERSIONS
    """

    stub:
    """
    touch metrics.tsv metrics_by_model.tsv predictions.tsv
    printf '"${task.process}":\\n    chromoflow: stub\\n' > versions.yml
    """
}
