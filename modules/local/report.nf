process REPORT {
    tag 'report.html'
    label 'process_single'
    container "${params.container}"
    // By content: software_versions.yml is rewritten (same text, new time stamp) by every launch.
    cache 'deep'

    input:
    path summary, stageAs: 'summary/*'
    path interpretation, stageAs: 'interpretation/*'
    path run_info
    path versions
    path truth

    output:
    path 'report.html', emit: report

    script:
    def folders = (interpretation instanceof List ? interpretation : (interpretation ? [interpretation] : [])).collect { it.toString() }  // the staged path, interpretation/<run>
    def opts = Shell.options(['--interpretation': folders, '--run-info': run_info, '--versions': versions, '--truth': truth ?: null, '--title': task.ext.title])
    """
    chromoflow-report --summary summary ${opts} -o report.html
    """

    stub:
    """
    echo '<!doctype html><title>chromoflow report</title>' > report.html
    """
}
