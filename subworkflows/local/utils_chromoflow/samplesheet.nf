/*
 * Reads and checks the samplesheet before any task starts.
 *
 *   sample,mark,track,contacts,expression
 *   E003,H3K4me3,E003-H3K4me3.bw,E003.ibed,57epigenomes.RPKM.tsv
 *
 * One row per sample x mark. `contacts` (BEDPE/ibed/cool/mcool::resolutions/N/.hic) and
 * `expression` belong to the sample: the same on each of its rows, or empty (no pCREs / no
 * expression). Relative paths are relative to the samplesheet's folder. The columns, which are
 * required and the name pattern come from assets/schema_input.json (the nf-schema description of
 * the sheet); every problem is reported as "<sheet> line N, column 'x': what is wrong".
 */

/** The fields of one CSV line (double quotes may enclose commas; "" is a quote). */
def csvFields(String line) {
    def m = line =~ /(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/
    return m.collect { _all, quoted, plain -> (quoted != null ? quoted.replace('""', '"') : plain).trim() }
}

/** A path of the sheet: absolute, a URL, or relative to the sheet's folder. */
def sheetPath(sheet, String value) {
    if (value.contains('://') || new File(value).isAbsolute()) {
        return file(value)
    }
    return sheet.toAbsolutePath().parent.resolve(value).normalize()
}

/** [required columns, all columns, name pattern] from the samplesheet's schema. */
def sheetColumns(Map schema) {
    def item = schema.items as Map
    def required = (item.required ?: []) as List
    def columns = ((item.properties ?: [:]) as Map).keySet().toList()
    def pattern = ((item.properties as Map).sample?.pattern ?: '^[A-Za-z0-9][A-Za-z0-9._-]*$').toString()
    return [required, columns, pattern]
}

/**
 * [samples: [name: [marks: [...], tracks: [mark: [path, index|null]], contacts: [path, suffix]|null, expression: path|null]], errors: [...]]
 */
def readSamplesheet(String input, List wantedMarks, Map schema) {
    def (required, columns, namePattern) = sheetColumns(schema)
    def errors = []
    def sheet = file(input)
    def name = sheet.name
    if (!sheet.exists()) {
        return [samples: [:], errors: ["--input ${input}: samplesheet not found"]]
    }
    def text = sheet.text
    def lines = (text.startsWith('\uFEFF') ? text.substring(1) : text).readLines()
    // Blank lines, and rows of empty fields (",,,," as spreadsheets save trailing rows), are skipped.
    def numbered = lines.withIndex().findAll { l, _i -> l.trim() && csvFields(l).any { f -> f } }.collect { l, i -> [l, i + 1] }
    if (!numbered) {
        return [samples: [:], errors: ["${name}: empty samplesheet"]]
    }
    // Empty columns at the end of the header (spreadsheets save "sample,mark,track,,") are dropped.
    def header = csvFields(numbered[0][0])
    def width = header.size() - header.reverse().takeWhile { f -> !f }.size()
    header = header.take(width)
    if (header.size() == 1 && header[0].contains(';') && required.every { c -> header[0].tokenize(';')*.trim().contains(c) }) {
        return [samples: [:], errors: ["${name} line ${numbered[0][1]}: the samplesheet is ';'-separated (as European Excel saves CSV); save it with ',' as the separator"]]
    }
    def missing = required.findAll { c -> !(c in header) }
    if (missing) {
        return [samples: [:], errors: ["${name} line ${numbered[0][1]}: missing column(s) ${missing.join(', ')}; expected header ${required.join(',')}[,${(columns - required).join(',')}]"]]
    }
    def unknown = header.findAll { c -> !(c in columns) }
    if (unknown) {
        errors << "${name} line ${numbered[0][1]}: unknown column(s) ${unknown.join(', ')}; expected ${required.join(',')}[,${(columns - required).join(',')}]"
    }
    if (numbered.size() == 1) {
        errors << "${name}: no sample rows"
    }
    def samples = [:] as LinkedHashMap
    numbered.drop(1).each { line, no ->
        def f = csvFields(line)
        def extra = f.drop(header.size())
        if (f.size() > header.size() && !extra.any { x -> x }) {
            f = f.take(header.size())  // the trailing empty columns
        }
        if (f.size() != header.size()) {
            errors << "${name} line ${no}: ${f.size()} fields, the header has ${header.size()}"
            return
        }
        def row = [header, f].transpose().collectEntries { kv -> kv }
        def where = "${name} line ${no}"
        ['sample', 'mark'].each { col ->
            if (!(row[col] ==~ namePattern)) {
                errors << "${cell(where, col)}: '${row[col]}' must start with a letter or digit and contain only letters, digits, '.', '_' or '-'"
            }
        }
        ['track', 'contacts', 'expression'].each { col ->
            if (row[col] && row[col] ==~ /.*[\n\r\t].*/) {
                errors << "${cell(where, col)}: line breaks and tabs are not allowed in paths"
            }
        }
        def s = samples.computeIfAbsent(row.sample) { _k -> [marks: [], tracks: [:], contacts: null, contacts_text: null, expression: null, expression_text: null, line: no] }
        checkTrack(row, s, sheet, where, errors)
        ['contacts', 'expression'].each { col -> checkSampleColumn(col, row, s, sheet, where, errors) }
    }
    // Every sample must have the same marks.
    if (samples && !errors) {
        def reference = wantedMarks ?: samples.values().first().marks
        samples.each { sample, s ->
            def lacking = reference.findAll { m -> !(m in s.marks) }
            if (lacking) {
                errors << "${name} line ${s.line}: sample '${sample}' has no track for mark(s) ${lacking.join(', ')} (every sample needs the same marks${wantedMarks ? ', as given by --marks' : ''})"
            }
            def surplus = s.marks.findAll { m -> !(m in reference) }
            if (surplus && !wantedMarks) {
                errors << "${name} line ${s.line}: sample '${sample}' has mark(s) ${surplus.join(', ')} that the first sample lacks"
            }
        }
    }
    return [samples: samples, errors: errors]
}

/** Where a samplesheet value is: "<sheet> line <n>, column '<col>'". */
def cell(String where, String col) {
    return "${where}, column '${col}'"
}

def checkTrack(Map row, Map s, sheet, String where, List errors) {
    if (!row.track) {
        errors << "${cell(where, 'track')}: empty; give a bigWig or BAM file"
        return
    }
    if (!(row.track ==~ /(?i).*\.(bw|bigwig|bam)$/)) {
        errors << "${cell(where, 'track')}: '${row.track}' is not a bigWig (.bw, .bigWig) or BAM (.bam)"
        return
    }
    def p = sheetPath(sheet, row.track)
    def remote = row.track.contains('://')
    def index = null
    if (!remote && !p.exists()) {
        errors << "${cell(where, 'track')}: file not found: ${p}"
    } else if (row.track.toLowerCase().endsWith('.bam')) {
        def candidates = [file("${p}.bai"), file(p.toString().replaceAll(/(?i)\.bam$/, '.bai')), file("${p}.csi")]
        index = candidates.find { c -> remote || c.exists() }
        if (index == null) {
            errors << "${cell(where, 'track')}: BAM without index: run 'samtools index ${p.name}' (${p.name}.bai must sit next to it)"
        }
    }
    if (row.mark in s.marks) {
        errors << "${cell(where, 'mark')}: sample '${row.sample}' has mark '${row.mark}' twice"
    } else {
        s.marks << row.mark
        s.tracks[row.mark] = [p, index]
    }
}

/** `contacts` or `expression`: the sample's own, the same on each of its rows. */
def checkSampleColumn(String col, Map row, Map s, sheet, String where, List errors) {
    def text = row[col] ?: ''
    if (s[col + '_text'] != null) {
        if (s[col + '_text'] != text) {
            errors << "${cell(where, col)}: sample '${row.sample}' has '${text}' here but '${s[col + '_text']}' on line ${s.line}; ${col} belongs to the sample, give the same value on each of its rows"
        }
        return
    }
    s[col + '_text'] = text
    if (!text) {
        return
    }
    def path = text
    def suffix = ''
    if (col == 'contacts' && text.contains('::')) {
        path = text.substring(0, text.indexOf('::'))
        suffix = text.substring(text.indexOf('::'))
    }
    if (col == 'contacts' && path.toLowerCase().endsWith('.mcool') && !suffix) {
        errors << "${cell(where, col)}: a .mcool needs a resolution, e.g. ${path}::resolutions/10000"
        return
    }
    if (col == 'contacts' && suffix && !(suffix ==~ /::\/?resolutions\/\d+/)) {
        errors << "${cell(where, col)}: '${suffix}' after the file name: expected ::resolutions/N"
        return
    }
    def p = sheetPath(sheet, path)
    def remote = path.contains('://')
    if (!remote && !p.exists()) {
        errors << "${cell(where, col)}: file not found: ${p}"
        return
    }
    if (col == 'expression' && !remote) {
        def cols = expressionColumns(p)
        if (cols == null) {
            errors << "${cell(where, col)}: ${p.name} is empty or unreadable"
            return
        }
        if (!hasSampleColumn(cols, row.sample)) {
            errors << "${cell(where, col)}: ${p.name} has no column for sample '${row.sample}' (columns: ${cols.drop(1).take(10).join(', ')}${cols.size() > 11 ? ', ...' : ''})"
            return
        }
    }
    s[col] = col == 'contacts' ? [p, suffix] : p
}

/**
 * The header fields of an expression table (tab-separated, optionally gzipped), or null when it cannot
 * be read: '#' comment lines skipped (featureCounts), and GCT's dimensions line after its '#1.2'.
 */
def expressionColumns(path) {
    try {
        return path.withInputStream { raw -> headerFields(raw) }
    } catch (IOException _e) {
        return null
    }
}

def headerFields(InputStream raw) {
    def head = new java.io.BufferedInputStream(raw)
    head.mark(2)
    def gz = head.read() == 0x1f && head.read() == 0x8b
    head.reset()
    def stream = gz ? new java.util.zip.GZIPInputStream(head) : head
    def lines = new java.io.BufferedReader(new java.io.InputStreamReader(stream, 'UTF-8')).lines().limit(200).toList().collect { l -> l.replaceAll(/^\uFEFF/, '') }
    def gct = lines && lines[0].startsWith('#1.')
    def data = lines.findAll { l -> l.trim() && !l.startsWith('#') }
    def header = gct ? data.drop(1) : data
    return header ? header[0].split('\t') as List : null
}

/** Whether an expression table has a column for the sample: by name, or the one BAM file named after it (featureCounts). */
def hasSampleColumn(List columns, String sample) {
    if (sample in columns) {
        return true
    }
    def suffixes = /(?i)(\.bam|\.sorted|\.sortedByCoord\.out|Aligned|\.markdup|\.dedup|\.mkdup|_sorted)+$/
    return columns.count { c -> c.toLowerCase().endsWith('.bam') && c.tokenize('/')[-1].replaceAll(suffixes, '') == sample } == 1
}

/** Channel order: --marks, else the published seven in published order when present, else as first listed. */
def markOrder(Map samples, List wanted) {
    if (wanted) {
        return wanted
    }
    def published = ['H3K4me1', 'H3K4me3', 'H3K9me3', 'H3K27me3', 'H3K36me3', 'H3K27ac', 'H3K9ac']
    def marks = samples.values().first().marks
    return marks.toSet() == published.toSet() ? published : marks
}
