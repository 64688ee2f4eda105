/*
 * The pipeline's dataflow; its inputs arrive checked and planned (main.nf, utils_chromoflow).
 *
 *   PREPARE: GENES ─┬─ PCRES (one per distinct contacts source) ─┐
 *                   │   COVERAGE (BAM tracks only) ──────────────┼─ DATASET (per sample)
 *                   └────────────────────────────────────────────┘       │
 *   TRAIN_MODELS (sample x task x model x fold group; writes held-out predictions) ─┤
 *   or PREDICT_PRETRAINED (--pretrained: each checkpoint x sample) ──────────────────┤
 *   INTERPRET_AND_REPORT: INTERPRET (Chromoformer runs) · SUMMARIZE · REPORT ────────┘
 */

include { PREPARE              } from '../subworkflows/local/prepare'
include { TRAIN_MODELS         } from '../subworkflows/local/train_models'
include { PREDICT_PRETRAINED   } from '../subworkflows/local/predict_pretrained'
include { INTERPRET_AND_REPORT } from '../subworkflows/local/interpret_and_report'
include { checkpointLabels; runInfo } from '../subworkflows/local/utils_chromoflow/dataflow'

workflow CHROMOFLOW {
    take:
    samples      // [name: [marks, tracks: [mark: [path, index]], contacts: [path, suffix] | null, expression: path | null]]
    marks        // channel order
    jobs         // training jobs (planJobs); empty for --pretrained
    config_yaml  // a YAML training config, or [] for a preset

    main:
    PREPARE(samples, marks)

    if (params.pretrained) {
        def checkpoints = files(params.pretrained.toString()).sort { f -> f.toString() }
        PREDICT_PRETRAINED(PREPARE.out.datasets, channel.fromList([checkpointLabels(checkpoints), checkpoints].transpose()))
        ch_runs = PREDICT_PRETRAINED.out.runs
        ch_checkpoints = PREDICT_PRETRAINED.out.checkpoints
        ch_versions = PREDICT_PRETRAINED.out.versions
    } else {
        TRAIN_MODELS(PREPARE.out.datasets, jobs, config_yaml)
        ch_runs = TRAIN_MODELS.out.runs
        ch_checkpoints = TRAIN_MODELS.out.checkpoints.filter { run, _h5, _ref, _ckpt -> run.model == 'chromoformer' }
        ch_versions = TRAIN_MODELS.out.versions
    }

    ch_run_info = channel.of(runInfo(samples, marks, params, workflow.manifest.version)).collectFile(name: 'run_info.json')
    INTERPRET_AND_REPORT(ch_runs, ch_checkpoints, ch_run_info, PREPARE.out.versions.mix(ch_versions))


    // Emitted by name: Nextflow 25.04 under the strict parser emits only variables of the emitted name.
    metrics = INTERPRET_AND_REPORT.out.metrics
    predictions = INTERPRET_AND_REPORT.out.predictions
    report = INTERPRET_AND_REPORT.out.report

    emit:
    metrics
    predictions
    report
}
