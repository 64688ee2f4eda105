#!/usr/bin/env nextflow
/*
 * chromoflow: samplesheet -> per-sample datasets -> one training task per
 * sample x fold x model x task (GPU label), which writes its held-out
 * predictions -> summary. With --pretrained: predictions of each checkpoint
 * for every sample, scored on the genes it was not trained on.
 *
 *   nextflow run . -profile test                    (bundled synthetic data, CPU)
 *   nextflow run . -profile docker,gpu --input samplesheet.csv --genes genes.gtf.gz --outdir results
 *
 * Every parameter and the samplesheet are checked here, before any task starts.
 */
nextflow.enable.dsl = 2

include { CHROMOFLOW } from './workflows/chromoflow'

PRESETS = ['default', 'official', 'tiny']

/** Number of folds a scheme makes (official: the published 4). */
def foldCount(String scheme) {
    return scheme ==~ /(chrom|random):\d+/ ? scheme.tokenize(':')[1].toInteger() : 4
}

/*
 * Everything checked before any task starts: [samples, marks, jobs, errors, isYaml].
 */
def checkInputs() {
    def schema = new File("${projectDir}/nextflow_schema.json")
    def errors = params.validate_params ? ParamsSchema.validate(params, schema) : []
    if (params.genes && !(params.genes.toString() ==~ /(?i).*\.(gtf|gff|gff3|bed)(\.gz)?$/)) errors << "--genes ${params.genes}: expected a GTF (.gtf), GFF3 (.gff, .gff3) or BED6 (.bed) file, gzipped or not"
    def config = params.config.toString()
    def isYaml = config ==~ /(?i).*\.ya?ml$/
    if (isYaml && !file(config).exists()) errors << "--config ${config}: file not found"
    if (!isYaml && !(config in PRESETS)) errors << "--config ${config}: expected a preset (${PRESETS.join(', ')}) or a .yaml file"
    if (params.gene_type && params.gene_type.toString().split(',', -1).any { !it.trim() }) errors << "--gene_type '${params.gene_type}': empty item in the comma-separated list"

    // Folds: numbers within the scheme.
    def scheme = params.fold_scheme.toString()
    def k = foldCount(scheme)
    def foldsText = params.folds.toString()
    def foldItems = foldsText == 'all' ? [] : foldsText.tokenize(',')*.trim()
    def notFolds = foldItems.findAll { !(it ==~ /\d+/) }
    if (notFolds || (foldsText != 'all' && !foldItems)) errors << "--folds ${foldsText}: '${notFolds ? notFolds[0] : foldsText}' is not a fold number; give 'all' or comma-separated fold numbers (e.g. 1,2)"
    def folds = foldsText == 'all' ? (1..k).toList() : foldItems.findAll { it ==~ /\d+/ }*.toInteger().unique()
    def outside = folds.findAll { it < 1 || it > k }
    if (outside) errors << "--folds ${foldsText}: fold(s) ${outside.join(', ')} do not exist under --fold_scheme ${scheme} (folds 1-${k}${scheme == 'auto' ? '; auto makes 4' : ''})"

    def wantedMarks = params.marks ? params.marks.toString().tokenize(',')*.trim() : null
    def sheet = params.input ? Samplesheet.read(params.input.toString(), wantedMarks) : [samples: [:], errors: []]
    errors += sheet.errors
    def samples = sheet.samples
    def models = params.models.toString().tokenize(',')*.trim().unique()
    def tasks = params.tasks.toString().tokenize(',')*.trim().unique()

    // Training jobs: sample x task x model x fold group (fold change: pair x model x fold group).
    // --folds_per_task N puts N folds in one task (0: all of them), trained one after another there.
    def per = (params.folds_per_task ?: 0) as int
    def groups = per > 0 ? folds.collate(per) : [folds]
    def job = { String sample, String label, String reference, String task, String model, List group ->
        def base = "${label}.${task}.${model}"
        [id: group.size() == 1 ? "${base}.fold${group[0]}" : "${base}.folds${group.join('-')}", base: base, sample: sample, label: label, reference: reference, task: task, model: model, folds: group]
    }
    def jobs = []
    if (!errors && !params.pretrained) {
        def withExpr = samples.findAll { name, s -> s.expression }.keySet().toList()
        samples.each { name, s -> if (!s.expression) log.warn "sample '${name}' has no expression table: it gets a dataset but no training" }
        tasks.findAll { it != 'fold-change' }.each { task ->
            withExpr.each { sample -> models.each { model -> groups.each { group ->
                jobs << job(sample, sample, null, task, model, group)
            } } }
        }
        if ('fold-change' in tasks) {
            def pairs = params.pairs ? params.pairs.toString().tokenize(',').collect { it.tokenize(':') } : [withExpr, withExpr].combinations().findAll { a, b -> withExpr.indexOf(a) < withExpr.indexOf(b) }
            pairs.each { a, b ->
                [a, b].each { if (!(it in samples.keySet())) errors << "--pairs: unknown sample '${it}'" else if (!(it in withExpr)) errors << "--pairs: sample '${it}' has no expression table" }
            }
            if (!pairs) errors << "--tasks fold-change needs two samples with expression (or --pairs A:B)"
            pairs.each { a, b -> models.each { model -> groups.each { group ->
                jobs << job(a, "${a}_vs_${b}", b, 'fold-change', model, group)
            } } }
        }
        if (!jobs && !errors) errors << "nothing to train: no sample has an expression table (give one in the samplesheet, or --pretrained checkpoints for predictions only)"
    }
    def marks = errors ? [] : Samplesheet.markOrder(samples, wantedMarks)
    // Interpretation and predict-only inputs, checked now rather than after every training task ran.
    if (params.perturb && params.perturb_silence && marks) {
        def known = marks*.toLowerCase()
        def unknown = params.perturb_silence.toString().tokenize(',')*.trim().findAll { it && it.toLowerCase() != 'all' && !(it.toLowerCase() in known) }
        if (unknown) errors << "--perturb_silence ${params.perturb_silence}: no mark ${unknown.join(', ')} in the samplesheet (marks: ${marks.join(', ')}; or 'all')"
    }
    if (params.pretrained) {
        files(params.pretrained.toString()).each { f ->
            def bytes = new byte[4]
            def n = f.withInputStream { it.read(bytes) }
            // torch.save writes a zip archive (PK..) or, before torch 1.6, a pickle (0x80 ..)
            if (n < 2 || !((bytes[0] == 0x50 && bytes[1] == 0x4B) || (bytes[0] & 0xFF) == 0x80)) errors << "--pretrained: ${f}: not a PyTorch checkpoint (give model.pt files from chromoflow train, or the published Chromoformer .pt weights)"
        }
    }
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
    log.info "chromoflow: ${samples.size()} sample(s), marks ${marks.join(',')}, " + (params.pretrained ? "predict-only with ${params.pretrained}" : "${jobs.size()} training task(s), ${jobs.sum { it.folds.size() }} fold run(s)")
    CHROMOFLOW(samples, marks, jobs, isYaml ? file(params.config.toString()) : [])
}
