include { shellOptions; shellQuote; stubVersions; versionsScript } from '../../../subworkflows/local/utils_chromoflow/shell'

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
    path 'metrics.png',          emit: figures, optional: true
    path '*_mqc.*',              emit: multiqc, optional: true
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    """
    chromoflow-summarize --manifest ${shellQuote(manifest.name)} --base runs ${shellOptions(task.ext.args)} -o .

    ${versionsScript(task.process, [])}
    """

    stub:
    """
    touch metrics.tsv metrics_by_model.tsv predictions.tsv chromoflow_metrics_mqc.tsv
    ${stubVersions(task.process)}
    """
}
