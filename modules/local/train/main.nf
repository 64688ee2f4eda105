include { gpuSlot; shellOptions; shellQuote; stubVersions; versionsScript } from '../../../subworkflows/local/utils_chromoflow/shell'

process TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    // The held-out `folds` train one after another into <run_dir>/fold<k>/ (--folds_per_task).
    tuple val(meta), path(dataset), path(reference), val(model), val(task_name), val(folds), val(run_dir)
    path config_yaml

    output:
    tuple val(meta), path("${run_dir}/fold*", type: 'dir'), emit: folds
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def config = config_yaml ? config_yaml.name : (task.ext.preset ?: 'default')
    def opts = shellOptions(['--reference': reference ? reference.toString() : null, '--model': model, '--task': task_name, '--fold': folds.join(','), '--config': config])
    """
    export OMP_NUM_THREADS=${task.cpus}
    ${gpuSlot(task.ext.gpus)}
    chromoflow-train --dataset ${shellQuote(dataset.toString())} ${opts} --fold-folders ${shellOptions(task.ext.args)} -o ${shellQuote(run_dir)}

    ${versionsScript(task.process, ['torch'])}
    """

    stub:
    def made = folds.collect { k -> "mkdir -p ${shellQuote("${run_dir}/fold${k}")} && touch ${shellQuote("${run_dir}/fold${k}/model.pt")} && printf 'gene_id\\tprediction\\tfold\\n' > ${shellQuote("${run_dir}/fold${k}/heldout.tsv")} && echo '{}' > ${shellQuote("${run_dir}/fold${k}/metrics.json")}" }.join('\n')
    """
    ${made}
    ${stubVersions(task.process)}
    """
}
