/*
 * The one way values reach a task script: quoted for the shell.
 *
 * Every parameter value, sample name, path and file name a module puts into
 * its command line goes through Shell.quote (a single-quoted shell word) or
 * Shell.options (option names with quoted values). `$(...)`, backticks,
 * quotes, spaces and newlines in a value stay data; they never run.
 */
class Shell {

    /** One shell word: single-quoted, embedded single quotes closed, escaped and reopened. */
    static String quote(Object value) {
        def text = value == null ? '' : value.toString()
        return "'" + text.replace("'", "'\\''") + "'"
    }

    /**
     * Command-line options from ext.args.
     *   Map  [flag: value]: value null/false/'' is left out, true gives the bare flag,
     *        a List repeats the flag per element; every value is quoted.
     *   List of words: each quoted.
     *   String: a user's own ext.args text from their config, passed as written.
     */
    static String options(Object opts) {
        if (opts == null) return ''
        if (opts instanceof CharSequence) return opts.toString()
        if (opts instanceof List) return opts.collect { quote(it) }.join(' ')
        def words = []
        (opts as Map).each { flag, value ->
            if (value == null || value == false || value == '') return
            if (value == true) { words << flag.toString(); return }
            def values = value instanceof Collection ? value : [value]
            values.each { v -> words << flag.toString() << quote(v) }
        }
        return words.join(' ')
    }

    /** The versions.yml heredoc of a process: chromoflow and the named Python packages, read in the task's environment. */
    static String versions(String process, List<String> packages = []) {
        def lines = ["\"${process}\":", "    chromoflow: \$(python3 -c 'import chromoflow; print(chromoflow.__version__)')"]
        packages.each { p -> lines << "    ${p}: \$(python3 -c 'import importlib.metadata as m; print(m.version(\"${p}\"))')" }
        return "cat <<END_VERSIONS > versions.yml\n" + lines.join('\n') + "\nEND_VERSIONS"
    }

    /** The stub's versions.yml. */
    static String stubVersions(String process) {
        return "printf '%s\\n' ${quote("\"${process}\":")} '    chromoflow: stub' > versions.yml"
    }

    /**
     * The GPU ids a local run shares out: `--gpus N` is 0..N-1, `--gpus 0,2` those ids.
     * A value that is neither gives an empty list (main.nf reports it).
     */
    static List<String> gpuIds(Object gpus) {
        def text = (gpus == null ? '' : gpus.toString()).trim()
        if (text ==~ /\d+/) return (0..<(text as int)).collect { it.toString() }
        if (text ==~ /\d+(,\d+)*/) return text.tokenize(',').unique()
        return []
    }

    /**
     * The line a GPU task's script starts with on the local executor: hold one
     * GPU of `gpus` (bin/chromoflow-gpu-slot: a lock per GPU in the run's work
     * directory, two levels above the task's own) so concurrent tasks each get
     * their own. Empty when gpus is null (other executors hand each task its GPU
     * themselves). The lock folder is found at run time, not written into the
     * script: a path in the script would be hashed as a folder, whose time stamp
     * changes with every task, and -resume would re-run every GPU task.
     */
    static String gpuSlot(Object gpus) {
        if (gpus == null) return ''
        return ". chromoflow-gpu-slot \"\$(cd ../.. && pwd)/.chromoflow-gpu-locks\" ${quote(gpuIds(gpus).join(','))}"
    }
}
