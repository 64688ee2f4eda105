process PCRES {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container}"

    input:
    tuple val(meta), path(contacts)
    path genes
    path aliases   // UCSC chromAlias.txt, or [] for none

    output:
    tuple val(meta), path("${meta.id}.pcres.tsv"), emit: pcres
    path 'versions.yml',                           emit: versions

    script:
    // A multi-resolution file is addressed with its resolution: file.mcool::resolutions/N.
    // (.name, not the path itself: Nextflow shell-escapes paths interpolated into strings.)
    def source = contacts.name + (meta.uri_suffix ?: '')
    """
    chromoflow-pcres --genes ${Shell.quote(genes)} --contacts ${Shell.quote(source)} ${Shell.options(['--chrom-aliases': aliases ?: null])} ${Shell.options(task.ext.args)} -o ${Shell.quote("${meta.id}.pcres.tsv")}

    ${Shell.versions(task.process, ['hictkpy'])}
    """

    stub:
    """
    printf 'gene_id\\trank\\tchrom\\tstart\\tend\\tscore\\n' > ${Shell.quote("${meta.id}.pcres.tsv")}
    ${Shell.stubVersions(task.process)}
    """
}
