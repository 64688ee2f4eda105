process TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference)
    path config_yaml

    output:
    // One folder per held-out fold (several folds train one after another in one task: --folds_per_task).
    tuple val(meta), path('fold*', type: 'dir'),   emit: folds
    tuple val(meta), path('*.heldout.tsv'),        emit: heldout
    tuple val(meta), path('*.metrics.json'),       emit: metrics
    path 'versions.yml',                           emit: versions

    script:
    def config = config_yaml ? config_yaml.name : (task.ext.preset ?: 'default')
    def folds = meta.folds.join(',')
    def opts = Shell.options(['--reference': reference ?: null, '--model': meta.model, '--task': meta.task, '--fold': folds, '--config': config])
    // Copies with unique names, for the summary (every fold's files are named heldout.tsv, metrics.json).
    def copies = meta.folds.collect { k -> "cp fold${k}/heldout.tsv ${Shell.quote("${meta.base}.fold${k}.heldout.tsv")}\ncp fold${k}/metrics.json ${Shell.quote("${meta.base}.fold${k}.metrics.json")}" }.join('\n')
    """
    export OMP_NUM_THREADS=${task.cpus}
    ${Shell.gpuSlot(task.ext.gpus)}
    chromoflow-train --dataset ${Shell.quote(dataset)} ${opts} --fold-folders ${Shell.options(task.ext.args)} -o .
    ${copies}

    ${Shell.versions(task.process, ['torch'])}
    """

    stub:
    def copies = meta.folds.collect { k -> "mkdir -p fold${k}\ntouch fold${k}/model.pt\nprintf 'gene_id\\tprediction\\tfold\\n' > ${Shell.quote("${meta.base}.fold${k}.heldout.tsv")}\necho '{}' > ${Shell.quote("${meta.base}.fold${k}.metrics.json")}" }.join('\n')
    """
    ${copies}
    ${Shell.stubVersions(task.process)}
    """
}
