#!/usr/bin/env nextflow
/*
 * chromoflow: samplesheet -> per-sample datasets -> one training task per
 * sample x fold x model x task (GPU label) -> held-out predictions -> summary.
 *
 *   nextflow run . -profile test                    (bundled synthetic data, CPU)
 *   nextflow run . -profile docker,gpu --input samplesheet.csv --genes genes.gtf.gz --outdir results
 *
 * Every parameter and the samplesheet are checked here, before any task starts.
 */
nextflow.enable.dsl = 2

include { CHROMOFLOW } from './workflows/chromoflow'

PRESETS = ['default', 'official', 'tiny']

def foldList(String folds, String scheme) {
    if (folds != 'all') return folds.tokenize(',')*.toInteger().unique()
    def k = scheme ==~ /(chrom|random):\d+/ ? scheme.tokenize(':')[1].toInteger() : 4
    return (1..k).toList()
}

/*
 * Everything checked before any task starts: [samples, marks, jobs, errors].
 */
def checkInputs() {
    def schema = new File("${projectDir}/nextflow_schema.json")
    def errors = params.validate_params ? ParamsSchema.validate(params, schema) : []
    if (!params.input) errors << "--input: give a samplesheet CSV (sample,mark,track[,contacts,expression]; see README)"
    if (!params.genes) errors << "--genes: give a GTF or BED6 gene annotation"
    else if (!(params.genes ==~ /(?i).*\.(gtf|gff|bed)(\.gz)?$/)) errors << "--genes ${params.genes}: expected a .gtf[.gz] or .bed[.gz] file"
    else if (!params.genes.contains('://') && !file(params.genes).exists()) errors << "--genes ${params.genes}: file not found"
    def isYaml = params.config ==~ /(?i).*\.ya?ml$/
    if (isYaml && !file(params.config).exists()) errors << "--config ${params.config}: file not found"
    if (!isYaml && !(params.config in PRESETS)) errors << "--config ${params.config}: expected a preset (${PRESETS.join(', ')}) or a .yaml file"

    def wantedMarks = params.marks ? params.marks.tokenize(',')*.trim() : null
    def sheet = params.input ? Samplesheet.read(params.input as String, wantedMarks) : [samples: [:], errors: []]
    errors += sheet.errors
    def samples = sheet.samples
    def models = params.models.tokenize(',')*.trim().unique()
    def tasks = params.tasks.tokenize(',')*.trim().unique()
    def folds = foldList(params.folds as String, params.fold_scheme as String)

    // Training jobs: sample x task x model x fold (fold change: pair x model x fold).
    def jobs = []
    if (!errors && !params.pretrained) {
        def withExpr = samples.findAll { k, s -> s.expression }.keySet().toList()
        samples.each { k, s -> if (!s.expression) log.warn "sample '${k}' has no expression table: it gets a dataset but no training" }
        tasks.findAll { it != 'fold-change' }.each { task ->
            withExpr.each { sample -> models.each { model -> folds.each { fold ->
                jobs << [id: "${sample}.${task}.${model}.fold${fold}", sample: sample, label: sample, reference: null, task: task, model: model, fold: fold]
            } } }
        }
        if ('fold-change' in tasks) {
            def pairs = params.pairs ? params.pairs.tokenize(',').collect { it.tokenize(':') } : [withExpr, withExpr].combinations().findAll { a, b -> withExpr.indexOf(a) < withExpr.indexOf(b) }
            pairs.each { a, b ->
                [a, b].each { if (!(it in samples.keySet())) errors << "--pairs: unknown sample '${it}'" else if (!(it in withExpr)) errors << "--pairs: sample '${it}' has no expression table" }
            }
            if (!pairs) errors << "--tasks fold-change needs two samples with expression (or --pairs A:B)"
            pairs.each { a, b -> models.each { model -> folds.each { fold ->
                jobs << [id: "${a}_vs_${b}.fold-change.${model}.fold${fold}", sample: a, label: "${a}_vs_${b}", reference: b, task: 'fold-change', model: model, fold: fold]
            } } }
        }
        if (!jobs && !errors) errors << "nothing to train: no sample has an expression table (give one in the samplesheet, or --pretrained checkpoints for predictions only)"
    }
    def marks = errors ? [] : Samplesheet.markOrder(samples, wantedMarks)
    return [samples, marks, jobs, errors, isYaml]
}

workflow {
    if (params.help) {
        log.info ParamsSchema.help(new File("${projectDir}/nextflow_schema.json"))
        return
    }
    def (samples, marks, jobs, errors, isYaml) = checkInputs()
    if (errors) {
        error("chromoflow cannot start:\n  - " + errors.join("\n  - "))
    }
    log.info "chromoflow: ${samples.size()} sample(s), marks ${marks.join(',')}, " + (params.pretrained ? "predict-only with ${params.pretrained}" : "${jobs.size()} training task(s)")
    CHROMOFLOW(samples, marks, jobs, isYaml ? file(params.config) : [])
}
