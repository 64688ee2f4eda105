/*
 * The one way values reach a task script: quoted for the shell.
 *
 * Every parameter value, sample name, path and file name a module puts into
 * its command line goes through shellQuote (a single-quoted shell word) or
 * shellOptions (option names with quoted values). `$(...)`, backticks,
 * quotes, spaces and newlines in a value stay data; they never run.
 */

/** One shell word: single-quoted, embedded single quotes closed, escaped and reopened. */
def shellQuote(value) {
    def text = value == null ? '' : value.toString()
    return "'" + text.replace("'", "'\\''") + "'"
}

/**
 * The words of command-line options, unquoted, from any form ext.args takes:
 *   Map [flag: value]: value null/false/'' is left out, true gives the bare flag,
 *       a List repeats the flag per element;
 *   List: its elements;
 *   String (an nf-core-style ext.args, a user's own command line): split into words at
 *       spaces, where '...' and "..." keep a word together (the quotes are removed).
 */
def argWords(opts) {
    if (opts == null) {
        return []
    }
    if (opts instanceof CharSequence) {
        def tokens = (opts.toString() =~ /(?:[^\s'"]+|'[^']*'|"[^"]*")+/).collect { m -> m instanceof List ? m[0] : m }
        return tokens.collect { t -> t.replaceAll(/'([^']*)'|"([^"]*)"/) { _all, single, dbl -> single != null ? single : dbl } }
    }
    if (opts instanceof List) {
        return opts.collect { v -> v.toString() }
    }
    return (opts as Map).collectMany { flag, value ->
        if (value == null || value == false || value == '') {
            return []
        }
        if (value == true) {
            return [flag.toString()]
        }
        def values = value instanceof Collection ? value : [value]
        return values.collectMany { v -> [flag.toString(), v.toString()] }
    }
}

/** Options from ext.args (any form, see argWords), every word quoted. */
def shellOptions(opts) {
    return argWords(opts).collect { w -> shellQuote(w) }.join(' ')
}

/** The words without option `flag` and the value that follows it. */
def withoutOption(List words, String flag) {
    def drop = words.withIndex().findAll { w, _i -> w == flag }.collectMany { _w, i -> [i, i + 1] } as Set
    return words.withIndex().findAll { _w, i -> !(i in drop) }.collect { w, _i -> w }
}

/** The versions.yml heredoc of a process: chromoflow and the named Python packages, read in the task's environment. */
def versionsScript(String process, List packages) {
    def lines = ["\"${process}\":", "    chromoflow: \$(python3 -c 'import chromoflow; print(chromoflow.__version__)')"]
    lines += packages.collect { p -> "    ${p}: \$(python3 -c 'import importlib.metadata as m; print(m.version(\"${p}\"))')" }
    return "cat <<END_VERSIONS > versions.yml\n" + lines.join('\n') + "\nEND_VERSIONS"
}

/** The stub's versions.yml. */
def stubVersions(String process) {
    return "printf '%s\\n' ${shellQuote("\"${process}\":")} '    chromoflow: stub' > versions.yml"
}

/** The GPU ids a local run shares out: `--gpus N` is 0..N-1, `--gpus 0,2` those ids; anything else: none. */
def gpuIds(gpus) {
    def text = (gpus == null ? '' : gpus.toString()).trim()
    if (text ==~ /\d+/) {
        return (0..<(text as int)).collect { i -> i.toString() }
    }
    return text ==~ /\d+(,\d+)*/ ? text.tokenize(',').unique() : []
}

/**
 * The line a GPU task's script starts with on the local executor: hold one GPU of `gpus`
 * (bin/chromoflow-gpu-slot: a lock per GPU in the run's work directory, two levels above the
 * task's own) so concurrent tasks each get their own. Empty when gpus is null (other executors
 * hand each task its GPU themselves). The lock folder is found at run time, not written into the
 * script: a path in the script would be hashed as a folder, whose time stamp changes with every
 * task, and -resume would re-run every GPU task.
 */
def gpuSlot(gpus) {
    return gpus == null ? '' : ". chromoflow-gpu-slot \"\$(cd ../.. && pwd)/.chromoflow-gpu-locks\" ${shellQuote(gpuIds(gpus).join(','))}"
}
