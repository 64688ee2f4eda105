include { shellOptions; shellQuote; stubVersions; versionsScript } from '../../../subworkflows/local/utils_chromoflow/shell'

process DATASET {
    tag "${meta.id}"
    label 'process_medium'
    container "${params.container}"

    input:
    // meta.id is the sample. Each track in its own folder (two marks' files may share a file name), in `marks` order.
    tuple val(meta), path(tracks, stageAs: 'track*/*'), val(marks), path(pcres), path(expression)
    path genes
    path aliases   // UCSC chromAlias.txt, or [] for none

    output:
    tuple val(meta), path("${task.ext.prefix ?: meta.id}.h5"), emit: dataset
    path 'versions.yml', emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: meta.id
    def files = tracks instanceof List ? tracks : [tracks]
    def track_args = [marks, files].transpose().collect { m, f -> '--track ' + shellQuote(m + '=' + f.toString()) }.join(' ')
    def opts = shellOptions(['--pcres': pcres ? pcres.toString() : null, '--expression': expression ? expression.toString() : null, '--chrom-aliases': aliases ? aliases.toString() : null])
    """
    chromoflow-dataset --sample ${shellQuote(meta.id)} --genes ${shellQuote(genes.toString())} ${opts} ${track_args} ${shellOptions(task.ext.args)} -j ${task.cpus} -o ${shellQuote("${prefix}.h5")}

    ${versionsScript(task.process, ['pyBigWig', 'pysam', 'h5py'])}
    """

    stub:
    def prefix = task.ext.prefix ?: meta.id
    """
    touch ${shellQuote("${prefix}.h5")}
    ${stubVersions(task.process)}
    """
}
