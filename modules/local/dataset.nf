process DATASET {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container}"

    input:
    // Each track in its own folder: two marks' files may share a file name.
    tuple val(meta), path(tracks, stageAs: 'track*/*'), path(pcres), path(expression)
    path genes
    path aliases   // UCSC chromAlias.txt, or [] for none

    output:
    tuple val(meta), path("${meta.id}.h5"), emit: dataset
    path 'versions.yml',                    emit: versions

    script:
    // One --track MARK=FILE per mark, in meta.marks order (tracks are staged in that order).
    def files = tracks instanceof List ? tracks : [tracks]
    // f.toString(), not "${f}": Nextflow shell-escapes paths interpolated into strings, and Shell.quote does the quoting.
    def track_args = [meta.marks, files].transpose().collect { m, f -> '--track ' + Shell.quote(m + '=' + f.toString()) }.join(' ')
    def opts = Shell.options(['--pcres': pcres ?: null, '--expression': expression ?: null, '--chrom-aliases': aliases ?: null])
    """
    chromoflow-dataset --sample ${Shell.quote(meta.id)} --genes ${Shell.quote(genes)} ${opts} ${track_args} ${Shell.options(task.ext.args)} -j ${task.cpus} -o ${Shell.quote("${meta.id}.h5")}

    ${Shell.versions(task.process, ['pyBigWig', 'pysam', 'h5py'])}
    """

    stub:
    """
    touch ${Shell.quote("${meta.id}.h5")}
    ${Shell.stubVersions(task.process)}
    """
}
