/*
 * Checks params against nextflow_schema.json without plugins (nf-schema cannot
 * be installed everywhere chromoflow runs): required parameters, types, enums,
 * patterns, minimums/maximums, file existence (`exists` with format
 * file-path / file-path-pattern / directory-path) and unknown parameters.
 * Returns error lines; the caller stops the run before any task starts.
 */
import groovy.json.JsonSlurper
import java.nio.file.Files
import java.nio.file.Path
import nextflow.Nextflow

class ParamsSchema {

    static Map schema(File schemaFile) { new JsonSlurper().parse(schemaFile) as Map }

    static Map properties(File schemaFile) {
        def s = schema(schemaFile)
        def props = [:]
        (s.definitions ?: [:]).each { String group, Map def_ -> props.putAll(def_.properties ?: [:]) }
        props.putAll(s.properties ?: [:])
        return props
    }

    static List<String> required(File schemaFile) {
        def s = schema(schemaFile)
        def out = (s.required ?: []) as List
        (s.definitions ?: [:]).each { String group, Map def_ -> out.addAll(def_.required ?: []) }
        return out
    }

    /** A command-line value Nextflow parsed as a number where the schema wants text (e.g. --folds 1). */
    static Object coerce(Object value, String type) {
        return (type == 'string' && value instanceof Number) ? value.toString() : value
    }

    static boolean remote(String value) { value.contains('://') }

    static List<String> validate(Map params, File schemaFile) {
        def props = properties(schemaFile)
        def errors = []
        required(schemaFile).each { name ->
            if (params[name] == null || params[name] == '') errors << "--${name}: required (see --help)"
        }
        params.each { String name, raw ->
            if (name.contains('-')) return  // Nextflow keeps a kebab-case twin of every camel/snake name
            def spec = props[name]
            if (spec == null) {
                errors << "--${name}: unknown parameter (see nextflow_schema.json or --help)"
                return
            }
            if (raw == null) return
            def type = spec.type
            def value = coerce(raw, type)
            def ok = true
            switch (type) {
                case 'string':  ok = value instanceof CharSequence; break
                case 'integer': ok = (value instanceof Integer || value instanceof Long || value instanceof BigInteger); break
                case 'number':  ok = value instanceof Number; break
                case 'boolean': ok = value instanceof Boolean; break
            }
            if (!ok) {
                errors << "--${name}: expected ${type}, got '${value}'"
                return
            }
            if (spec.enum && !(value in spec.enum)) {
                errors << "--${name}: '${value}' is not one of ${spec.enum.join(', ')}"
            }
            if (spec.pattern && value instanceof CharSequence && !(value ==~ spec.pattern)) {
                errors << "--${name}: '${value}' does not match ${spec.pattern}"
            }
            if (spec.minimum != null && value instanceof Number && value < spec.minimum) {
                errors << "--${name}: ${value} is below the minimum ${spec.minimum}"
            }
            if (spec.maximum != null && value instanceof Number && value > spec.maximum) {
                errors << "--${name}: ${value} is above the maximum ${spec.maximum}"
            }
            if (spec.exists && value instanceof CharSequence && value && !remote(value.toString())) {
                def text = value.toString()
                if (spec.format == 'file-path-pattern') {
                    if (!Nextflow.files(text)) errors << "--${name}: no file matches '${text}'"
                } else if (spec.format in ['file-path', 'directory-path']) {
                    def p = Nextflow.file(text) as Path
                    if (!Files.exists(p)) errors << "--${name}: ${text}: file not found"
                    else if (spec.format == 'file-path' && Files.isDirectory(p)) errors << "--${name}: ${text} is a folder, not a file"
                }
            }
        }
        return errors
    }

    static String help(File schemaFile) {
        def s = schema(schemaFile)
        def out = new StringBuilder("chromoflow parameters\n\n")
        (s.definitions ?: [:]).each { String group, Map def_ ->
            out << "${def_.title}\n"
            def_.properties.each { String name, Map spec ->
                def dflt = spec.containsKey('default') ? " [default: ${spec.default}]" : ''
                out << "  --${name.padRight(18)} ${spec.description}${dflt}\n"
            }
            out << "\n"
        }
        return out.toString()
    }
}
