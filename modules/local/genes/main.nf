include { argWords; shellQuote; stubVersions; versionsScript; withoutOption } from '../../../subworkflows/local/utils_chromoflow/shell'

process GENES {
    tag "${annotation.name}"
    label 'process_single'
    container "${params.container}"

    input:
    tuple val(meta), path(annotation)

    output:
    tuple val(meta), path("${task.ext.prefix ?: meta.id}.tsv"), emit: genes
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: meta.id
    def gtf = annotation.name ==~ /(?i).*\.(gtf|gff|gff3)(\.gz)?$/  // GFF3 is read by the same reader
    def words = argWords(task.ext.args)
    def args = (gtf ? words : withoutOption(words, '--gene-type')).collect { w -> shellQuote(w) }.join(' ')  // a biotype filter needs a GTF
    """
    chromoflow-genes ${gtf ? '--gtf' : '--bed'} ${shellQuote(annotation.toString())} ${args} -o ${shellQuote("${prefix}.tsv")}

    ${versionsScript(task.process, [])}
    """

    stub:
    def prefix = task.ext.prefix ?: meta.id
    """
    printf 'gene_id\\tchrom\\ttss\\tstrand\\n' > ${shellQuote("${prefix}.tsv")}
    ${stubVersions(task.process)}
    """
}
