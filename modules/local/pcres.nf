process PCRES {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container}"

    input:
    tuple val(meta), path(contacts)
    path genes

    output:
    tuple val(meta), path("${meta.id}.pcres.tsv"), emit: pcres
    path 'versions.yml',                           emit: versions

    script:
    // A multi-resolution file is addressed with its resolution: file.mcool::resolutions/N
    def source = meta.uri_suffix ? "${contacts}${meta.uri_suffix}" : "${contacts}"
    """
    chromoflow-pcres --genes ${Shell.quote(genes)} --contacts ${Shell.quote(source)} ${Shell.options(task.ext.args)} -o ${Shell.quote("${meta.id}.pcres.tsv")}

    ${Shell.versions(task.process, ['hictkpy'])}
    """

    stub:
    """
    printf 'gene_id\\trank\\tchrom\\tstart\\tend\\tscore\\n' > ${Shell.quote("${meta.id}.pcres.tsv")}
    ${Shell.stubVersions(task.process)}
    """
}
