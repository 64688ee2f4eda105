process COVERAGE {
    tag "${meta.id}"
    label 'process_low'
    container "${params.container}"

    input:
    tuple val(meta), path(bam), path(bai)

    output:
    tuple val(meta), path("${meta.id}.bw"), emit: bigwig
    path 'versions.yml',                    emit: versions

    script:
    """
    chromoflow-coverage --bam ${Shell.quote(bam)} ${Shell.options(task.ext.args)} -o ${Shell.quote("${meta.id}.bw")}

    ${Shell.versions(task.process, ['pysam', 'pyBigWig'])}
    """

    stub:
    """
    touch ${Shell.quote("${meta.id}.bw")}
    ${Shell.stubVersions(task.process)}
    """
}
