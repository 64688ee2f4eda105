process TRAIN {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference)
    path config_yaml

    output:
    tuple val(meta), path('model.pt'),     emit: model
    tuple val(meta), path("${meta.id}.metrics.json"), emit: metrics
    tuple val(meta), path('metrics.json'), path('history.tsv'), path('heldout.tsv'), path('*.png'), emit: reports
    path 'versions.yml',                   emit: versions

    script:
    def args = task.ext.args ?: ''
    def config = config_yaml ? config_yaml.name : (task.ext.preset ?: 'default')
    def ref_arg = reference ? "--reference '${reference}'" : ''
    """
    export OMP_NUM_THREADS=${task.cpus}
    chromoflow train --dataset '${dataset}' ${ref_arg} --model ${meta.model} --task ${meta.task} --fold ${meta.fold} \\
        --config '${config}' ${args} -o .
    cp metrics.json '${meta.id}.metrics.json'

    cat <<END_VERSIONS > versions.yml
    "${task.process}":
        chromoflow: \$(chromoflow --version | sed 's/.*version //')
        torch: \$(python3 -c 'import importlib.metadata as m; print(m.version("torch"))')
    END_VERSIONS
    """

    stub:
    """
    touch model.pt history.tsv heldout.tsv history.png
    echo '{"task": "${meta.task}", "model": "${meta.model}", "fold": ${meta.fold}, "sample": "${meta.sample}", "heldout": {}}' > metrics.json
    cp metrics.json '${meta.id}.metrics.json'
    printf '"${task.process}":\\n    chromoflow: stub\\n' > versions.yml
    """
}
