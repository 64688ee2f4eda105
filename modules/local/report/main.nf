include { shellOptions } from '../../../subworkflows/local/utils_chromoflow/shell'

process REPORT {
    tag 'report.html'
    label 'process_single'
    container "${params.container}"
    // By content: software_versions.yml is rewritten (same text, new time stamp) by every launch.
    cache 'deep'

    input:
    path summary, stageAs: 'summary/*'
    path interpretation, stageAs: 'interpretation/run*/*'  // each run's folder is named fold<k>
    path run_info
    path versions
    path truth

    output:
    path 'report.html', emit: report

    when:
    task.ext.when == null || task.ext.when

    script:
    def folders = (interpretation instanceof List ? interpretation : (interpretation ? [interpretation] : [])).collect { f -> f.toString() }  // the staged path, interpretation/run<i>/fold<k>
    def opts = shellOptions(['--interpretation': folders, '--run-info': run_info.toString(), '--versions': versions.toString(), '--truth': truth ? truth.toString() : null, '--title': task.ext.title])
    """
    chromoflow-report --summary summary ${opts} -o report.html
    """

    stub:
    """
    echo '<!doctype html><title>chromoflow report</title>' > report.html
    """
}
