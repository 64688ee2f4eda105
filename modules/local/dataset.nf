process DATASET {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container}"

    input:
    tuple val(meta), path(tracks, stageAs: 'tracks/*'), path(pcres), path(expression)
    path genes

    output:
    tuple val(meta), path("${meta.id}.h5"), emit: dataset
    path 'versions.yml',                    emit: versions

    script:
    def args = task.ext.args ?: ''
    // One --track MARK=FILE per mark, in meta.marks order (tracks are staged in that order).
    def track_args = [meta.marks, tracks instanceof List ? tracks : [tracks]].transpose().collect { m, f -> "--track '${m}=${f}'" }.join(' ')
    def pcre_arg = pcres ? "--pcres '${pcres}'" : ''
    def expr_arg = expression ? "--expression '${expression}'" : ''
    """
    chromoflow dataset --sample '${meta.id}' --genes '${genes}' ${pcre_arg} ${track_args} ${expr_arg} ${args} -j ${task.cpus} -o '${meta.id}.h5'

    cat <<END_VERSIONS > versions.yml
    "${task.process}":
        chromoflow: \$(chromoflow --version | sed 's/.*version //')
        pyBigWig: \$(python3 -c 'import importlib.metadata as m; print(m.version("pyBigWig"))')
        pysam: \$(python3 -c 'import importlib.metadata as m; print(m.version("pysam"))')
        h5py: \$(python3 -c 'import importlib.metadata as m; print(m.version("h5py"))')
    END_VERSIONS
    """

    stub:
    """
    touch '${meta.id}.h5'
    printf '"${task.process}":\\n    chromoflow: stub\\n' > versions.yml
    """
}
