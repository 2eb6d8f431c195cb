package io.hashidx.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.openjdk.jmh.profile.JavaFlightRecorderProfiler;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the suite: every workload that applies to each peer, with a profile's sizes, one JMH run
 * per (peer, workload, variant), each writing its JSON result under {@code <out>/jmh/}; then
 * {@code io.hashidx.bench.report.Report} turns the directory into REPORT.md and charts.
 *
 * <pre>
 * Suite PROFILE --out DIR [--peers hashidx,lmdb] [--workloads getHit,open] [--entries N] [--forks N]
 *       [--label TEXT] [--jfr] [--stalls] [--dry-run] [--resume]
 * </pre>
 * {@code --stalls}: the put-latency runs record what can hold up a put, for
 * {@code io.hashidx.bench.report.Stalls} to attribute each slow window: a kernel trace
 * ({@link KernelTrace}, where the machine allows it) under {@code <out>/stalls/<run>.trace} and a JFR
 * recording of compilations, deoptimizations, safepoints and collections per fork under
 * {@code <out>/stalls/<run>-<pid>.jfr}.
 * {@code --resume}: DIR holds an earlier, unfinished run of the same profile; the runs recorded ok in
 * its {@code runs.jsonl} are skipped, the others run and append to it (their metrics lines from the
 * earlier attempt are dropped first).
 * {@code bench/run} is the way in: it builds, sets the files directory and starts this class.
 */
public final class Suite {
    /** Order of the run: reads on the loaded files first, the workloads that write them last. */
    static final List<Workload> ORDER = List.of(Workload.GET_HIT, Workload.GET_MISS, Workload.GET_HIT_TWO_THREADS,
            Workload.COLD_GET, Workload.OPEN, Workload.GET_OR_OVERWRITE, Workload.BULK_LOAD, Workload.INSERT,
            Workload.INSERT_LATENCY);

    /** Peers whose own setting stands for {@code advice=random} in the cold workload. */
    static final Set<Peer> COLD_ADVICE = EnumSet.of(Peer.HASHIDX, Peer.LMDB, Peer.CHRONICLE_MAP, Peer.MAPDB);

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    /**
     * One JMH run: a workload on a peer, with the parameters of one variant, and the forks and
     * iterations it runs with ({@link Profile#shape}; {@link Budget} estimates from the same).
     */
    record Run(Peer peer, Workload workload, String variant, Map<String, String> params, Profile.Shape shape) {
        String id() {
            return peer.id() + "-" + workload.method + (variant.isEmpty() ? "" : "-" + variant);
        }
    }

    private Suite() {
    }

    public static void main(String[] args) throws Exception {
        Profile profile = null;
        Path out = null;
        Set<Peer> peers = EnumSet.allOf(Peer.class);
        Set<Workload> workloads = EnumSet.allOf(Workload.class);
        String label = "";
        boolean jfr = false;
        boolean stalls = false;
        boolean dryRun = false;
        boolean resume = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--peers" -> {
                    peers = EnumSet.noneOf(Peer.class);
                    for (String p : args[++i].split(",")) {
                        peers.add(Peer.byId(p.trim()));
                    }
                }
                case "--workloads" -> {
                    workloads = EnumSet.noneOf(Workload.class);
                    for (String w : args[++i].split(",")) {
                        workloads.add(Workload.byMethod(w.trim()));
                    }
                }
                case "--entries" -> profile = require(profile, args[i]).withEntries(Integer.parseInt(args[++i].replace("_", "")));
                case "--forks" -> profile = require(profile, args[i]).withForks(Integer.parseInt(args[++i]));
                case "--label" -> label = args[++i];
                case "--jfr" -> jfr = true;
                case "--stalls" -> stalls = true;
                case "--dry-run" -> dryRun = true;
                case "--resume" -> resume = true;
                default -> {
                    if (profile != null || args[i].startsWith("-")) {
                        throw new IllegalArgumentException("unknown argument " + args[i]);
                    }
                    profile = Profile.byName(args[i]);
                }
            }
        }
        if (profile == null || out == null) {
            System.err.println("usage: Suite smoke|quick|full --out DIR [--peers a,b] [--workloads m,n] [--entries N]"
                    + " [--forks N] [--label TEXT] [--jfr] [--stalls] [--dry-run] [--resume]");
            System.exit(2);
        }
        final Profile prof = profile;
        List<Run> runs = plan(profile, peers, workloads);
        Set<String> done = resume ? Resume.okRuns(out) : Set.of();
        if (resume) {
            Resume.checkSameProfile(out, profile);
        }
        List<Run> todo = runs.stream().filter(r -> !done.contains(r.id())).toList();
        double estimate = printPlan(profile, runs, done);
        double remaining = todo.stream().mapToDouble(r -> Budget.seconds(prof, r)).sum() + Budget.fixtureSeconds(profile, todo);
        if (resume) {
            System.out.printf(Locale.ROOT, "# resuming %s: %d of %d runs recorded ok there, %d to run: ~%.0f s (%.1f min)%n",
                    out, runs.size() - todo.size(), runs.size(), todo.size(), remaining, remaining / 60);
        }
        if (dryRun) {
            return;
        }
        Files.createDirectories(out.resolve("jmh"));
        Map<String, Object> run = resume ? Resume.runInfo(out) : RunInfo.describe(profile, label, estimate);
        Map<String, Object> session = RunInfo.session(todo.size());
        if (resume) {
            Resume.dropMetricsOf(out, todo);
        }
        @SuppressWarnings("unchecked")
        List<Object> sessions = (List<Object>) run.computeIfAbsent("sessions", k -> new ArrayList<>());
        sessions.add(session);
        writeJson(out.resolve("run.json"), run);
        long start = System.nanoTime();
        for (Run r : todo) {
            runOne(profile, r, out, jfr, stalls);
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        session.put("finished", Instant.now().toString());
        session.put("elapsed_seconds", elapsed);
        session.put("loadavg_end", RunInfo.loadAverage());
        double before = run.get("elapsed_seconds") instanceof Number e ? e.doubleValue() : 0;
        run.put("finished", Instant.now().toString());
        run.put("elapsed_seconds", before + elapsed);
        run.put("loadavg_end", RunInfo.loadAverage());
        writeJson(out.resolve("run.json"), run);
        System.out.printf(Locale.ROOT, "# suite finished in %.0f s (estimate was %.0f s)%n", elapsed, resume ? remaining : estimate);
    }

    /**
     * Prints the plan: each run with its forks and iterations and its estimate, then the sums by fork
     * count and the total, fixtures included; returns the total. Runs in {@code done} are marked so.
     */
    static double printPlan(Profile profile, List<Run> runs, Set<String> done) {
        System.out.printf(Locale.ROOT, "# %s profile: %,d entries, %d fork(s) per run that carries a goal; %d JMH runs%n",
                profile.name(), profile.entries(), profile.forks(), runs.size());
        System.out.printf(Locale.ROOT, "#   %-36s %5s %11s %9s%n", "run", "forks", "warm+meas", "estimate");
        double estimate = 0;
        Map<Integer, double[]> byForks = new java.util.TreeMap<>(java.util.Comparator.reverseOrder());
        for (Run r : runs) {
            double s = Budget.seconds(profile, r);
            estimate += s;
            Profile.Shape sh = r.shape();
            double[] sum = byForks.computeIfAbsent(sh.forks(), k -> new double[2]);
            sum[0]++;
            sum[1] += s;
            String note = (Goals.carries(r.peer(), r.workload()) ? "  goal" : "")
                    + (sh.trimmed() ? "  no goal, slow: once" : "")
                    + (done.contains(r.id()) ? "  (done)" : "");
            System.out.printf(Locale.ROOT, "#   %-36s %5d %5d + %-3d ~%6.0f s%s%n", r.id(), sh.forks(), sh.warmups(),
                    sh.iterations(), s, note);
        }
        for (var e : byForks.entrySet()) {
            System.out.printf(Locale.ROOT, "# %d fork(s): %.0f runs, ~%.0f s (%.1f min)%n", e.getKey(), e.getValue()[0],
                    e.getValue()[1], e.getValue()[1] / 60);
        }
        double fixtures = Budget.fixtureSeconds(profile, runs);
        System.out.printf(Locale.ROOT, "# loaded files (fixtures): ~%.0f s (%.1f min)%n", fixtures, fixtures / 60);
        estimate += fixtures;
        System.out.printf(Locale.ROOT, "# estimated time, fixtures included: %.0f s (%.1f min)%s%n", estimate, estimate / 60,
                profile.budgetSeconds() > 0 ? String.format(Locale.ROOT, "; budget %.0f min", profile.budgetSeconds() / 60.0) : "");
        return estimate;
    }

    private static Profile require(Profile p, String option) {
        if (p == null) {
            throw new IllegalArgumentException(option + " must follow the profile name");
        }
        return p;
    }

    /** The runs of a profile, in {@link #ORDER}. */
    static List<Run> plan(Profile profile, Collection<Peer> peers, Collection<Workload> workloads) {
        List<Run> runs = new ArrayList<>();
        String n = Integer.toString(profile.entries());
        for (Workload w : ORDER) {
            if (!workloads.contains(w)) {
                continue;
            }
            for (Peer p : Peer.values()) {
                if (!peers.contains(p) || !p.workloads().contains(w)) {
                    continue;
                }
                switch (w) {
                    case OPEN -> {
                        runs.add(new Run(p, w, "", Map.of("entries", n, "openEntries", "0"), profile.shape(p, w)));
                        if (p == Peer.HASHIDX) {
                            int big = profile.bigOpenBytes() > 0 ? entriesForFileBytes(profile.bigOpenBytes()) : profile.entries() * 10;
                            runs.add(new Run(p, w, "big", Map.of("entries", n, "openEntries", Integer.toString(big)),
                                    profile.shape(p, w)));
                        }
                    }
                    case COLD_GET -> {
                        String gets = Integer.toString(profile.coldGets());
                        runs.add(new Run(p, w, "", Map.of("entries", n, "advice", "none", "coldGets", gets), profile.shape(p, w)));
                        if (COLD_ADVICE.contains(p)) {
                            runs.add(new Run(p, w, "random", Map.of("entries", n, "advice", "random", "coldGets", gets),
                                    profile.shape(p, w)));
                        }
                    }
                    default -> runs.add(new Run(p, w, "", Map.of("entries", n), profile.shape(p, w)));
                }
            }
        }
        return runs;
    }

    /** The smallest round entry count whose presized hashidx file (16-byte keys and values) has at least {@code bytes}. */
    static int entriesForFileBytes(long bytes) {
        int n = 1_000_000;
        while (HashIndex.plan(Options.widths(16, 16).expectedEntries(n)).fileBytes() < bytes) {
            n += 1_000_000;
        }
        return n;
    }

    private static void runOne(Profile profile, Run r, Path out, boolean jfr, boolean stalls) {
        String benchmark = r.peer().benchClass.getName() + "." + r.workload().method;
        Profile.Shape shape = r.shape();
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include("^" + Pattern.quote(benchmark) + "$")
                .forks(shape.forks())
                .warmupIterations(shape.warmups())
                .measurementIterations(shape.iterations())
                .shouldFailOnError(true)
                .resultFormat(ResultFormatType.JSON)
                .result(out.resolve("jmh").resolve(r.id() + ".json").toString());
        r.params().forEach(o::param);
        // the run's id in every metrics line its forks write (Metrics), so that --resume can drop an unfinished attempt's
        List<String> prepend = new ArrayList<>(List.of("-D" + Metrics.RUN_PROPERTY + "=" + r.id()));
        switch (r.workload()) {
            case GET_HIT, GET_MISS, GET_OR_OVERWRITE, GET_HIT_TWO_THREADS -> o
                    .warmupTime(seconds(profile.warmupSeconds()))
                    .measurementTime(seconds(profile.iterationSeconds()));
            case INSERT, BULK_LOAD, INSERT_LATENCY -> o
                    .timeout(TimeValue.minutes(30))
                    .shouldDoGC(true);
            case OPEN -> {
            }
            // the harness's FFM downcalls (posix_fadvise, mincore, madvise), not the peer
            case COLD_GET -> prepend.add("--enable-native-access=ALL-UNNAMED");
        }
        boolean traceStalls = stalls && r.workload() == Workload.INSERT_LATENCY;
        if (traceStalls) {
            prepend.add("-XX:StartFlightRecording:filename=" + stallsFile(out, r.id() + "-%p.jfr") + ",settings="
                    + stallsJfc(out));
        }
        o.jvmArgsPrepend(prepend.toArray(String[]::new));
        if (jfr) {
            o.addProfiler(JavaFlightRecorderProfiler.class, "dir=" + out.resolve("jfr").resolve(r.id()).toAbsolutePath());
        }
        long start = System.nanoTime();
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("run", r.id());
        line.put("peer", r.peer().id());
        line.put("workload", r.workload().method);
        line.put("variant", r.variant());
        line.put("forks", shape.forks());
        line.put("warmups", shape.warmups());
        line.put("iterations", shape.iterations());
        line.put("goal", Goals.carries(r.peer(), r.workload()));
        try {
            System.out.println("# ---- " + r.id());
            Collection<RunResult> results;
            var trace = traceStalls ? KernelTrace.start(stallsFile(out, r.id() + ".trace")) : java.util.Optional.<KernelTrace>empty();
            try {
                results = new Runner(o.build()).run();
            } finally {
                if (trace.isPresent()) {
                    try {
                        trace.get().close();
                    } catch (IOException | RuntimeException e) {
                        // the benchmark's result stands; only its attribution is missing
                        System.out.println("# --stalls: the kernel trace of " + r.id() + " was not saved: " + e);
                    }
                }
            }
            line.put("ok", !results.isEmpty());
            if (results.isEmpty()) {
                line.put("error", "JMH returned no result");
            }
        } catch (RunnerException | RuntimeException e) {
            line.put("ok", false);
            line.put("error", String.valueOf(e.getCause() != null ? e.getCause() : e));
            System.out.println("# " + r.id() + " FAILED: " + e);
        }
        line.put("seconds", (System.nanoTime() - start) / 1e9);
        line.put("estimated_seconds", Budget.seconds(profile, r));
        try {
            Files.writeString(out.resolve("runs.jsonl"), new Gson().toJson(line) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code <out>/stalls/<name>}, the directory made. */
    private static Path stallsFile(Path out, String name) {
        Path dir = out.resolve("stalls").toAbsolutePath();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir.resolve(name);
    }

    /** The JFR settings of {@code --stalls} (a resource), copied into {@code <out>/stalls/}. */
    private static Path stallsJfc(Path out) {
        Path jfc = stallsFile(out, "stalls.jfc");
        try (var in = Suite.class.getResourceAsStream("stalls.jfc")) {
            if (in == null) {
                throw new IllegalStateException("the resource io/hashidx/bench/stalls.jfc is missing from the build");
            }
            Files.write(jfc, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return jfc;
    }

    private static TimeValue seconds(double s) {
        return TimeValue.milliseconds(Math.round(s * 1000));
    }

    static void writeJson(Path file, Object value) {
        try {
            Files.writeString(file, GSON.toJson(value) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What the machine and the run were, for the report's header. */
    static final class RunInfo {
        /** One session of the run (a resumed run has several): when, the load, the commit. */
        static Map<String, Object> session(int runs) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("started", Instant.now().toString());
            m.put("runs", runs);
            m.put("git_commit", System.getenv().getOrDefault("HASHIDX_BENCH_COMMIT", ""));
            m.put("loadavg_start", loadAverage());
            return m;
        }

        static Map<String, Object> describe(Profile profile, String label, double estimate) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("profile", profile);
            m.put("label", label);
            m.put("started", Instant.now().toString());
            m.put("estimated_seconds", estimate);
            m.put("git_commit", System.getenv().getOrDefault("HASHIDX_BENCH_COMMIT", ""));
            m.put("files_dir", Fixtures.root().toString());
            m.put("evict", System.getenv().getOrDefault("HASHIDX_BENCH_EVICT", "file"));
            m.put("cpu", cpuModel());
            m.put("cores", Runtime.getRuntime().availableProcessors());
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            m.put("memory_bytes", os.getTotalMemorySize());
            m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
            m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
            m.put("java_home", System.getProperty("java.home"));
            m.put("loadavg_start", loadAverage());
            m.put("read_ahead_kb", readAhead());
            m.put("versions", Versions.all());
            return m;
        }

        static String loadAverage() {
            try {
                return Files.readString(Path.of("/proc/loadavg")).trim();
            } catch (IOException e) {
                return "";
            }
        }

        /** read_ahead_kb of each block device, e.g. "vda 8192". */
        static String readAhead() {
            StringBuilder sb = new StringBuilder();
            try (var devices = Files.list(Path.of("/sys/block"))) {
                for (Path d : devices.sorted().toList()) {
                    Path ra = d.resolve("queue/read_ahead_kb");
                    String name = d.getFileName().toString();
                    if (Files.exists(ra) && !name.startsWith("loop") && !name.startsWith("ram")) {
                        sb.append(sb.isEmpty() ? "" : ", ").append(name).append(' ').append(Files.readString(ra).trim()).append(" KiB");
                    }
                }
            } catch (IOException e) {
                return "";
            }
            return sb.toString();
        }

        static String cpuModel() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (line.startsWith("model name")) {
                        return line.substring(line.indexOf(':') + 1).trim();
                    }
                }
            } catch (IOException e) {
                // not Linux: leave it out
            }
            return "";
        }
    }
}
