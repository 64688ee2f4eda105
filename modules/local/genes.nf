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
    def gtf = annotation.name ==~ /(?i).*\.(gtf|gff|gff3)(\.gz)?$/  // GFF3 is read by the same reader
    def opts = (task.ext.args ?: [:]).findAll { k, v -> gtf || k != '--gene-type' }  // a biotype filter needs a GTF
    """
    chromoflow-genes ${gtf ? '--gtf' : '--bed'} ${Shell.quote(annotation)} ${Shell.options(opts)} -o genes.tsv

    ${Shell.versions(task.process)}
    """

    stub:
    """
    printf 'gene_id\\tchrom\\ttss\\tstrand\\n' > genes.tsv
    ${Shell.stubVersions(task.process)}
    """
}
