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
}
