/*
 * Where the tasks will run, checked before the first one: the container runtime of the profile on
 * PATH, an image that exists and holds chromoflow, and a Slurm that accepts the run's largest job.
 * Each problem is one line that names the profile and what to install or set. Included by
 * utils_chromoflow/main.nf only.
 *
 * `where` describes this launch: [engine: workflow.containerEngine, profiles: the -profile names,
 * env: the environment to look for programs in (PATH, SLURM_CONF, USER)].
 */

/** Apptainer's run options in the apptainer/singularity profiles (nextflow.config): the same in the check. */
def apptainerRunOptions() {
    return ['--no-privs']
}

/** The runtime program each container engine runs tasks with. */
def runtimeProgram(String engine) {
    return [docker: 'docker', podman: 'podman', singularity: 'singularity', apptainer: 'apptainer', charliecloud: 'ch-run'][engine]
}

/** The first executable `name` on the PATH of `env`, or null. */
def findProgram(String name, Map env) {
    def dirs = (env.PATH ?: '').toString().tokenize(File.pathSeparator)
    def found = dirs.collect { d -> new File(d, name) }.find { f -> f.isFile() && f.canExecute() }
    return found ? found.path : null
}

/** Runs `words` with environment `env`: [exit status, output (stdout and stderr)], or null when it cannot start. */
def runProgram(List words, Map env, int seconds = 120) {
    def log = File.createTempFile('chromoflow-check', '.log')
    log.deleteOnExit()
    def result = null
    try {
        def builder = new ProcessBuilder(words.collect { w -> w.toString() })
        builder.environment().clear()
        env.each { k, v -> builder.environment().put(k.toString(), v.toString()) }
        builder.redirectErrorStream(true)
        builder.redirectOutput(log)
        def proc = builder.start()
        if (proc.waitFor(seconds, java.util.concurrent.TimeUnit.SECONDS)) {
            result = [proc.exitValue(), log.text]
        } else {
            proc.destroyForcibly()
            result = [124, "timed out after ${seconds} s".toString()]
        }
    } catch (IOException _e) {
        result = null
    }
    log.delete()
    return result
}

/** The line of a program's output that says what went wrong (its last line that is not blank), shortened. */
def firstProblem(String output) {
    def lines = output.readLines()*.trim().findAll { l -> l }
    def line = lines.find { l -> l =~ /(?i)(fatal|error|not found|no such|cannot|failed|invalid|refused)/ } ?: (lines ? lines[-1] : 'no output')
    return line.length() > 200 ? line.take(200) + '...' : line
}

/** Whether `path` starts as a Singularity image file does (the SIF magic after the 32-byte launch line). */
def isSif(File path) {
    def head = path.withInputStream { s -> s.readNBytes(41) }
    return head.length == 41 && new String(head, 32, 9, 'US-ASCII') == 'SIF_MAGIC'
}

/** What is wrong with the container runtime and the image of a launch, as lines (none: all is well). */
def containerRuntimeProblems(String engine, String image, Map env, String projectDir) {
    def program = runtimeProgram(engine)
    if (!program) {
        return []
    }
    def profile = "-profile ${engine}"
    if (!findProgram(program, env)) {
        def how = [
            'ch-run': "install Charliecloud (Debian/Ubuntu: apt-get install charliecloud; here: 'make hpc-tools')",
            apptainer: "install Apptainer (here: 'make apptainer', which builds it from source and links it into .venv/bin; then put .venv/bin on PATH)",
            singularity: "install Apptainer or SingularityCE (here: 'make apptainer' links 'singularity' to Apptainer into .venv/bin; then put .venv/bin on PATH)",
            docker: 'install Docker and start its daemon',
            podman: 'install Podman',
        ][program]
        return ["${profile}: '${program}' is not on PATH: ${how}, or choose another container profile".toString()]
    }
    if (engine == 'charliecloud') {
        return charliecloudImageProblems(image, env)
    }
    if (engine in ['singularity', 'apptainer']) {
        return apptainerImageProblems(engine, program, image, env, projectDir)
    }
    return []
}

def charliecloudImageProblems(String image, Map env) {
    def folder = new File(image)
    def build = "build it with 'make image' (a Debian root with chromoflow, containers/build-root.sh; needs root) or convert the Docker image ('ch-convert -i docker chromoflow:0.1.0 FOLDER'), and pass --container FOLDER"
    if (!folder.isAbsolute()) {
        return ["-profile charliecloud: --container ${image}: give the absolute path of an image folder; ${build}".toString()]
    }
    if (!folder.isDirectory()) {
        return ["-profile charliecloud: the image folder ${image} does not exist: ${build}".toString()]
    }
    // Nextflow 24.10 runs ch-run -w (Charliecloud 0.31 has no --write-fake), which needs a writable image.
    if (!folder.canWrite()) {
        return ["-profile charliecloud: the image folder ${image} is not writable by you, and Charliecloud 0.31 runs it read-write (ch-run -w, for the task folders' mount points): copy it to a folder of your own (cp -a), or with Charliecloud >= 0.32 set charliecloud.writeFake = true in a config (-c)".toString()]
    }
    def ran = runProgram([findProgram('ch-run', env), '--unset-env=*', '--set-env', image, '--', 'chromoflow', '--version'], env + [USER: env.USER ?: System.getProperty('user.name')])
    if (ran == null || ran[0] != 0) {
        def why = ran == null ? 'ch-run could not start' : firstProblem(ran[1].toString())
        return ["-profile charliecloud: the image ${image} cannot run chromoflow (ch-run ${image} -- chromoflow --version: ${why}): ${build}".toString()]
    }
    return []
}

def apptainerImageProblems(String engine, String program, String image, Map env, String projectDir) {
    def profile = "-profile ${engine}"
    def build = "build it with 'make sif' (from the 'make image' root) or '${engine} build chromoflow-0.1.0.sif ${projectDir}/containers/chromoflow.def', and pass --container FILE"
    if (image ==~ /^(docker|oras|library|shub|https?):\/\/.*/) {
        return []  // pulled (and converted) where the tasks run
    }
    if (!image.startsWith('/') && !image.endsWith('.sif')) {
        return image.contains('/') ? [] : ["${engine} cannot pull the local tag ${image}: ${build} (or a registry URI of a pushed copy, docker://REGISTRY/chromoflow:TAG)".toString()]
    }
    def path = new File(image)
    if (!path.exists()) {
        return ["${profile}: the container image ${image} does not exist: ${build}".toString()]
    }
    if (path.isFile() && !isSif(path)) {
        return ["${profile}: ${image} is not a Singularity/Apptainer image file (SIF): ${build}".toString()]
    }
    def ran = runProgram([findProgram(program, env), 'exec'] + apptainerRunOptions() + [image, 'chromoflow', '--version'], env)
    if (ran != null && ran[0] == 0) {
        return []
    }
    def why = ran == null ? "${program} could not start" : firstProblem(ran[1].toString())
    return ["${profile}: the image ${image} cannot run chromoflow (${program} exec ${image} chromoflow --version: ${why}): ${build}".toString()]
}

/** sbatch's --mem and -t values for a memory and a duration (given as in a config: '6.GB', '1.h'). */
def slurmMemory(value) {
    return "${new nextflow.util.MemoryUnit(value.toString()).toMega()}M".toString()
}

def slurmTime(value) {
    return Math.max(1L, new nextflow.util.Duration(value.toString()).toMinutes()).toString()
}

/**
 * What a Slurm cluster would refuse, before any job is submitted: `sbatch --test-only` with the largest
 * request a task of this run can make (--max_cpus, --max_memory, --max_time: retries raise requests up to
 * them) in each partition the run submits to (--slurm_queue; --gpu_queue with a GPU for -profile gpu).
 */
def slurmProblems(Map params, boolean gpu, Map env) {
    def sbatch = findProgram('sbatch', env)
    if (!sbatch) {
        return ["-profile slurm: 'sbatch' is not on PATH: run the pipeline where Slurm's commands are (a login node), or leave -profile slurm out".toString()]
    }
    def limits = ['-c', params.max_cpus.toString(), '--mem', slurmMemory(params.max_memory), '-t', slurmTime(params.max_time)]
    def asks = [[queue: params.slurm_queue ?: null, extra: [], what: 'a task']]
    if (gpu) {
        asks << [queue: params.gpu_queue ?: params.slurm_queue ?: null, extra: ['--gres=gpu:1'], what: 'a GPU task']
    }
    def problems = []
    asks.each { ask ->
        def queue = ask.queue ? ['-p', ask.queue.toString()] : []
        def ran = runProgram([sbatch, '--test-only'] + queue + limits + ask.extra + ['--wrap', 'true'], env)
        if (ran == null || ran[0] != 0) {
            // sbatch's last line says why ("allocation failure: Invalid partition name specified").
            def last = ran == null ? '' : ran[1].toString().readLines()*.trim().findAll { l -> l }.with { ls -> ls ? ls[-1] : 'no output' }
            def why = ran == null ? 'sbatch could not start' : last.replaceFirst(/^(sbatch: error: )?(Batch job submission failed: |allocation failure: )?/, '')
            def where = ask.queue ? "partition '${ask.queue}'" : "the default partition"
            def fix = why =~ /(?i)partition/ ? "set ${ask.extra ? '--gpu_queue' : '--slurm_queue'} to one of the cluster's partitions (sinfo -s lists them)" : "lower --max_cpus/--max_memory/--max_time to what the partition's nodes offer (sinfo -o '%P %c %m %l %G'), or choose another ${ask.extra ? '--gpu_queue' : '--slurm_queue'}"
            problems << "-profile slurm: Slurm refuses ${ask.what}'s largest request in ${where} (${params.max_cpus} CPUs, ${params.max_memory}, ${params.max_time}${ask.extra ? ', 1 GPU' : ''}): ${why}; ${fix}".toString()
        }
    }
    return problems
}

/** Every runtime problem of a launch (see the top of this file). */
def runtimeProblems(Map params, Map where, String projectDir) {
    def env = (where.env ?: [:]) as Map
    def profiles = (where.profiles ?: []) as List
    def problems = containerRuntimeProblems((where.engine ?: '').toString(), params.container ? params.container.toString() : '', env, projectDir)
    if ('slurm' in profiles) {
        problems += slurmProblems(params, 'gpu' in profiles, env)
    }
    ['google', 'awsbatch'].findAll { p -> p in profiles }.each { p ->
        if (!params.container || !params.container.toString().contains('/')) {
            problems << "-profile ${p}: --container ${params.container}: cloud batch pulls every task's image from a registry: push the image (docker build -t chromoflow:0.1.0 -f containers/Dockerfile .; docker push REGISTRY/chromoflow:0.1.0) and pass --container REGISTRY/chromoflow:0.1.0".toString()
        }
    }
    return problems
}
