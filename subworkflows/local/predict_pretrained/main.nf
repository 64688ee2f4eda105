/*
 * PREDICT_PRETRAINED (--pretrained): every sample with every checkpoint; each checkpoint is scored
 * on the genes it was not trained on (its info says which).
 *
 *   take:  datasets    [sample, dataset.h5]
 *          checkpoints [label, model.pt] (checkpointLabels)
 *   emit:  runs        [run, predictions.tsv, null, info.json]
 *          checkpoints the Chromoformer ones, for interpretation: [run, dataset.h5, [], model.pt]
 *   A run: [id, label, task, model, fold] (task, model and fold from the checkpoint's info).
 */

include { PREDICT } from '../../../modules/local/predict'

workflow PREDICT_PRETRAINED {
    take:
    datasets
    checkpoints

    main:
    ch_in = datasets.combine(checkpoints).map { name, h5, label, ckpt -> [[id: "${name}.${label}".toString()], name, h5, ckpt] }
    PREDICT(ch_in.map { meta, name, h5, ckpt -> [meta, h5, [], ckpt, name] })
    ch_described = PREDICT.out.predictions.join(PREDICT.out.info)
        .join(ch_in.map { meta, name, h5, ckpt -> [meta, name, h5, ckpt] })
        .map { meta, tsv, info, name, h5, ckpt ->
            def origin = new groovy.json.JsonSlurper().parse(info.toFile()) as Map
            [[id: meta.id, label: name, task: origin.task ?: 'auto', model: origin.model ?: 'auto', fold: origin.fold ?: 'auto'], tsv, info, h5, ckpt]
        }


    // Emitted by name: Nextflow 25.04 under the strict parser emits only variables of the emitted name.
    runs = ch_described.map { run, tsv, info, _h5, _ckpt -> [run, tsv, null, info] }
    checkpoints = ch_described.filter { run, _tsv, _info, _h5, _ckpt -> run.model == 'chromoformer' }.map { run, _tsv, _info, h5, ckpt -> [run, h5, [], ckpt] }
    versions = PREDICT.out.versions

    emit:
    runs
    checkpoints
    versions
}
