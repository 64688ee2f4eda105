/*
 * Parameters checked against nextflow_schema.json (JSON Schema draft 2020-12, as nf-schema reads it:
 * groups under $defs) without plugins, which cannot be installed everywhere chromoflow runs:
 * required parameters, types, enums, patterns, minimums/maximums, file existence (`exists` with
 * format file-path / file-path-pattern / directory-path) and unknown parameters. Returns
 * [errors, warnings]; the caller stops the run before any task starts.
 */

/** Every property of the schema, over its groups ($defs; a draft-07 schema's `definitions` too). */
def schemaProperties(Map schema) {
    def groups = (schema['$defs'] ?: schema.definitions ?: [:]) as Map
    return groups.values().collectEntries { g -> (g.properties ?: [:]) as Map } + ((schema.properties ?: [:]) as Map)
}

def schemaRequired(Map schema) {
    def groups = (schema['$defs'] ?: schema.definitions ?: [:]) as Map
    return ((schema.required ?: []) as List) + groups.values().collectMany { g -> (g.required ?: []) as List }
}

def isRemote(String value) {
    return value.contains('://')
}

/** Whether option `name` was typed on the command line (its snake or kebab spelling). */
def onCommandLine(String name, String commandLine) {
    def kebab = name.replace('_', '-')
    def flags = ['--' + name, '-' + name, '--' + kebab, '-' + kebab]
    return commandLine.tokenize(' ').any { w -> w.tokenize('=')[0] in flags }
}

/** One parameter's problem, or null. */
def checkParameter(String name, value, Map spec) {
    def type = spec.type
    // A command-line value Nextflow parsed as a number where the schema wants text (e.g. --folds 1).
    def v = (type == 'string' && value instanceof Number) ? value.toString() : value
    def typed = [
        string: v instanceof CharSequence,
        integer: v instanceof Integer || v instanceof Long || v instanceof BigInteger,
        number: v instanceof Number,
        boolean: v instanceof Boolean,
    ]
    if (type in typed.keySet() && !typed[type]) {
        return "--${name}: expected ${type}, got '${v}'"
    }
    if (spec['enum'] && !(v in spec['enum'])) {
        return "--${name}: '${v}' is not one of ${spec['enum'].join(', ')}"
    }
    if (spec.pattern && v instanceof CharSequence && !(v ==~ spec.pattern)) {
        return "--${name}: '${v}' does not match ${spec.pattern}"
    }
    if (spec.minimum != null && v instanceof Number && v < spec.minimum) {
        return "--${name}: ${v} is below the minimum ${spec.minimum}"
    }
    if (spec.maximum != null && v instanceof Number && v > spec.maximum) {
        return "--${name}: ${v} is above the maximum ${spec.maximum}"
    }
    if (spec.exists && v instanceof CharSequence && v && !isRemote(v.toString())) {
        def text = v.toString()
        if (spec.format == 'file-path-pattern') {
            return files(text) ? null : "--${name}: no file matches '${text}'"
        }
        def p = file(text)
        if (spec.format in ['file-path', 'directory-path'] && !p.exists()) {
            return "--${name}: ${text}: file not found"
        }
        if (spec.format == 'file-path' && p.isDirectory()) {
            return "--${name}: ${text} is a folder, not a file"
        }
    }
    return null
}

/**
 * [errors, warnings] of `params` against the schema. An unknown parameter is an error when it was
 * typed on the command line (a misspelt option) and a warning when a config file set it (nf-core
 * institutional configs set parameters of their own).
 */
def validateParameters(Map params, Map schema, String commandLine) {
    def props = schemaProperties(schema)
    def errors = schemaRequired(schema).findAll { n -> params[n] == null || params[n] == '' }.collect { n -> "--${n}: required (see --help)" }
    def warnings = []
    params.each { name, value ->
        def key = name.toString()
        if (key.contains('-')) {
            return  // Nextflow keeps a kebab-case twin of every camel/snake name
        }
        def spec = props[key]
        if (spec == null) {
            if (onCommandLine(key, commandLine)) {
                errors << "--${key}: unknown parameter (see nextflow_schema.json or --help)"
            } else {
                warnings << "parameter '${key}' set by a config file is not one of chromoflow's; ignored"
            }
            return
        }
        if (value != null) {
            def problem = checkParameter(key, value, spec as Map)
            if (problem) {
                errors << problem
            }
        }
    }
    return [errors, warnings]
}

/** --help: every visible parameter, group by group. */
def schemaHelp(Map schema) {
    def groups = (schema['$defs'] ?: schema.definitions ?: [:]) as Map
    def text = groups.values().collect { g ->
        def rows = ((g.properties ?: [:]) as Map).findAll { _n, spec -> !spec.hidden }.collect { n, spec ->
            def dflt = spec.containsKey('default') ? " [default: ${spec.default}]" : ''
            "  --${n.toString().padRight(22)} ${spec.description}${dflt}"
        }
        rows ? "${g.title}\n" + rows.join('\n') : ''
    }.findAll { t -> t }
    return "${schema.title}\n\n" + text.join('\n\n') + '\n'
}
