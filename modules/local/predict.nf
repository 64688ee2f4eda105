process PREDICT {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference), path(checkpoint)

    output:
    tuple val(meta), path("${meta.id}.predictions.tsv"), emit: predictions
    tuple val(meta), path("${meta.id}.info.json"),       emit: info
    path 'versions.yml',                                 emit: versions

    script:
    def opts = Shell.options(['--reference': reference ?: null, '--info': "${meta.id}.info.json"])
    """
    export OMP_NUM_THREADS=${task.cpus}
    ${Shell.gpuSlot(task.ext.gpus)}
    chromoflow-predict --dataset ${Shell.quote(dataset)} --checkpoint ${Shell.quote(checkpoint)} ${opts} ${Shell.options(task.ext.args)} -o ${Shell.quote("${meta.id}.predictions.tsv")}

    ${Shell.versions(task.process, ['torch'])}
    """

    stub:
    """
    printf 'gene_id\\tprediction\\tfold\\theldout\\n' > ${Shell.quote("${meta.id}.predictions.tsv")}
    echo '{}' > ${Shell.quote("${meta.id}.info.json")}
    ${Shell.stubVersions(task.process)}
    """
}
