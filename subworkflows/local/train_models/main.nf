/*
 * TRAIN_MODELS: one TRAIN task per job (sample x task x model x group of held-out folds); each
 * writes every fold's held-out predictions, so no second pass over the fold is needed.
 *
 *   take:  datasets [sample, dataset.h5]
 *          jobs     [id, base, sample, label, reference, task, model, folds] (planJobs)
 *          config   a YAML training config, or [] for a preset
 *   emit:  runs      one per fold: [run, heldout.tsv, metrics.json, null]
 *          checkpoints one per fold: [run, dataset.h5, reference.h5 | [], model.pt]
 *   A run: [id, label, task, model, fold] of one held-out fold (its id: <label>.<task>.<model>.fold<k>).
 */

include { TRAIN } from '../../../modules/local/train'

workflow TRAIN_MODELS {
    take:
    datasets
    jobs
    config

    main:
    // Each job with its dataset (and the reference's, for fold change).
    ch_job_a = channel.fromList(jobs).map { job -> [job.sample, job] }
        .combine(datasets, by: 0)
        .map { _sample, job, h5 -> [job, h5] }
    ch_jobs = ch_job_a.filter { job, _h5 -> job.reference }
        .map { job, h5 -> [job.reference, job, h5] }
        .combine(datasets, by: 0)
        .map { _ref, job, h5, ref_h5 -> [job, h5, ref_h5] }
        .mix(ch_job_a.filter { job, _h5 -> !job.reference }.map { job, h5 -> [job, h5, []] })
    TRAIN(ch_jobs.map { job, h5, ref -> [[id: job.id], h5, ref, job.model, job.task, job.folds, "${job.label}/${job.task}/${job.model}".toString()] }, config)

    // One run per fold: the folders fold<k>/ the task was asked for.
    ch_folds = TRAIN.out.folds
        .join(ch_jobs.map { job, h5, ref -> [[id: job.id], job, h5, ref] })
        .flatMap { _meta, dirs, job, h5, ref ->
            def byName = (dirs instanceof List ? dirs : [dirs]).collectEntries { d -> [d.name, d] }
            job.folds.collect { k -> [[id: "${job.base}.fold${k}".toString(), label: job.label, task: job.task, model: job.model, fold: k], byName["fold${k}"], h5, ref] }
        }


    // Emitted by name: Nextflow 25.04 under the strict parser emits only variables of the emitted name.
    runs = ch_folds.map { run, dir, _h5, _ref -> [run, dir.resolve('heldout.tsv'), dir.resolve('metrics.json'), null] }
    checkpoints = ch_folds.map { run, dir, h5, ref -> [run, h5, ref, dir.resolve('model.pt')] }
    versions = TRAIN.out.versions

    emit:
    runs
    checkpoints
    versions
}
