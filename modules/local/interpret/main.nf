include { gpuSlot; shellOptions; shellQuote; stubVersions; versionsScript } from '../../../subworkflows/local/utils_chromoflow/shell'

process INTERPRET {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    // `fold`: the checkpoint's held-out fold (interpreted there); `description`: what run.json says of the run.
    tuple val(meta), path(dataset), path(reference), path(checkpoint), val(fold), val(description), val(run_dir)

    output:
    tuple val(meta), path(run_dir, type: 'dir'), emit: interpretation
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def opts = shellOptions([
        '--reference': reference ? reference.toString() : null, '--fold': fold ?: null,
        '--links': "${run_dir}/links.bedpe", '--interact': "${run_dir}/links.interact", '--tracks': "${run_dir}/tracks",
    ])
    def runJson = groovy.json.JsonOutput.toJson(description)
    """
    export OMP_NUM_THREADS=${task.cpus}
    ${gpuSlot(task.ext.gpus)}
    mkdir -p ${shellQuote(run_dir)}
    printf '%s\\n' ${shellQuote(runJson)} > ${shellQuote("${run_dir}/run.json")}
    chromoflow-perturb --dataset ${shellQuote(dataset.toString())} --checkpoint ${shellQuote(checkpoint.toString())} ${opts} ${shellOptions(task.ext.args)} -o ${shellQuote("${run_dir}/effects.tsv")}

    ${versionsScript(task.process, ['torch', 'pyBigWig'])}
    """

    stub:
    """
    mkdir -p ${shellQuote("${run_dir}/tracks")}
    printf 'gene_id\\tkind\\tdelta\\n' > ${shellQuote("${run_dir}/effects.tsv")}
    ${stubVersions(task.process)}
    """
}
