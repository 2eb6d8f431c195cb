package io.hashidx.tools.torture;

import io.hashidx.store.HashIndex;
import io.hashidx.store.HashIndexException;
import io.hashidx.store.Options;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A kill -9 campaign: a child JVM ({@link TortureChild}) runs a seeded random workload on one file
 * and acknowledges every operation that returned; this parent kills it with SIGKILL, reopens the
 * file read-only exactly as the kill left it, checks every acknowledged operation against its
 * {@link Model} and every invariant ({@code HashIndex.verify()}), checks that a salvage of the file
 * ({@code hashidx recover}) finds exactly the same entries, and starts the next child on the same
 * file, which recovers it and carries on (also in the middle of a growth).
 *
 * <p>Where the kills land: a share of them ({@link Settings#growthShare()}) is aimed at growth, half
 * at its start (at the announcement of the insert that will start it, or at the first
 * acknowledgement that shows it) and half at a random point of its evacuation (read from the growth
 * state each acknowledgement carries); the others come after a random number of acknowledgements.
 * Where each kill really landed is judged from the last lines the child wrote. Aimed kills wait for
 * growths of at least {@link #MIN_AIMED_OLD_BUCKETS} old buckets, which take several operations;
 * smaller ones finish inside the operation that starts them. So that growths keep coming, a file
 * that has doubled {@link Settings#doublingsPerFile()} times is replaced by a fresh one.
 *
 * <p>The kill instants depend on timing, so a campaign is not exactly repeatable: the same seed
 * gives the same workload seeds and the same plan of kills, not the same instants. A failing file is
 * kept as the kill left it.
 */
public final class Campaign {
    /** Aimed kills wait for a growth of at least this many old buckets. */
    static final long MIN_AIMED_OLD_BUCKETS = 16;
    /** An aimed kill that finds no growth to aim at comes after this many acknowledgements of one child. */
    static final long AIM_GIVE_UP_ACKS = 200_000;
    public static final long DEFAULT_OPS_PER_RUN = 3000;
    /** A third of the kills, give or take, aimed at growth. */
    public static final double DEFAULT_GROWTH_SHARE = 0.33;
    /** 12 doublings: from 1 bucket to 4,096, about 26,600 entries. */
    public static final int DEFAULT_DOUBLINGS_PER_FILE = 12;
    public static final int DEFAULT_KEY_WIDTH = 8;
    public static final int DEFAULT_VALUE_WIDTH = 16;
    /** A growth counts as just started for the kills in its first three operations. */
    private static final long GROWTH_START_OPS = 3;

    /**
     * What to run.
     *
     * @param file             the torture file; it must not exist (it is created, and re-created for each fresh file)
     * @param kills            how many times to kill a child
     * @param seed             seeds everything random: workloads, kill plan, file seeds
     * @param opsPerRun        a kill not aimed at growth comes after 1..opsPerRun acknowledged operations
     * @param growthShare      the share of kills aimed at growth, 0..1
     * @param doublingsPerFile a file that doubled this many times (and finished growing) is replaced by a fresh one
     * @param keyWidth         key width of the files, at least 8; with {@code variable}, the longest key
     * @param valueWidth       value width of the files; with {@code variable}, the longest value
     * @param variable         files with variable lengths ({@code Options.variableLengths()}): keys of 8..keyWidth
     *                         and values of 0..valueWidth bytes, many of them out of line
     * @param afterKill        called with the file after each kill, before the check; tests damage the
     *                         file here to prove that the check sees it
     */
    public record Settings(Path file, int kills, long seed, long opsPerRun, double growthShare, int doublingsPerFile,
                           int keyWidth, int valueWidth, boolean variable, Consumer<Path> afterKill) {
        public Settings {
            int maxKey = variable ? Options.MAX_VARIABLE_LENGTH : Options.MAX_KEY_WIDTH;
            int maxValue = variable ? Options.MAX_VARIABLE_LENGTH : Options.MAX_VALUE_WIDTH;
            if (kills < 1 || opsPerRun < 1 || growthShare < 0 || growthShare > 1 || doublingsPerFile < 1
                    || keyWidth < Workload.MIN_KEY_WIDTH || keyWidth > maxKey
                    || valueWidth < 0 || valueWidth > maxValue) {
                throw new IllegalArgumentException("invalid torture settings: " + this);
            }
        }

        /** The defaults of {@code hashidx torture}, for {@code kills} kills on {@code file}. */
        public static Settings defaults(Path file, int kills, long seed) {
            return new Settings(file, kills, seed, DEFAULT_OPS_PER_RUN, DEFAULT_GROWTH_SHARE, DEFAULT_DOUBLINGS_PER_FILE,
                    DEFAULT_KEY_WIDTH, DEFAULT_VALUE_WIDTH, false, path -> { });
        }

        /** The same settings with {@code afterKill} called after each kill. */
        public Settings withAfterKill(Consumer<Path> hook) {
            return new Settings(file, kills, seed, opsPerRun, growthShare, doublingsPerFile, keyWidth, valueWidth, variable,
                    hook);
        }

        /** The same settings on variable-length files, with keys up to {@code maxKey} and values up to {@code maxValue} bytes. */
        public Settings withVariableLengths(int maxKey, int maxValue) {
            return new Settings(file, kills, seed, opsPerRun, growthShare, doublingsPerFile, maxKey, maxValue, true,
                    afterKill);
        }
    }

    /** Called after every kill and its check, with the figures so far (the command shows progress). */
    public interface Listener {
        void afterKill(Result soFar);
    }

    /**
     * The figures of a campaign, or of its part so far.
     *
     * @param kills                kills done and checked
     * @param aimedAtGrowthStart   kills planned right after a growth starts
     * @param aimedMidEvacuation   kills planned during an evacuation
     * @param landedAtGrowthStart  kills that landed in the first three operations of a growth
     * @param landedMidEvacuation  kills that landed later in a growth
     * @param landedElsewhere      kills that landed while no growth was under way
     * @param acknowledged         operations the children acknowledged, every one checked after the next kill
     * @param keyChecks            keys looked up in checks
     * @param inFlightApplied      kills after which the operation in flight had taken effect
     * @param inFlightNotApplied   kills after which it had not
     * @param tornHeaderCopies     kills that left a header copy half-written (the other copy is used)
     * @param files                files used (a fresh one after {@code doublingsPerFile} doublings)
     * @param doublings            doublings in all files
     * @param maxDoublings         the most doublings one file reached
     * @param sameSizeGrowths      same-size growths in all files
     * @param leakedCells          cells leaked by kills in the current file
     * @param losses               acknowledged operations not found as acknowledged
     * @param invariantFailures    other problems: verify, size, iteration, leaks, a child that died by itself
     * @param failures             the first messages of losses and failures
     * @param seconds              wall-clock time
     */
    public record Result(Settings settings, int kills, long aimedAtGrowthStart, long aimedMidEvacuation,
                         long landedAtGrowthStart, long landedMidEvacuation, long landedElsewhere,
                         long acknowledged, long keyChecks, long inFlightApplied, long inFlightNotApplied,
                         long tornHeaderCopies, int files, long doublings, long maxDoublings, long sameSizeGrowths,
                         long leakedCells, long losses, long invariantFailures, List<String> failures, double seconds) {
        public boolean ok() {
            return losses == 0 && invariantFailures == 0;
        }

        public long aimedAtRandom() {
            return kills - aimedAtGrowthStart - aimedMidEvacuation;
        }
    }

    private enum Aim { RANDOM, GROWTH_START, MID_EVACUATION }

    private final Settings s;
    private final Workload workload;
    private final SplittableRandom rnd;
    private final Path childStderr;
    private final String javaCommand;
    private final String classPath;
    private Model model;
    private boolean freshFileNeeded = true;
    private long killsOnFile;
    /** Buckets of the current array as last known: from the last check, updated by the growths children report. */
    private long knownBuckets;
    private boolean growingAtLastCheck;
    private long doublingsOfEarlierFiles;
    private long sameSizeOfEarlierFiles;
    private long fileDoublings;
    private long fileSameSize;

    private int kills;
    private long aimedAtGrowthStart;
    private long aimedMidEvacuation;
    private long landedAtGrowthStart;
    private long landedMidEvacuation;
    private long landedElsewhere;
    private long acknowledged;
    private long keyChecks;
    private long inFlightApplied;
    private long inFlightNotApplied;
    private long tornHeaderCopies;
    private int files;
    private long maxDoublings;
    private long leakedCells;
    private long losses;
    private long invariantFailures;
    private final List<String> failures = new ArrayList<>();
    private long started;

    private Campaign(Settings settings) {
        this.s = settings;
        this.workload = new Workload(settings.keyWidth(), settings.valueWidth(), settings.variable());
        this.rnd = new SplittableRandom(settings.seed());
        this.childStderr = childStderr(settings.file());
        this.javaCommand = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        this.classPath = childClassPath();
    }

    /** Runs the campaign; stops at the first kill whose check fails (the file is then left as it is). */
    public static Result run(Settings settings, Listener listener) {
        if (Files.exists(settings.file())) {
            throw new IllegalArgumentException(settings.file() + " exists; a campaign creates its own file");
        }
        return new Campaign(settings).runAll(listener);
    }

    /** The file that holds the children's stderr, next to the torture file. */
    public static Path childStderr(Path file) {
        return file.resolveSibling(file.getFileName() + ".child-stderr.txt");
    }

    private Result runAll(Listener listener) {
        started = System.nanoTime();
        try {
            while (kills < s.kills() && failures.isEmpty()) {
                if (freshFileNeeded) {
                    freshFile();
                }
                if (runAndKill()) {
                    s.afterKill().accept(s.file());
                    check();
                }
                kills++;
                listener.afterKill(result());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
        return result();
    }

    private Result result() {
        return new Result(s, kills, aimedAtGrowthStart, aimedMidEvacuation, landedAtGrowthStart, landedMidEvacuation,
                landedElsewhere, acknowledged, keyChecks, inFlightApplied, inFlightNotApplied, tornHeaderCopies, files,
                doublingsOfEarlierFiles + fileDoublings, maxDoublings, sameSizeOfEarlierFiles + fileSameSize, leakedCells,
                losses, invariantFailures, List.copyOf(failures), (System.nanoTime() - started) / 1e9);
    }

    private void freshFile() throws IOException {
        Files.deleteIfExists(s.file());
        Options options = s.variable() ? Options.variableLengths() : Options.widths(s.keyWidth(), s.valueWidth());
        HashIndex.create(s.file(), options.seed(rnd.nextLong())).close();
        model = new Model(workload);
        files++;
        killsOnFile = 0;
        knownBuckets = 1;
        growingAtLastCheck = false;
        doublingsOfEarlierFiles += fileDoublings;
        sameSizeOfEarlierFiles += fileSameSize;
        fileDoublings = 0;
        fileSameSize = 0;
        freshFileNeeded = false;
    }

    /** One child's run: what it was told to aim at and what the parent saw of it. */
    private final class Run {
        final Aim aim;
        final long killAfterAcks;
        final double evacuatedFraction;
        boolean opened;
        boolean killed;
        long acks;
        GrowthState growth = GrowthState.NONE;
        /** The acknowledgement count at which the growth under way was first seen starting; -1 if not seen. */
        long growthSeenAtAck = -1;
        /** Whether the operation in flight is the insert that starts a growth (by the load factor). */
        boolean pendingStartsGrowth;

        Run(Aim aim, long killAfterAcks, double evacuatedFraction) {
            this.aim = aim;
            this.killAfterAcks = killAfterAcks;
            this.evacuatedFraction = evacuatedFraction;
        }
    }

    /** Starts a child, kills it as planned, reads every line it wrote; false if the run itself failed. */
    private boolean runAndKill() throws IOException, InterruptedException {
        double r = rnd.nextDouble();
        Aim aim = r < s.growthShare() / 2 ? Aim.GROWTH_START : r < s.growthShare() ? Aim.MID_EVACUATION : Aim.RANDOM;
        Run run = new Run(aim, aim == Aim.RANDOM ? 1 + rnd.nextLong(s.opsPerRun()) : AIM_GIVE_UP_ACKS,
                0.05 + 0.9 * rnd.nextDouble());
        if (aim == Aim.GROWTH_START) {
            aimedAtGrowthStart++;
        } else if (aim == Aim.MID_EVACUATION) {
            aimedMidEvacuation++;
        }
        Process child = start(rnd.nextLong());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (!read(run, line)) {
                    fail("kill " + (kills + 1) + ": unexpected line from the child: " + line);
                    break;
                }
                if (!run.killed && killNow(run)) {
                    // SIGKILL on Linux; unlike Process.destroyForcibly it leaves the pipe open to read the rest
                    child.toHandle().destroyForcibly();
                    run.killed = true;
                }
            }
        } finally {
            child.destroyForcibly();
            if (!child.waitFor(60, TimeUnit.SECONDS)) {
                fail("kill " + (kills + 1) + ": the child did not die within 60 seconds");
            }
        }
        if (!failures.isEmpty()) {
            return false;
        }
        if (!run.killed) {
            fail("kill " + (kills + 1) + ": the child exited by itself with status " + child.exitValue()
                    + " before it was killed; its stderr: " + tail(childStderr));
            return false;
        }
        land(run);
        return true;
    }

    /** Applies one line of the child's output; false when it is not part of the protocol. */
    private boolean read(Run run, String line) {
        String[] f = line.split(" ");
        try {
            switch (f[0]) {
                case "O" -> {
                    run.opened = true;
                    run.growth = GrowthState.parse(f[1]);
                    knownBuckets = run.growth.growing() ? run.growth.newBuckets() : knownBuckets;
                }
                case "?" -> {
                    boolean put = f[1].equals("P");
                    long id = Long.parseLong(f[2]);
                    run.pendingStartsGrowth = put && id >= model.nextId() && !run.growth.growing()
                            && 2 * (model.size() + 1) > 13 * knownBuckets;
                    model.announce(new Model.Op(put, id, put ? Long.parseLong(f[3]) : -1));
                }
                case "P", "R", "N" -> {
                    boolean put = f[0].equals("P");
                    boolean known = f[0].equals("N") ? model.acknowledgeUnchanged(Long.parseLong(f[1]))
                            : model.acknowledge(new Model.Op(put, Long.parseLong(f[1]), put ? Long.parseLong(f[2]) : -1));
                    if (!known) {
                        return false;
                    }
                    acknowledged++;
                    run.acks++;
                    GrowthState now = GrowthState.parse(f[put ? 3 : 2]);
                    if (now.startedSince(run.growth)) {
                        run.growthSeenAtAck = run.acks;
                    } else if (!now.growing()) {
                        run.growthSeenAtAck = -1;
                    }
                    if (now.growing()) {
                        knownBuckets = now.newBuckets();
                    } else if (run.pendingStartsGrowth) {
                        knownBuckets *= 2; // a growth so small that it finished in the insert that started it
                    }
                    run.pendingStartsGrowth = false;
                    run.growth = now;
                }
                default -> {
                    return false;
                }
            }
        } catch (RuntimeException e) {
            return false;
        }
        return true;
    }

    private boolean killNow(Run run) {
        if (!run.opened) {
            return false;
        }
        if (run.acks >= run.killAfterAcks) {
            return true;
        }
        GrowthState g = run.growth;
        return switch (run.aim) {
            case RANDOM -> false;
            case GROWTH_START -> (run.pendingStartsGrowth && knownBuckets >= MIN_AIMED_OLD_BUCKETS)
                    || (g.growing() && g.oldBuckets() >= MIN_AIMED_OLD_BUCKETS && run.growthSeenAtAck == run.acks);
            case MID_EVACUATION -> g.growing() && g.oldBuckets() >= MIN_AIMED_OLD_BUCKETS
                    && g.evacuated() >= run.evacuatedFraction * g.oldBuckets();
        };
    }

    /** Judges where the kill landed from the last lines the child wrote. */
    private void land(Run run) {
        if (!run.opened) {
            // killed while starting or opening the file: it was as the last check left it
            if (growingAtLastCheck) {
                landedMidEvacuation++;
            } else {
                landedElsewhere++;
            }
        } else if (model.pending() != null && run.pendingStartsGrowth) {
            landedAtGrowthStart++;
        } else if (run.growth.growing()) {
            if (run.growthSeenAtAck >= 0 && run.acks - run.growthSeenAtAck < GROWTH_START_OPS - 1) {
                landedAtGrowthStart++;
            } else {
                landedMidEvacuation++;
            }
        } else {
            landedElsewhere++;
        }
    }

    /** Reopens the file read-only as the kill left it and checks it against the model. */
    private void check() {
        killsOnFile++;
        Model.Check c;
        try {
            try (HashIndex idx = HashIndex.openReadOnly(s.file())) {
                c = model.check(idx, rnd.nextLong(), 2 * killsOnFile);
            }
            model.checkSalvage(s.file(), c);
        } catch (HashIndexException e) {
            fail("kill " + (kills + 1) + ": reopening or reading the file failed: " + e.getMessage());
            return;
        }
        keyChecks += c.keyChecks;
        if (c.inFlightApplied == 1) {
            inFlightApplied++;
        } else if (c.inFlightApplied == 0) {
            inFlightNotApplied++;
        }
        if (c.tornHeaderCopy) {
            tornHeaderCopies++;
        }
        losses += c.lossCount;
        invariantFailures += c.invariantFailureCount;
        for (String m : c.losses) {
            failures.add("kill " + (kills + 1) + ": LOST " + m);
        }
        for (String m : c.invariantFailures) {
            failures.add("kill " + (kills + 1) + ": " + m);
        }
        if (c.lossCount > c.losses.size() || c.invariantFailureCount > c.invariantFailures.size()) {
            failures.add("kill " + (kills + 1) + ": ... and " + (c.lossCount + c.invariantFailureCount
                    - c.losses.size() - c.invariantFailures.size()) + " more");
        }
        leakedCells = c.leakedCells;
        fileDoublings = c.inspection.doublings();
        fileSameSize = c.inspection.sameSizeGrowths();
        maxDoublings = Math.max(maxDoublings, fileDoublings);
        growingAtLastCheck = c.inspection.growth().growing();
        knownBuckets = c.inspection.buckets();
        freshFileNeeded = fileDoublings >= s.doublingsPerFile() && !growingAtLastCheck;
    }

    private void fail(String message) {
        invariantFailures++;
        failures.add(message);
    }

    private Process start(long childSeed) throws IOException {
        List<String> command = List.of(javaCommand, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-XX:-UsePerfData", "-cp", classPath, TortureChild.class.getName(), s.file().toString(),
                Long.toString(childSeed), Long.toString(model.nextId()), Long.toString(model.nextOp()),
                Integer.toString(s.keyWidth()), Integer.toString(s.valueWidth()), s.variable() ? "variable" : "fixed");
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(childStderr.toFile())).start();
    }

    /** The child needs the store and this package: the jars or class directories they were loaded from. */
    private static String childClassPath() {
        Set<String> entries = new LinkedHashSet<>();
        for (Class<?> c : List.of(TortureChild.class, HashIndex.class)) {
            try {
                entries.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            } catch (URISyntaxException | RuntimeException e) {
                throw new IllegalStateException("cannot find where " + c.getName() + " was loaded from: " + e, e);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static String tail(Path file) {
        try {
            String text = Files.exists(file) ? Files.readString(file) : "";
            return text.isBlank() ? "(empty)" : text.substring(Math.max(0, text.length() - 2000)).strip();
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
