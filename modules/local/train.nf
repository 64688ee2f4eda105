process TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference)
    path config_yaml

    output:
    // One folder per held-out fold, fold<k>/ (several folds train one after another in one task: --folds_per_task).
    tuple val(meta), path('fold*', type: 'dir'), emit: folds
    path 'versions.yml',                        emit: versions

    script:
    def config = config_yaml ? config_yaml.name : (task.ext.preset ?: 'default')
    def folds = meta.folds.join(',')
    def opts = Shell.options(['--reference': reference ?: null, '--model': meta.model, '--task': meta.task, '--fold': folds, '--config': config])
    """
    export OMP_NUM_THREADS=${task.cpus}
    ${Shell.gpuSlot(task.ext.gpus)}
    chromoflow-train --dataset ${Shell.quote(dataset)} ${opts} --fold-folders ${Shell.options(task.ext.args)} -o .

    ${Shell.versions(task.process, ['torch'])}
    """

    stub:
    def folders = meta.folds.collect { k -> "mkdir -p fold${k}\ntouch fold${k}/model.pt\nprintf 'gene_id\\tprediction\\tfold\\n' > fold${k}/heldout.tsv\necho '{}' > fold${k}/metrics.json" }.join('\n')
    """
    ${folders}
    ${Shell.stubVersions(task.process)}
    """
}
