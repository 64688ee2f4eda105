/*
 * What the workflows build their channels from: the ids a run gives its outputs, the contacts
 * sources, the checkpoints' labels, the run's description. Includes nothing (see main.nf here).
 */

/** A file-name-safe id: the characters a task's output names may use. */
def safeId(String text) {
    return text.replaceAll(/[^A-Za-z0-9._-]/, '_')
}

/** A file-name-safe id for a contacts source (its base name, plus the resolution for multi-resolution files). */
def contactsId(path, String suffix) {
    def res = suffix ? '.' + suffix.replaceAll(/[^0-9]/, '') : ''
    return safeId("${path.name}${res}")
}

/**
 * The distinct contacts sources of the samples (one PCRES task each, shared by the samples that
 * name the same file and resolution): [[[id: ..], path, uri_suffix], ...] and [sample: id].
 * Distinct sources with the same file name get numbered ids.
 */
def contactSources(Map samples) {
    def withContacts = samples.findAll { _name, s -> s.contacts }
    def keyOf = { s -> s.contacts[0].toString() + (s.contacts[1] ?: '') }
    def keys = withContacts.values().collect { s -> keyOf.call(s) }.unique()
    def contactsOf = withContacts.values().collectEntries { s -> [keyOf.call(s), s.contacts] }
    def ids = keys.collect { k -> contactsId(contactsOf[k][0], contactsOf[k][1]).toString() }
    def uniqueIds = ids.withIndex().collect { id, i -> ids.count(id) > 1 ? "${id}.${ids.take(i + 1).count(id)}".toString() : id }
    def idOf = [keys, uniqueIds].transpose().collectEntries { k, id -> [k, id] }
    def sources = keys.collect { k -> [[id: idOf[k]], contactsOf[k][0], contactsOf[k][1] ?: ''] }
    def sampleIds = withContacts.collectEntries { name, s -> [name, idOf[keyOf.call(s)]] }
    return [sources, sampleIds]
}

/**
 * A unique label per checkpoint, from its path: the file name, with parent folders prepended
 * until no two checkpoints share it (a glob over training/<sample>/<task>/<model>/fold<k>/model.pt
 * gives <sample>.<task>.<model>.fold<k>.model).
 */
def checkpointLabels(List paths) {
    def parts = paths.collect { p -> p.toAbsolutePath().normalize().iterator().collect { x -> x.toString() } }
    return labelsAtDepth(parts, paths.collect { _p -> 1 })
}

def labelsAtDepth(List parts, List depth) {
    def labels = (0..<parts.size()).collect { i ->
        def take = parts[i].takeRight(depth[i])
        safeId((take.dropRight(1) + [take[-1].replaceAll(/\.[^.]+$/, '')]).join('.'))
    }
    def clash = (0..<labels.size()).findAll { i -> labels.count(labels[i]) > 1 && depth[i] < parts[i].size() }
    return clash ? labelsAtDepth(parts, (0..<depth.size()).collect { i -> i in clash ? depth[i] + 1 : depth[i] }) : labels
}

/**
 * The report's description of the run (run_info.json): samples, settings, where the outputs are.
 * No date (a description that changes with every launch would re-run REPORT on -resume), nor
 * trace_report_suffix.
 */
def runInfo(Map samples, List marks, Map params, String version) {
    def sampleRows = samples.collect { name, s -> ['sample': name, 'marks': s.marks.size(), 'contacts': s.contacts ? "${s.contacts[0].name}${s.contacts[1] ?: ''}" : 'none', 'expression': s.expression ? s.expression.name : 'none'] }
    def info = [
        'chromoflow_version': version,
        'samples': sampleRows,
        'marks': marks.join(', '), 'folds': "${params.fold_scheme}, held out: ${params.folds}", 'models': params.models, 'tasks': params.tasks,
        'parameters': params.findAll { k, v -> !k.toString().contains('-') && v != null && k != 'trace_report_suffix' }.collectEntries { k, v -> [k, v.toString()] },
        'outputs': [
            'summary/report.html': 'this report', 'summary/metrics.tsv': 'one row per sample × task × model × fold (held-out genes only)',
            'summary/metrics_by_model.tsv': 'mean and sd over folds', 'summary/predictions.tsv': 'every prediction with its held-out flag',
            'summary/chromoflow_*_mqc.*': 'the same results as MultiQC custom content: run multiqc over all your results folders',
            'training/<sample>/<task>/<model>/fold<k>/': 'model.pt, metrics.json, history, held-out predictions, figures',
            'interpretation/<sample>/<task>/<model>/fold<k>/': 'effects.tsv (in-silico knockouts), links.bedpe and links.interact (enhancer-gene arcs), tracks/ (attribution bigWigs and profile)',
            'pcres/, datasets/, annotation/': 'the inputs chromoflow built', 'pipeline_info/': 'software versions, Nextflow report, timeline, trace',
        ],
    ]
    return groovy.json.JsonOutput.toJson(info)
}

/**
 * SUMMARIZE's manifest (TSV: sample, task, model, fold, predictions, metrics, info) of the runs
 * [[run, [predictions, metrics | null, info | null]], ...]: each file named as SUMMARIZE stages it,
 * runs/run<i>/<name>, i counting the files that are there in this order (stageAs 'runs/run*\/*').
 */
def runManifest(List runs) {
    def present = runs.collect { _run, fs -> fs.count { f -> f } }
    def rows = (0..<runs.size()).collect { i ->
        def (run, fs) = runs[i]
        def before = present.take(i).sum(0)
        def names = (0..<fs.size()).collect { j -> fs[j] ? "run${before + fs.take(j + 1).count { f -> f }}/${fs[j].name}" : '' }
        ([run.label, run.task, run.model, run.fold] + names).join('\t')
    }
    return ([['sample', 'task', 'model', 'fold', 'predictions', 'metrics', 'info'].join('\t')] + rows).join('\n') + '\n'
}
