process GENES {
    tag "${annotation.name}"
    label 'process_single'
    container "${params.container}"

    input:
    tuple val(meta), path(annotation)

    output:
    tuple val(meta), path('genes.tsv'), emit: genes
    path 'versions.yml',                 emit: versions

    script:
    def args = task.ext.args ?: ''
    def format = annotation.name =~ /\.(gtf|gff)(\.gz)?$/ ? '--gtf' : '--bed'
    if (format == '--bed') args = ''  // a biotype filter needs a GTF
    """
    chromoflow genes ${format} '${annotation}' ${args} -o genes.tsv

    cat <<END_VERSIONS > versions.yml
    "${task.process}":
        chromoflow: \$(chromoflow --version | sed 's/.*version //')
    END_VERSIONS
    """

    stub:
    """
    printf 'gene_id\\tchrom\\ttss\\tstrand\\n' > genes.tsv
    printf '"${task.process}":\\n    chromoflow: stub\\n' > versions.yml
    """
}
