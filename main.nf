#!/usr/bin/env nextflow
/*
 * chromoflow: samplesheet -> per-sample datasets -> one training task per sample x task x model
 * x group of held-out folds (GPU label), which writes its held-out predictions -> interpretation
 * -> summary and report. With --pretrained: predictions of each checkpoint for every sample,
 * scored on the genes it was not trained on.
 *
 *   nextflow run . -profile test                    (bundled synthetic data, CPU)
 *   nextflow run . -profile docker,gpu --input samplesheet.csv --genes genes.gtf.gz --outdir results
 *
 * Every parameter, the samplesheet, the jobs and the container are checked here, before any task.
 */

include { CHROMOFLOW                         } from './workflows/chromoflow'
include { checkInputs; informationRequested; removeStartedReports } from './subworkflows/local/utils_chromoflow'

workflow {
    main:
    def information = informationRequested(params, projectDir, workflow.manifest)
    if (information) {
        log.info(information)
        return
    }
    def (samples, marks, jobs, errors, warnings, isYaml) = checkInputs(params, projectDir, workflow.commandLine, [engine: workflow.containerEngine ?: '', profiles: workflow.profile.tokenize(','), env: System.getenv()])
    warnings.each { w -> log.warn(w) }
    if (errors) {
        removeStartedReports(params)
        error("chromoflow cannot start:\n  - " + errors.join("\n  - "))
    }
    log.info("chromoflow: ${samples.size()} sample(s), marks ${marks.join(',')}, " + (params.pretrained ? "predict-only with ${params.pretrained}" : "${jobs.size()} training task(s), ${jobs.sum { j -> j.folds.size() }} fold run(s)"))
    CHROMOFLOW(samples, marks, jobs, isYaml ? file(params.config.toString()) : [])
}
