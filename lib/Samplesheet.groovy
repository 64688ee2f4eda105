/*
 * Reads and checks the samplesheet before any task starts.
 *
 *   sample,mark,track,contacts,expression
 *   E003,H3K4me3,E003-H3K4me3.bw,E003.ibed,57epigenomes.RPKM.tsv
 *
 * One row per sample x mark. `contacts` (BEDPE/ibed/cool/mcool::resolutions/N)
 * and `expression` belong to the sample: the same on each of its rows, or
 * empty (no pCREs / no expression). Relative paths are relative to the
 * samplesheet's folder. Every problem is reported as
 * "<sheet> line N, column 'x': what is wrong".
 */
import java.nio.file.Files
import java.nio.file.Path
import java.util.zip.GZIPInputStream
import nextflow.Nextflow

class Samplesheet {

    static final NAME = ~/^[A-Za-z0-9][A-Za-z0-9._-]*$/
    static final REQUIRED = ['sample', 'mark', 'track']
    static final OPTIONAL = ['contacts', 'expression']
    static final TRACK_EXT = ~/(?i).*\.(bw|bigwig|bam)$/
    static final UNSAFE = ~/.*[\n\r\t].*/

    /** Split one CSV line (double quotes may enclose commas). */
    static List<String> fields(String line) {
        def out = []
        def cur = new StringBuilder()
        boolean quoted = false
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i)
            if (c == '"' as char) {
                if (quoted && i + 1 < line.length() && line.charAt(i + 1) == '"' as char) { cur << '"'; i++ }
                else quoted = !quoted
            } else if (c == ',' as char && !quoted) { out << cur.toString().trim(); cur = new StringBuilder() }
            else cur << c
        }
        out << cur.toString().trim()
        return out
    }

    static Path resolve(Path sheet, String value) {
        if (value.contains('://')) return Nextflow.file(value) as Path
        def p = new File(value).isAbsolute() ? Nextflow.file(value) as Path : sheet.toAbsolutePath().parent.resolve(value)
        return p.normalize()
    }

    static boolean remote(String value) { value.contains('://') }

    /**
     * Returns [samples: [name: [marks: [...], tracks: [mark: [path, index|null]], contacts: [path, suffix]|null, expression: path|null]], errors: [...]]
     */
    static Map read(String input, List<String> wantedMarks = null) {
        def errors = []
        Path sheet = Nextflow.file(input) as Path
        def name = sheet.name
        if (!sheet.exists()) return [samples: [:], errors: ["--input ${input}: samplesheet not found"]]
        def lines = sheet.readLines()
        if (lines && lines[0].startsWith('\uFEFF')) lines[0] = lines[0].substring(1)
        // Blank lines, and rows of empty fields (",,,," as spreadsheets save trailing rows), are skipped.
        def numbered = lines.withIndex().findAll { l, i -> l.trim() && fields(l).any { it } }.collect { l, i -> [l, i + 1] }
        if (!numbered) return [samples: [:], errors: ["${name}: empty samplesheet"]]
        def header = fields(numbered[0][0])
        // Empty columns at the end of the header (spreadsheets save "sample,mark,track,,") are dropped.
        while (header && !header[-1]) header = header.dropRight(1)
        if (header.size() == 1 && header[0].contains(';') && REQUIRED.every { header[0].tokenize(';')*.trim().contains(it) }) {
            return [samples: [:], errors: ["${name} line ${numbered[0][1]}: the samplesheet is ';'-separated (as European Excel saves CSV); save it with ',' as the separator"]]
        }
        def missing = REQUIRED.findAll { !(it in header) }
        if (missing) return [samples: [:], errors: ["${name} line ${numbered[0][1]}: missing column(s) ${missing.join(', ')}; expected header sample,mark,track[,contacts,expression]"]]
        def unknown = header.findAll { !(it in REQUIRED + OPTIONAL) }
        if (unknown) errors << "${name} line ${numbered[0][1]}: unknown column(s) ${unknown.join(', ')}; expected sample,mark,track[,contacts,expression]"
        def samples = [:] as LinkedHashMap
        if (numbered.size() == 1) errors << "${name}: no sample rows"
        numbered.drop(1).each { String line, int no ->
            def f = fields(line)
            while (f.size() > header.size() && !f[-1]) f = f.dropRight(1)  // the trailing empty columns
            if (f.size() != header.size()) {
                errors << "${name} line ${no}: ${f.size()} fields, the header has ${header.size()}"
                return
            }
            def row = [header, f].transpose().collectEntries { it }
            def where = { String col -> "${name} line ${no}, column '${col}'" }
            ['sample', 'mark'].each { col ->
                if (!(row[col] ==~ NAME)) errors << "${where(col)}: '${row[col]}' must start with a letter or digit and contain only letters, digits, '.', '_' or '-'"
            }
            ['track', 'contacts', 'expression'].each { col ->
                if (row[col] && row[col] ==~ UNSAFE) errors << "${where(col)}: line breaks and tabs are not allowed in paths"
            }
            def s = samples.computeIfAbsent(row.sample) { [marks: [], tracks: [:], contacts: null, contacts_text: null, expression: null, expression_text: null, line: no] }
            // track
            if (!row.track) errors << "${where('track')}: empty; give a bigWig or BAM file"
            else if (!(row.track ==~ TRACK_EXT)) errors << "${where('track')}: '${row.track}' is not a bigWig (.bw, .bigWig) or BAM (.bam)"
            else {
                def p = resolve(sheet, row.track)
                def index = null
                if (!remote(row.track) && !p.exists()) errors << "${where('track')}: file not found: ${p}"
                else if (row.track.toLowerCase().endsWith('.bam')) {
                    def candidates = [Nextflow.file("${p}.bai") as Path, Nextflow.file(p.toString().replaceAll(/(?i)\.bam$/, '.bai')) as Path, Nextflow.file("${p}.csi") as Path]
                    index = candidates.find { remote(row.track) || it.exists() }
                    if (index == null) errors << "${where('track')}: BAM without index: run 'samtools index ${p.name}' (${p.name}.bai must sit next to it)"
                }
                if (row.mark in s.marks) errors << "${where('mark')}: sample '${row.sample}' has mark '${row.mark}' twice"
                else { s.marks << row.mark; s.tracks[row.mark] = [p, index] }
            }
            // per-sample columns
            ['contacts', 'expression'].each { col ->
                def text = row[col] ?: ''
                if (s[col + '_text'] == null) {
                    s[col + '_text'] = text
                    if (!text) return
                    def file = text, suffix = ''
                    if (col == 'contacts' && text.contains('::')) { file = text.substring(0, text.indexOf('::')); suffix = text.substring(text.indexOf('::')) }
                    if (col == 'contacts' && file.toLowerCase().endsWith('.mcool') && !suffix) { errors << "${where(col)}: a .mcool needs a resolution, e.g. ${file}::resolutions/10000"; return }
                    if (col == 'contacts' && suffix && !(suffix ==~ /::\/?resolutions\/\d+/)) { errors << "${where(col)}: '${suffix}' after the file name: expected ::resolutions/N"; return }
                    def p = resolve(sheet, file)
                    if (!remote(file) && !p.exists()) { errors << "${where(col)}: file not found: ${p}"; return }
                    if (col == 'expression' && !remote(file)) {
                        def columns = headerOf(p)
                        if (columns == null) { errors << "${where(col)}: ${p.name} is empty or unreadable"; return }
                        if (!hasSample(columns, row.sample)) { errors << "${where(col)}: ${p.name} has no column for sample '${row.sample}' (columns: ${columns.drop(1).take(10).join(', ')}${columns.size() > 11 ? ', ...' : ''})"; return }
                    }
                    s[col] = col == 'contacts' ? [p, suffix] : p
                } else if (s[col + '_text'] != text) {
                    errors << "${where(col)}: sample '${row.sample}' has '${text}' here but '${s[col + '_text']}' on line ${s.line}; ${col} belongs to the sample, give the same value on each of its rows"
                }
            }
        }
        // Every sample must have the same marks.
        if (samples && !errors) {
            def reference = wantedMarks ?: samples.values().first().marks
            samples.each { String sample, Map s ->
                def lacking = reference.findAll { !(it in s.marks) }
                if (lacking) errors << "${name} line ${s.line}: sample '${sample}' has no track for mark(s) ${lacking.join(', ')} (every sample needs the same marks${wantedMarks ? ', as given by --marks' : ''})"
                def extra = s.marks.findAll { !(it in reference) }
                if (extra && !wantedMarks) errors << "${name} line ${s.line}: sample '${sample}' has mark(s) ${extra.join(', ')} that the first sample lacks"
            }
        }
        return [samples: samples, errors: errors]
    }

    /**
     * The header fields of an expression table (tab-separated, optionally gzipped), or null when it cannot be read:
     * '#' comment lines skipped (featureCounts), and GCT's dimensions line after its '#1.2' version line.
     */
    static List<String> headerOf(Path path) {
        try {
            def input = Files.newInputStream(path)
            def head = new BufferedInputStream(input)
            head.mark(2)
            def magic = [head.read(), head.read()]
            head.reset()
            def stream = magic == [0x1f, 0x8b] ? new GZIPInputStream(head) : head
            def reader = new BufferedReader(new InputStreamReader(stream, 'UTF-8'))
            def line = reader.readLine()
            def gct = line != null && line.replaceAll(/^\uFEFF/, '').startsWith('#1.')
            while (line != null && (!line.trim() || line.replaceAll(/^\uFEFF/, '').startsWith('#'))) line = reader.readLine()
            if (gct && line != null) line = reader.readLine()
            stream.close()
            return line == null ? null : line.replaceAll(/^\uFEFF/, '').split('\t') as List
        } catch (IOException e) {
            return null
        }
    }

    /** Whether an expression table has a column for the sample: by name, or a BAM file named after it (featureCounts). */
    static boolean hasSample(List<String> columns, String sample) {
        if (sample in columns) return true
        def suffixes = ~/(?i)(\.bam|\.sorted|\.sortedByCoord\.out|Aligned|\.markdup|\.dedup|\.mkdup|_sorted)+$/
        return columns.count { c -> c.toLowerCase().endsWith('.bam') && c.tokenize('/')[-1].replaceAll(suffixes, '') == sample } == 1
    }

    /** Channel order: --marks, else the published seven in published order when present, else as first listed. */
    static List<String> markOrder(Map samples, List<String> wanted) {
        if (wanted) return wanted
        def published = ['H3K4me1', 'H3K4me3', 'H3K9me3', 'H3K27me3', 'H3K36me3', 'H3K27ac', 'H3K9ac']
        def marks = samples.values().first().marks
        return marks.toSet() == published.toSet() ? published : marks
    }
}
