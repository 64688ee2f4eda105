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
    def args = task.ext.args ?: ''
    // A .mcool is addressed with its resolution: file.mcool::resolutions/N
    def source = meta.uri_suffix ? "${contacts}${meta.uri_suffix}" : "${contacts}"
    """
    chromoflow pcres --genes '${genes}' --contacts '${source}' ${args} -o '${meta.id}.pcres.tsv'

    cat <<END_VERSIONS > versions.yml
    "${task.process}":
        chromoflow: \$(chromoflow --version | sed 's/.*version //')
        cooler: \$(python3 -c 'import importlib.metadata as m; print(m.version("cooler"))')
    END_VERSIONS
    """

    stub:
    """
    printf 'gene_id\\trank\\tchrom\\tstart\\tend\\tscore\\n' > '${meta.id}.pcres.tsv'
    printf '"${task.process}":\\n    chromoflow: stub\\n' > versions.yml
    """
}
