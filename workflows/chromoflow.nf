/*
 * The pipeline's dataflow. Inputs arrive validated from main.nf.
 *
 *   GENES ─┬─ PCRES (one per distinct contacts source) ─┐
 *          │   COVERAGE (BAM tracks only) ──────────────┼─ DATASET (per sample)
 *          └────────────────────────────────────────────┘       │
 *       TRAIN (sample x task x model x fold; writes held-out predictions) ─┤
 *       or PREDICT (--pretrained: each checkpoint x sample) ───────────────┤
 *       INTERPRET (Chromoformer: pCRE knockout, links, attribution) ───────┤
 *                         SUMMARIZE (one table) ──── REPORT (report.html) ─┘
 */

include { GENES     } from '../modules/local/genes'
include { COVERAGE  } from '../modules/local/coverage'
include { PCRES     } from '../modules/local/pcres'
include { DATASET   } from '../modules/local/dataset'
include { TRAIN     } from '../modules/local/train'
include { PREDICT   } from '../modules/local/predict'
include { SUMMARIZE } from '../modules/local/summarize'
include { INTERPRET } from '../modules/local/interpret'
include { REPORT    } from '../modules/local/report'

/** A file-name-safe id: the characters a task's output names may use. */
def safeId(String text) { text.replaceAll(/[^A-Za-z0-9._-]/, '_') }

// A file-name-safe id for a contacts source (its base name, plus the resolution for multi-resolution files).
def contactsId(path, suffix) {
    def res = suffix ? '.' + suffix.replaceAll(/[^0-9]/, '') : ''
    return safeId("${path.name}${res}")
}

/**
 * A unique label per checkpoint, from its path: the file name, with parent
 * folders prepended until no two checkpoints share it (a glob over
 * training/<sample>/<task>/<model>/fold<k>/model.pt gives
 * <sample>.<task>.<model>.fold<k>.model).
 */
def checkpointLabels(List paths) {
    def parts = paths.collect { p -> p.toAbsolutePath().normalize().iterator().collect { it.toString() } }
    def depth = paths.collect { 1 }
    def label = { i -> def ps = parts[i]; def take = ps.takeRight(depth[i]); take[-1] = take[-1].replaceAll(/\.[^.]+$/, ''); safeId(take.join('.')) }
    while (true) {
        def labels = (0..<paths.size()).collect { label(it) }
        def clash = labels.withIndex().findAll { l, i -> labels.count(l) > 1 && depth[i] < parts[i].size() }
        if (!clash) return labels
        clash.each { l, i -> depth[i] += 1 }
    }
}

workflow CHROMOFLOW {
    take:
    samples      // [name: [marks, tracks: [mark: [path, index]], contacts: [path, suffix] | null, expression: path | null]]
    marks        // channel order
    jobs         // training jobs: [id, sample, label, reference, task, model, fold]
    config_yaml  // a YAML training config, or [] for a preset

    main:
    ch_versions = Channel.empty()
    // (Read `marks` here: Nextflow 24.10's script compiler rejects a reference to a
    // `take:` name after the if/else that assigns channels below.)
    def markText = marks.join(', ')

    GENES(Channel.value([[id: 'genes'], file(params.genes.toString())]))
    genes = GENES.out.genes.map { meta, tsv -> tsv }.first()
    ch_versions = ch_versions.mix(GENES.out.versions)

    // Tracks: BAMs become bigWigs first; bigWigs go straight to their dataset.
    def track_rows = samples.collectMany { name, s -> marks.collect { m -> [[id: "${name}.${m}", sample: name, mark: m], s.tracks[m][0], s.tracks[m][1]] } }
    ch_tracks = Channel.fromList(track_rows).branch { meta, track, index ->
        bam: track.name.toLowerCase().endsWith('.bam')
        bigwig: true
    }
    COVERAGE(ch_tracks.bam)
    ch_versions = ch_versions.mix(COVERAGE.out.versions)
    ch_sample_tracks = ch_tracks.bigwig.map { meta, track, index -> [meta, track] }
        .mix(COVERAGE.out.bigwig)
        .map { meta, track -> [meta.sample, [meta.mark, track]] }
        .groupTuple(size: marks.size())
        .map { sample, pairs -> def byMark = pairs.collectEntries { it }; [sample, marks.collect { byMark[it] }] }

    // pCREs: one task per distinct contacts source, shared by the samples that name it.
    def sources = [:]
    def sample_source = [:]
    samples.each { name, s ->
        if (s.contacts) {
            def key = "${s.contacts[0]}${s.contacts[1]}"
            sources[key] = sources[key] ?: [[id: contactsId(s.contacts[0], s.contacts[1]), key: key, uri_suffix: s.contacts[1]], s.contacts[0]]
            sample_source[name] = key
        }
    }
    // Distinct sources with the same file name get numbered ids.
    sources.values().groupBy { it[0].id }.each { id, list -> if (list.size() > 1) list.eachWithIndex { src, i -> src[0].id = "${id}.${i + 1}" } }
    def aliases = params.chrom_aliases ? file(params.chrom_aliases.toString()) : []
    PCRES(Channel.fromList(sources.values().toList()), genes, aliases)
    ch_versions = ch_versions.mix(PCRES.out.versions)
    ch_sample_pcres = Channel.fromList(sample_source.collect { name, key -> [key, name] })
        .combine(PCRES.out.pcres.map { meta, tsv -> [meta.key, tsv] }, by: 0)
        .map { key, name, tsv -> [name, tsv] }
        .mix(Channel.fromList(samples.keySet().findAll { !sample_source[it] }.collect { [it, []] }))

    ch_dataset_in = ch_sample_tracks.join(ch_sample_pcres)
        .map { name, tracks, pcres -> [[id: name, marks: marks], tracks, pcres, samples[name].expression ?: []] }
    DATASET(ch_dataset_in, genes, aliases)
    ch_versions = ch_versions.mix(DATASET.out.versions)
    ch_datasets = DATASET.out.dataset.map { meta, h5 -> [meta.id, h5] }

    if (params.pretrained) {
        // Predict-only: every sample with every checkpoint; each checkpoint is scored on its held-out genes.
        def checkpoints = files(params.pretrained.toString()).sort { it.toString() }
        if (!checkpoints) error("--pretrained ${params.pretrained}: no file matches")
        def labels = checkpointLabels(checkpoints)
        def named = [checkpoints, labels].transpose()
        ch_predict_in = ch_datasets.combine(Channel.fromList(named)).map { name, h5, ckpt, label ->
            [[id: "${name}.${label}", sample: name, label: name, task: 'auto', model: 'auto', fold: 'auto'], h5, [], ckpt]
        }
        PREDICT(ch_predict_in)
        ch_versions = ch_versions.mix(PREDICT.out.versions)
        ch_runs = PREDICT.out.predictions.join(PREDICT.out.info).map { meta, tsv, info -> [meta, tsv, null, info] }
        // Interpretation for Chromoformer checkpoints (their info says so), on their held-out fold.
        ch_interpret_in = PREDICT.out.info
            .map { meta, info -> [meta.id, new groovy.json.JsonSlurper().parse(info.toFile())] }
            .filter { id, origin -> origin.model == 'chromoformer' }
            .join(ch_predict_in.map { meta, h5, ref, ckpt -> [meta.id, meta, h5, ref, ckpt] })
            .map { id, origin, meta, h5, ref, ckpt -> [meta + [task: origin.task, model: origin.model, fold: origin.fold, heldout_fold: origin.fold], h5, ref, ckpt] }
    } else {
        // Training: each job with its dataset (and the reference's, for fold change).
        ch_job_a = Channel.fromList(jobs).map { job -> [job.sample, job] }
            .combine(ch_datasets, by: 0)
            .map { sample, job, h5 -> [job, h5] }
        ch_train_in = ch_job_a.filter { job, h5 -> job.reference }
            .map { job, h5 -> [job.reference, job, h5] }
            .combine(ch_datasets, by: 0)
            .map { ref, job, h5, ref_h5 -> [job, h5, ref_h5] }
            .mix(ch_job_a.filter { job, h5 -> !job.reference }.map { job, h5 -> [job, h5, []] })
        TRAIN(ch_train_in, config_yaml)
        ch_versions = ch_versions.mix(TRAIN.out.versions)
        // The held-out predictions come from training itself: no second pass over the fold.
        // A task may hold several folds (the folders fold<k>/ it was asked for): one run per fold from here on.
        ch_fold_runs = TRAIN.out.folds.flatMap { job, dirs ->
            def byName = (dirs instanceof List ? dirs : [dirs]).collectEntries { d -> [d.name, d] }
            job.folds.collect { k -> [job.id, job + [fold: k, id: "${job.base}.fold${k}", heldout_fold: k], byName["fold${k}"]] }
        }
        ch_runs = ch_fold_runs.map { task_id, meta, dir -> [meta, dir.resolve('heldout.tsv'), dir.resolve('metrics.json'), null] }
        ch_interpret_in = ch_fold_runs.filter { task_id, meta, dir -> meta.model == 'chromoformer' }
            .combine(ch_train_in.map { job, h5, ref -> [job.id, h5, ref] }, by: 0)
            .map { task_id, meta, dir, h5, ref -> [meta, h5, ref, dir.resolve('model.pt')] }
    }
    if (params.perturb) {
        INTERPRET(ch_interpret_in)
        ch_versions = ch_versions.mix(INTERPRET.out.versions)
        ch_interpretation = INTERPRET.out.interpretation.map { meta, folder -> folder }.collect().ifEmpty([])
    } else {
        ch_interpretation = Channel.value([])
    }

    // One manifest row per run, then one summary. Each run's files are staged in their own folder
    // (SUMMARIZE: runs/run<i>/, numbered in this list's order), so files of the same name never collide.
    ch_run_list = ch_runs.map { meta, tsv, json, info -> [meta, [tsv, json, info]] }.toSortedList { a, b -> a[0].id <=> b[0].id }
    ch_run_files = ch_run_list.map { runs -> runs.collectMany { meta, files -> files.findAll { it } } }
    ch_manifest = ch_run_list.map { runs ->
        def staged = 0
        def rows = runs.collect { meta, files ->
            def names = files.collect { f -> f ? "run${++staged}/${f.name}" : '' }
            ([meta.label, meta.task, meta.model, meta.fold] + names).join('\t')
        }
        ([['sample', 'task', 'model', 'fold', 'predictions', 'metrics', 'info'].join('\t')] + rows).join('\n') + '\n'
    }.collectFile(name: 'manifest.tsv')
    SUMMARIZE(ch_manifest, ch_run_files)
    ch_versions = ch_versions.mix(SUMMARIZE.out.versions)

    // Software versions, one block per process.
    ch_versions_file = ch_versions.unique { it.text }
        .collectFile(name: 'software_versions.yml', storeDir: "${params.outdir}/pipeline_info", sort: { it.text })

    // One report: the run's description, the summary and the interpretations.
    def sampleRows = samples.collect { name, s -> ['sample': name, 'marks': s.marks.size(), 'contacts': s.contacts ? "${s.contacts[0].name}${s.contacts[1] ?: ''}" : 'none', 'expression': s.expression ? s.expression.name : 'none'] }
    def runInfo = [
        // No date here: a description that changes with every launch would re-run REPORT on -resume.
        'chromoflow_version': workflow.manifest.version,
        'samples': sampleRows,
        'marks': markText, 'folds': "${params.fold_scheme}, held out: ${params.folds}", 'models': params.models, 'tasks': params.tasks,
        'parameters': params.findAll { k, v -> !k.contains('-') && v != null }.collectEntries { k, v -> [k, v.toString()] },
        'outputs': [
            'summary/report.html': 'this report', 'summary/metrics.tsv': 'one row per sample × task × model × fold (held-out genes only)',
            'summary/metrics_by_model.tsv': 'mean and sd over folds', 'summary/predictions.tsv': 'every prediction with its held-out flag',
            'training/<sample>/<task>/<model>/fold<k>/': 'model.pt, metrics.json, history, held-out predictions, figures',
            'interpretation/<sample>/<task>/<model>/fold<k>/': 'effects.tsv (in-silico knockouts), links.bedpe and links.interact (enhancer-gene arcs), tracks/ (attribution bigWigs and profile)',
            'pcres/, datasets/, annotation/': 'the inputs chromoflow built', 'pipeline_info/': 'software versions, Nextflow report, timeline, trace',
        ],
    ]
    ch_run_info = Channel.of(groovy.json.JsonOutput.toJson(runInfo)).collectFile(name: 'run_info.json')
    ch_summary = SUMMARIZE.out.metrics.mix(SUMMARIZE.out.by_model, SUMMARIZE.out.predictions, SUMMARIZE.out.figures.flatten()).collect()
    // REPORT's own versions stay out of software_versions.yml, which it reads.
    REPORT(ch_summary, ch_interpretation, ch_run_info, ch_versions_file, params.truth ? file(params.truth.toString()) : [])

    emit:
    metrics     = SUMMARIZE.out.metrics
    predictions = SUMMARIZE.out.predictions
}
