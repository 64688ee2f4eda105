include { gpuSlot; shellOptions; shellQuote; stubVersions; versionsScript } from '../../../subworkflows/local/utils_chromoflow/shell'

process PREDICT {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference), path(checkpoint), val(run_dir)

    output:
    tuple val(meta), path("${run_dir}/${task.ext.prefix ?: meta.id}.predictions.tsv"), emit: predictions
    tuple val(meta), path("${run_dir}/${task.ext.prefix ?: meta.id}.info.json"),       emit: info
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def out = "${run_dir}/${task.ext.prefix ?: meta.id}"
    def opts = shellOptions(['--reference': reference ? reference.toString() : null, '--info': "${out}.info.json"])
    """
    export OMP_NUM_THREADS=${task.cpus}
    ${gpuSlot(task.ext.gpus)}
    mkdir -p ${shellQuote(run_dir)}
    chromoflow-predict --dataset ${shellQuote(dataset.toString())} --checkpoint ${shellQuote(checkpoint.toString())} ${opts} ${shellOptions(task.ext.args)} -o ${shellQuote("${out}.predictions.tsv")}

    ${versionsScript(task.process, ['torch'])}
    """

    stub:
    def out = "${run_dir}/${task.ext.prefix ?: meta.id}"
    """
    mkdir -p ${shellQuote(run_dir)}
    printf 'gene_id\\tprediction\\tfold\\theldout\\n' > ${shellQuote("${out}.predictions.tsv")}
    echo '{}' > ${shellQuote("${out}.info.json")}
    ${stubVersions(task.process)}
    """
}
