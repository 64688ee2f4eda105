process INTERPRET {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference), path(checkpoint)

    output:
    tuple val(meta), path("${meta.id}"), emit: interpretation
    path 'versions.yml',                 emit: versions

    script:
    def folder = meta.id
    def opts = Shell.options([
        '--reference': reference ?: null, '--fold': meta.heldout_fold ?: null,
        '--links': "${folder}/links.bedpe", '--interact': "${folder}/links.interact", '--tracks': "${folder}/tracks",
    ])
    def runJson = groovy.json.JsonOutput.toJson([name: "${meta.label} ${meta.task} ${meta.model} fold ${meta.fold}", sample: meta.label, task: meta.task, model: meta.model, fold: meta.fold])
    """
    export OMP_NUM_THREADS=${task.cpus}
    ${Shell.gpuSlot(task.ext.gpus)}
    mkdir -p ${Shell.quote(folder)}
    printf '%s\\n' ${Shell.quote(runJson)} > ${Shell.quote("${folder}/run.json")}
    chromoflow-perturb --dataset ${Shell.quote(dataset)} --checkpoint ${Shell.quote(checkpoint)} ${opts} ${Shell.options(task.ext.args)} -o ${Shell.quote("${folder}/effects.tsv")}

    ${Shell.versions(task.process, ['torch', 'pyBigWig'])}
    """

    stub:
    """
    mkdir -p ${Shell.quote("${meta.id}/tracks")}
    printf 'gene_id\\tkind\\tdelta\\n' > ${Shell.quote("${meta.id}/effects.tsv")}
    ${Shell.stubVersions(task.process)}
    """
}
