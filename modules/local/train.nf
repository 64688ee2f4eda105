process TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference)
    path config_yaml

    output:
    tuple val(meta), path('model.pt'),                  emit: model
    tuple val(meta), path("${meta.id}.heldout.tsv"),    emit: heldout
    tuple val(meta), path("${meta.id}.metrics.json"),   emit: metrics
    tuple val(meta), path('metrics.json'), path('history.tsv'), path('heldout.tsv'), path('*.png'), emit: reports
    path 'versions.yml',                                emit: versions

    script:
    def config = config_yaml ? config_yaml.name : (task.ext.preset ?: 'default')
    def opts = Shell.options(['--reference': reference ?: null, '--model': meta.model, '--task': meta.task, '--fold': meta.fold, '--config': config])
    """
    export OMP_NUM_THREADS=${task.cpus}
    chromoflow-train --dataset ${Shell.quote(dataset)} ${opts} ${Shell.options(task.ext.args)} -o .
    cp metrics.json ${Shell.quote("${meta.id}.metrics.json")}
    cp heldout.tsv ${Shell.quote("${meta.id}.heldout.tsv")}

    ${Shell.versions(task.process, ['torch'])}
    """

    stub:
    """
    touch model.pt history.tsv history.png
    printf 'gene_id\\tprediction\\tfold\\n' > heldout.tsv
    echo '{"heldout": {}}' > metrics.json
    cp metrics.json ${Shell.quote("${meta.id}.metrics.json")}
    cp heldout.tsv ${Shell.quote("${meta.id}.heldout.tsv")}
    ${Shell.stubVersions(task.process)}
    """
}
