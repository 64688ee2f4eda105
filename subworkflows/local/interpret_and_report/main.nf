/*
 * INTERPRET_AND_REPORT: the interpretation of each Chromoformer run on its held-out fold (--perturb),
 * one summary over every run, and one report.
 *
 *   take:  runs        [run, predictions.tsv, metrics.json | null, info.json | null]
 *          checkpoints [run, dataset.h5, reference.h5 | [], model.pt] to interpret
 *          run_info    the run's description (JSON file)
 *          versions    the versions.yml of every task so far
 *   emit:  metrics, predictions, multiqc (custom content), report, software_versions (one block per process)
 */

include { INTERPRET } from '../../../modules/local/interpret'
include { SUMMARIZE } from '../../../modules/local/summarize'
include { REPORT    } from '../../../modules/local/report'
include { runManifest } from '../utils_chromoflow/dataflow'

workflow INTERPRET_AND_REPORT {
    take:
    runs
    checkpoints
    run_info
    versions

    main:
    if (params.perturb) {
        INTERPRET(checkpoints.map { run, h5, ref, ckpt ->
            def description = [name: "${run.label} ${run.task} ${run.model} fold ${run.fold}".toString(), sample: run.label, task: run.task, model: run.model, fold: run.fold]
            [[id: run.id], h5, ref, ckpt, run.fold == 'auto' ? null : run.fold, description, "${run.label}/${run.task}/${run.model}/fold${run.fold}".toString()]
        })
        // In run order, not the order tasks finished: the same REPORT inputs (and cache hash) every launch.
        ch_interpretation = INTERPRET.out.interpretation.toSortedList { a, b -> a[0].id <=> b[0].id }.map { list -> list.collect { _meta, folder -> folder } }
        ch_versions = INTERPRET.out.versions
    } else {
        ch_interpretation = channel.value([])
        ch_versions = channel.empty()
    }

    // One manifest row per run, then one summary. Each run's files are staged in their own folder
    // (SUMMARIZE: runs/run<i>/, numbered in this list's order), so files of the same name never collide.
    ch_run_list = runs.map { run, tsv, json, info -> [run, [tsv, json, info]] }.toSortedList { a, b -> a[0].id <=> b[0].id }
    ch_run_files = ch_run_list.map { list -> list.collectMany { _run, fs -> fs.findAll { f -> f } } }
    ch_manifest = ch_run_list.map { list -> runManifest(list) }.collectFile(name: 'manifest.tsv')
    SUMMARIZE(ch_manifest, ch_run_files)

    // Software versions, one block per process (REPORT's own stay out: it reads this file).
    ch_software = versions.mix(ch_versions, SUMMARIZE.out.versions).unique { f -> f.text }
        .collectFile(name: 'chromoflow_software_mqc_versions.yml', storeDir: "${params.outdir}/pipeline_info", sort: { f -> f.text })

    ch_summary = SUMMARIZE.out.metrics.mix(SUMMARIZE.out.by_model, SUMMARIZE.out.predictions, SUMMARIZE.out.figures.flatten()).collect()
    REPORT(ch_summary, ch_interpretation, run_info, ch_software, params.truth ? file(params.truth.toString()) : [])


    // Emitted by name: Nextflow 25.04 under the strict parser emits only variables of the emitted name.
    metrics = SUMMARIZE.out.metrics
    predictions = SUMMARIZE.out.predictions
    multiqc = SUMMARIZE.out.multiqc
    report = REPORT.out.report
    software_versions = ch_software

    emit:
    metrics
    predictions
    multiqc
    report
    software_versions
}
