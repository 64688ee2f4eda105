/*
 * PREPARE: the annotation, every sample's tracks (BAMs become bigWigs), pCREs once per contacts
 * source, and one dataset per sample.
 *
 *   take:  samples [name: [marks, tracks: [mark: [path, index]], contacts: [path, suffix] | null, expression: path | null]]
 *          marks   channel order
 *   emit:  genes    the genes table
 *          datasets [sample, dataset.h5]
 *          versions every task's versions.yml
 */

include { GENES    } from '../../../modules/local/genes'
include { COVERAGE } from '../../../modules/local/coverage'
include { PCRES    } from '../../../modules/local/pcres'
include { DATASET  } from '../../../modules/local/dataset'
include { contactSources } from '../utils_chromoflow/dataflow'

workflow PREPARE {
    take:
    samples
    marks

    main:
    GENES(channel.value([[id: 'genes'], file(params.genes.toString())]))
    genes = GENES.out.genes.map { _meta, tsv -> tsv }
    aliases = params.chrom_aliases ? file(params.chrom_aliases.toString()) : []

    // Tracks: BAMs become bigWigs first; bigWigs go straight to their dataset.
    def track_rows = samples.collectMany { name, s -> marks.collect { m -> [[id: "${name}.${m}".toString()], name, m, s.tracks[m][0], s.tracks[m][1]] } }
    ch_tracks = channel.fromList(track_rows).branch { _meta, _sample, _mark, track, _index ->
        bam: track.name.toLowerCase().endsWith('.bam')
        bigwig: true
    }
    def origin = track_rows.collectEntries { meta, sample, mark, _track, _index -> [meta.id, [sample, mark]] }
    COVERAGE(ch_tracks.bam.map { meta, _sample, _mark, bam, bai -> [meta, bam, bai] })
    ch_bigwigs = ch_tracks.bigwig.map { _meta, sample, mark, track, _index -> [sample, mark, track] }
        .mix(COVERAGE.out.bigwig.map { meta, bw -> origin[meta.id] + [bw] })
        .map { sample, mark, track -> [sample, [mark, track]] }
        .groupTuple(size: marks.size())
        .map { sample, pairs -> [sample, marks.collect { m -> pairs.find { p -> p[0] == m }[1] }] }

    // pCREs: one task per distinct contacts source, shared by the samples that name it.
    def (sources, source_of) = contactSources(samples)
    PCRES(channel.fromList(sources), genes, aliases)
    ch_sample_pcres = channel.fromList(source_of.collect { name, id -> [id, name] })
        .combine(PCRES.out.pcres.map { meta, tsv -> [meta.id, tsv] }, by: 0)
        .map { _id, name, tsv -> [name, tsv] }
        .mix(channel.fromList(samples.keySet().findAll { n -> !source_of[n] }.collect { n -> [n, []] }))

    ch_dataset_in = ch_bigwigs.join(ch_sample_pcres)
        .map { name, tracks, pcres -> [[id: name], tracks, marks, pcres, samples[name].expression ?: []] }
    DATASET(ch_dataset_in, genes, aliases)


    // Emitted by name: Nextflow 25.04 under the strict parser emits only variables of the emitted name.
    datasets = DATASET.out.dataset.map { meta, h5 -> [meta.id, h5] }
    versions = GENES.out.versions.mix(COVERAGE.out.versions, PCRES.out.versions, DATASET.out.versions)

    emit:
    genes
    datasets
    versions
}
