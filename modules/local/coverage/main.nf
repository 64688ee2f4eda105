include { shellOptions; shellQuote; stubVersions; versionsScript } from '../../../subworkflows/local/utils_chromoflow/shell'

process COVERAGE {
    tag "${meta.id}"
    label 'process_low'
    container "${params.container}"

    input:
    tuple val(meta), path(bam), path(bai)

    output:
    tuple val(meta), path("${task.ext.prefix ?: meta.id}.bw"), emit: bigwig
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: meta.id
    """
    chromoflow-coverage --bam ${shellQuote(bam.toString())} ${shellOptions(task.ext.args)} -o ${shellQuote("${prefix}.bw")}

    ${versionsScript(task.process, ['pysam', 'pyBigWig'])}
    """

    stub:
    def prefix = task.ext.prefix ?: meta.id
    """
    touch ${shellQuote("${prefix}.bw")}
    ${stubVersions(task.process)}
    """
}
