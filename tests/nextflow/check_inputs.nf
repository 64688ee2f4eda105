#!/usr/bin/env nextflow
/*
 * The pipeline's checks before any task (checkInputs: parameters, samplesheet, job plan), on many
 * cases in one launch: tests/test_pipeline_checks.py writes the cases, this prints the outcomes.
 *
 *   nextflow run tests/nextflow/check_inputs.nf -c nextflow.config -profile test \
 *       --cases cases.json --results results.json --repo .
 *
 * cases.json: {"inputs": [{"name": .., "params": {overrides}, "command_line": "..", "engine": "..",
 *                          "profiles": [..], "env": {variables replaced in this launch's environment}}],
 *              "ext_args": [a String or a Map, as a config's ext.args]}
 * results.json: {"inputs": one entry per case (errors, warnings, samples, marks, planned jobs),
 *                "ext_args": the options each ext.args gives a task script (shellOptions)}.
 */

include { checkInputs } from '../../subworkflows/local/utils_chromoflow'
include { shellOptions } from '../../subworkflows/local/utils_chromoflow/shell'

workflow {
    main:
    def spec = new groovy.json.JsonSlurper().parse(file(params.cases.toString()).toFile()) as Map
    def cases = (spec.inputs ?: []) as List
    def defaults = params.findAll { k, _v -> !(k.toString() in ['cases', 'results', 'repo']) }
    def results = cases.collect { c ->
        def merged = defaults + ((c.params ?: [:]) as Map)
        def (samples, marks, jobs, errors, warnings, _isYaml) = checkInputs(merged, file(params.repo.toString()), (c.command_line ?: '').toString(), [engine: (c.engine ?: '').toString(), profiles: (c.profiles ?: []) as List, env: System.getenv() + ((c.env ?: [:]) as Map)])
        [
            name: c.name, errors: errors.collect { e -> e.toString() }, warnings: warnings.collect { w -> w.toString() },
            samples: samples.keySet().toList(), marks: marks, jobs: jobs.collect { j -> [id: j.id.toString(), folds: j.folds, sample: j.sample, label: j.label.toString(), reference: j.reference] },
        ]
    }
    def extArgs = ((spec.ext_args ?: []) as List).collect { a -> shellOptions(a) }
    file(params.results.toString()).text = groovy.json.JsonOutput.prettyPrint(groovy.json.JsonOutput.toJson([inputs: results, ext_args: extArgs]))
}
