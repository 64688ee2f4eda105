process PREDICT {
    tag "${meta.id}"
    label 'process_gpu'
    container "${params.container}"

    input:
    tuple val(meta), path(dataset), path(reference), path(checkpoint)

    output:
    tuple val(meta), path("${meta.id}.predictions.tsv"), emit: predictions
    tuple val(meta), path("${meta.id}.attention.bedpe*"), emit: attention, optional: true
    path 'versions.yml',                                 emit: versions

    script:
    def args = task.ext.args ?: ''
    def ref_arg = reference ? "--reference '${reference}'" : ''
    def fold_arg = meta.fold ? "--fold ${meta.fold}" : ''
    def att_arg = params.attention && meta.model == 'chromoformer' ? "--attention '${meta.id}.attention.bedpe'" : ''
    """
    export OMP_NUM_THREADS=${task.cpus}
    chromoflow predict --dataset '${dataset}' ${ref_arg} --checkpoint '${checkpoint}' ${fold_arg} ${att_arg} ${args} -o '${meta.id}.predictions.tsv'

    cat <<END_VERSIONS > versions.yml
    "${task.process}":
        chromoflow: \$(chromoflow --version | sed 's/.*version //')
        torch: \$(python3 -c 'import importlib.metadata as m; print(m.version("torch"))')
    END_VERSIONS
    """

    stub:
    """
    printf 'gene_id\\tprediction\\tfold\\n' > '${meta.id}.predictions.tsv'
    printf '"${task.process}":\\n    chromoflow: stub\\n' > versions.yml
    """
}
