include { shellOptions; shellQuote; stubVersions; versionsScript } from '../../../subworkflows/local/utils_chromoflow/shell'

process PCRES {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container}"

    input:
    // A multi-resolution file is addressed with its resolution: `uri_suffix` ::resolutions/N, or ''.
    tuple val(meta), path(contacts), val(uri_suffix)
    path genes
    path aliases   // UCSC chromAlias.txt, or [] for none

    output:
    tuple val(meta), path("${task.ext.prefix ?: meta.id}.pcres.tsv"), emit: pcres
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: meta.id
    // .name, not the path itself: Nextflow shell-escapes paths interpolated into strings, and shellQuote quotes.
    def source = contacts.name + (uri_suffix ?: '')
    """
    chromoflow-pcres --genes ${shellQuote(genes.toString())} --contacts ${shellQuote(source)} ${shellOptions(['--chrom-aliases': aliases ? aliases.toString() : null])} ${shellOptions(task.ext.args)} -o ${shellQuote("${prefix}.pcres.tsv")}

    ${versionsScript(task.process, ['hictkpy', 'cooler'])}
    """

    stub:
    def prefix = task.ext.prefix ?: meta.id
    """
    printf 'gene_id\\trank\\tchrom\\tstart\\tend\\tscore\\n' > ${shellQuote("${prefix}.pcres.tsv")}
    ${stubVersions(task.process)}
    """
}
