/*
 * Everything chromoflow checks and plans before the first task: parameters against the schema,
 * the samplesheet, the training jobs, the container. Included by main.nf only (the workflows'
 * own helpers are in dataflow.nf: a file included from several scripts must include nothing,
 * or Nextflow 25.04's strict parser loads its includes twice).
 */

include { validateParameters; schemaHelp } from './schema'
include { readSamplesheet; markOrder     } from './samplesheet'
include { runtimeProblems                } from './runtime'

def PRESETS() {
    return ['default', 'official', 'tiny']
}

/** Number of folds a scheme makes (official: the published 4). */
def foldCount(String scheme) {
    return scheme ==~ /(chrom|random):\d+/ ? scheme.tokenize(':')[1].toInteger() : 4
}

/**
 * The training jobs: one per sample x task x model x group of held-out folds (fold change: per pair),
 * with --folds_per_task N folds in a group (0: all of them). Each job:
 *   [id, base, sample, label, reference, task, model, folds]
 * `label` names the run's outputs (the sample, or A_vs_B for fold change); `base` is label.task.model.
 * Returns [jobs, errors].
 */
def planJobs(Map samples, List tasks, List models, List folds, int perTask, String pairsText) {
    def groups = perTask > 0 ? folds.collate(perTask) : [folds]
    def withExpr = samples.findAll { _n, s -> s.expression }.keySet().toList()
    def errors = []
    def jobs = tasks.findAll { t -> t != 'fold-change' }.collectMany { task ->
        withExpr.collectMany { sample -> models.collectMany { model -> groups.collect { group -> trainingJob(sample, sample, null, task, model, group) } } }
    }
    if ('fold-change' in tasks) {
        def pairs = pairsText ? pairsText.tokenize(',').collect { p -> p.tokenize(':') } : [withExpr, withExpr].combinations().findAll { a, b -> withExpr.indexOf(a) < withExpr.indexOf(b) }
        pairs.each { pair ->
            pair.each { s ->
                if (!(s in samples.keySet())) {
                    errors << "--pairs: unknown sample '${s}'"
                } else if (!(s in withExpr)) {
                    errors << "--pairs: sample '${s}' has no expression table"
                }
            }
        }
        if (!pairs) {
            errors << "--tasks fold-change needs two samples with expression (or --pairs A:B)"
        }
        jobs += pairs.collectMany { a, b -> models.collectMany { model -> groups.collect { group -> trainingJob(a, "${a}_vs_${b}", b, 'fold-change', model, group) } } }
    }
    if (!jobs && !errors) {
        errors << "nothing to train: no sample has an expression table (give one in the samplesheet, or --pretrained checkpoints for predictions only)"
    }
    return [jobs, errors]
}

def trainingJob(sample, label, reference, task, model, List group) {
    // Strings, not GStrings: these are map keys and join keys downstream (a GString and an equal String differ there).
    def base = "${label}.${task}.${model}".toString()
    def id = (group.size() == 1 ? "${base}.fold${group[0]}" : "${base}.folds${group.join('-')}").toString()
    return [id: id, base: base, sample: sample, label: label.toString(), reference: reference, task: task, model: model, folds: group]
}

/** Whether a file starts as torch.save writes: a zip archive (PK..) or, before torch 1.6, a pickle (0x80 ..). */
def looksLikeCheckpoint(path) {
    def head = path.withInputStream { s -> [s.read(), s.read()] }
    return head == [0x50, 0x4B] || head[0] == 0x80
}

/** Whether `engine image inspect image` finds the image; null when the engine cannot be started. */
def imageInspect(String engine, String image) {
    try {
        def probe = [engine, 'image', 'inspect', image].execute()
        probe.waitForProcessOutput(new StringBuilder(), new StringBuilder())
        return probe.exitValue() == 0
    } catch (IOException _e) {
        return null
    }
}

/** Docker/Podman: the one line that says how to get the container image, or null when the engine has it
 * (Apptainer, Singularity and Charliecloud images: runtime.nf). */
def containerProblem(String engine, String image, projectDir) {
    if (!(engine in ['docker', 'podman']) || !image || image.contains('/')) {
        return null  // no image, or a registry URI: pulled where the tasks run
    }
    def found = imageInspect(engine, image)
    if (found == null) {
        return "the container image ${image} is a local tag and ${engine} is not available on this machine: build it where ${engine} runs ('${engine} build -t ${image} -f containers/Dockerfile .'), push it to a registry and pass --container REGISTRY/${image}"
    }
    return found ? null : "the container image ${image} is not in ${engine}: build it once with '${engine} build -t ${image} -f ${projectDir}/containers/Dockerfile ${projectDir}' (or pull a pushed copy and pass --container REGISTRY/chromoflow:TAG)"
}

/**
 * Everything checked before any task starts: [samples, marks, jobs, errors, warnings, isYaml].
 * `where`: [engine: the container engine, profiles: the -profile names, env: the environment] (runtime.nf).
 */
def checkInputs(Map params, projectDir, String commandLine, Map where) {
    def containerEngine = (where.engine ?: '').toString()
    def schema = new groovy.json.JsonSlurper().parse(file("${projectDir}/nextflow_schema.json").toFile()) as Map
    def (errors, warnings) = params.validate_params ? validateParameters(params, schema, commandLine) : [[], []]
    if (params.genes && !(params.genes.toString() ==~ /(?i).*\.(gtf|gff|gff3|bed)(\.gz)?$/)) {
        errors << "--genes ${params.genes}: expected a GTF (.gtf), GFF3 (.gff, .gff3) or BED6 (.bed) file, gzipped or not"
    }
    def config = params.config.toString()
    def isYaml = config ==~ /(?i).*\.ya?ml$/
    if (isYaml && !file(config).exists()) {
        errors << "--config ${config}: file not found"
    }
    if (!isYaml && !(config in PRESETS())) {
        errors << "--config ${config}: expected a preset (${PRESETS().join(', ')}) or a .yaml file"
    }
    if (params.gene_type && params.gene_type.toString().split(',', -1).any { t -> !t.trim() }) {
        errors << "--gene_type '${params.gene_type}': empty item in the comma-separated list"
    }
    // Folds: numbers within the scheme (also without schema validation).
    def scheme = params.fold_scheme.toString()
    def k = foldCount(scheme)
    def foldsText = params.folds.toString()
    def foldItems = foldsText == 'all' ? [] : foldsText.tokenize(',')*.trim()
    def notFolds = foldItems.findAll { f -> !(f ==~ /\d+/) }
    if (notFolds || (foldsText != 'all' && !foldItems)) {
        errors << "--folds ${foldsText}: '${notFolds ? notFolds[0] : foldsText}' is not a fold number; give 'all' or comma-separated fold numbers (e.g. 1,2)"
    }
    def folds = foldsText == 'all' ? (1..k).toList() : foldItems.findAll { f -> f ==~ /\d+/ }*.toInteger().unique()
    def outside = folds.findAll { f -> f < 1 || f > k }
    if (outside) {
        errors << "--folds ${foldsText}: fold(s) ${outside.join(', ')} do not exist under --fold_scheme ${scheme} (folds 1-${k}${scheme == 'auto' ? '; auto makes 4' : ''})"
    }
    def wantedMarks = params.marks ? params.marks.toString().tokenize(',')*.trim() : null
    def sheetSchema = new groovy.json.JsonSlurper().parse(file("${projectDir}/assets/schema_input.json").toFile()) as Map
    // A samplesheet the schema check found missing is not reported twice.
    def readable = params.input && !errors.any { e -> e.startsWith('--input:') }
    def sheet = readable ? readSamplesheet(params.input.toString(), wantedMarks, sheetSchema) : [samples: [:], errors: []]
    errors += sheet.errors
    def samples = sheet.samples
    def jobs = []
    if (!errors && !params.pretrained) {
        samples.each { n, s ->
            if (!s.expression) {
                warnings << "sample '${n}' has no expression table: it gets a dataset but no training"
            }
        }
        def models = params.models.toString().tokenize(',')*.trim().unique()
        def tasks = params.tasks.toString().tokenize(',')*.trim().unique()
        def planned = planJobs(samples, tasks, models, folds, (params.folds_per_task ?: 0) as int, params.pairs ? params.pairs.toString() : '')
        jobs = planned[0]
        errors += planned[1]
    }
    def marks = errors ? [] : markOrder(samples, wantedMarks)
    // Interpretation and predict-only inputs, checked now rather than after every training task ran.
    if (params.perturb && params.perturb_silence && marks) {
        def known = marks*.toLowerCase()
        def unknown = params.perturb_silence.toString().tokenize(',')*.trim().findAll { m -> m && m.toLowerCase() != 'all' && !(m.toLowerCase() in known) }
        if (unknown) {
            errors << "--perturb_silence ${params.perturb_silence}: no mark ${unknown.join(', ')} in the samplesheet (marks: ${marks.join(', ')}; or 'all')"
        }
    }
    if (params.pretrained) {
        files(params.pretrained.toString()).findAll { f -> !looksLikeCheckpoint(f) }.each { f ->
            errors << "--pretrained: ${f}: not a PyTorch checkpoint (give model.pt files from chromoflow train, or the published Chromoformer .pt weights)"
        }
    }
    def container = containerProblem(containerEngine, params.container ? params.container.toString() : '', projectDir)
    if (container) {
        errors << container
    }
    // Runtimes, images and the scheduler are checked on this machine (--validate_params false skips it,
    // e.g. where only the compute nodes have the container runtime).
    if (params.validate_params) {
        errors += runtimeProblems(params, where, projectDir.toString())
    }
    return [samples, marks, jobs, errors, warnings, isYaml]
}

/**
 * A run stopped by its checks leaves nothing in --outdir: the trace file that Nextflow opens at the start
 * (nextflow.config names it) is removed, and the folders it created if they are then empty.
 */
def removeStartedReports(Map params) {
    def info = new File("${params.outdir}/pipeline_info")
    new File(info, "trace_${params.trace_report_suffix}.txt").delete()
    [info, info.parentFile].each { dir ->
        if (dir.isDirectory() && !dir.list()) {
            dir.delete()
        }
    }
}

/** --help and --version: the text to print, or null to run. */
def informationRequested(Map params, projectDir, manifest) {
    if (params.help) {
        return schemaHelp(new groovy.json.JsonSlurper().parse(file("${projectDir}/nextflow_schema.json").toFile()) as Map)
    }
    if (params.version) {
        return "${manifest.name} ${manifest.version}"
    }
    return null
}
