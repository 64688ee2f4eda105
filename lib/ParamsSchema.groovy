/*
 * Checks params against nextflow_schema.json without plugins (nf-schema cannot
 * be installed everywhere chromoflow runs): types, enums, patterns, minimums,
 * and unknown parameters. Returns error lines; the caller stops the run.
 */
import groovy.json.JsonSlurper

class ParamsSchema {

    static Map properties(File schemaFile) {
        def schema = new JsonSlurper().parse(schemaFile)
        def props = [:]
        (schema.definitions ?: [:]).each { String group, Map def_ -> props.putAll(def_.properties ?: [:]) }
        props.putAll(schema.properties ?: [:])
        return props
    }

    static List<String> validate(Map params, File schemaFile) {
        def props = properties(schemaFile)
        def errors = []
        params.each { String name, value ->
            if (name.contains('-')) return  // Nextflow keeps a kebab-case twin of every camel/snake name
            def spec = props[name]
            if (spec == null) {
                errors << "--${name}: unknown parameter (see nextflow_schema.json or --help)"
                return
            }
            if (value == null) return
            def type = spec.type
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
        }
        return errors
    }

    static String help(File schemaFile) {
        def schema = new JsonSlurper().parse(schemaFile)
        def out = new StringBuilder("chromoflow parameters\n\n")
        (schema.definitions ?: [:]).each { String group, Map def_ ->
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
