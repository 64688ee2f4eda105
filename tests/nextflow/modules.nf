#!/usr/bin/env nextflow
/*
 * Every module on its own, through its stub, in one launch: tests/test_modules.py writes placeholder inputs
 * into --inputs and reads each task's work folder (from the trace) to check what the module gives back.
 *
 *   nextflow run tests/nextflow/modules.nf -c nextflow.config -c modules_test.config -profile test -stub-run \
 *       --inputs DIR --outdir OUT
 */

include { GENES } from '../../modules/local/genes'
include { COVERAGE } from '../../modules/local/coverage'
include { PCRES } from '../../modules/local/pcres'
include { DATASET } from '../../modules/local/dataset'
include { TRAIN } from '../../modules/local/train'
include { PREDICT } from '../../modules/local/predict'
include { INTERPRET } from '../../modules/local/interpret'
include { SUMMARIZE } from '../../modules/local/summarize'
include { REPORT } from '../../modules/local/report'

def input(String name) {
    return file("${params.inputs}/${name}")
}

workflow {
    main:
    GENES(channel.of([[id: 'annotation'], input('genes.gtf')]))
    COVERAGE(channel.of([[id: 'cellA_H3K4me3'], input('cellA.bam'), input('cellA.bam.bai')]))
    PCRES(channel.of([[id: 'contacts'], input('contacts.mcool'), '::resolutions/5000']), input('genes.tsv'), [])
    DATASET(
        channel.of([[id: 'cellA'], [input('a/H3K4me3.bw'), input('b/H3K4me3.bw')], ['H3K4me3', 'H3K27ac'], input('pcres.tsv'), input('expression.tsv')]),
        input('genes.tsv'),
        []
    )
    TRAIN(channel.of([[id: 'cellA.regression.chromoformer'], input('cellA.h5'), [], 'chromoformer', 'regression', [1, 3], 'cellA/regression/chromoformer']), [])
    PREDICT(channel.of([[id: 'cellA.official'], input('cellA.h5'), [], input('model.pt'), 'pretrained/cellA']))
    INTERPRET(channel.of([[id: 'cellA.regression.chromoformer.fold1'], input('cellA.h5'), [], input('model.pt'), 1, [sample: 'cellA'], 'interpretation/fold1']))
    SUMMARIZE(input('manifest.tsv'), [input('heldout.tsv'), input('metrics.json')])
    REPORT([input('metrics.tsv')], [input('effects.tsv')], input('run.json'), input('versions.yml'), [])
}
