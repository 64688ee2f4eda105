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
    def args = task.ext.args ?: ''
    """
    chromoflow coverage --bam '${bam}' ${args} -o '${meta.id}.bw'

    cat <<END_VERSIONS > versions.yml
    "${task.process}":
        chromoflow: \$(chromoflow --version | sed 's/.*version //')
    END_VERSIONS
    """

    stub:
    """
    touch '${meta.id}.bw'
    printf '"${task.process}":\\n    chromoflow: stub\\n' > versions.yml
    """
}
