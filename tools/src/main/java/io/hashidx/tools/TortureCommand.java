package io.hashidx.tools;

import io.hashidx.store.HashIndex;

import io.hashidx.tools.torture.Campaign;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx torture}: a kill -9 campaign that checks every acknowledged operation after every kill. */
@Command(name = "torture", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Kills a child JVM running a random workload with SIGKILL, again and again, and checks after every "
                    + "kill that nothing acknowledged was lost.",
            "",
            "A child process opens the file, runs seeded random puts of new keys, overwrites and removes (half of them as "
                    + "putIfAbsent, replace or remove(key, value)), and "
                    + "acknowledges every operation that returned. The parent kills it (kill -9), reopens the file "
                    + "read-only exactly as the kill left it and checks that every key ever used has its last "
                    + "acknowledged value (removed keys stay removed), that the operation in flight is either done "
                    + "or not, that size() is exact, that an iteration returns each entry once, and that verify "
                    + "finds nothing but the cells a kill may leak (at most 2 per kill), and that 'hashidx recover' "
                    + "would salvage exactly the live entries. The next child recovers the file and carries on, also "
                    + "in the middle of a growth.",
            "",
            "A --growth-share of the kills is aimed at growth: half right after a growth starts, half at a "
                    + "random point of its evacuation (each acknowledgement carries the growth state); the others "
                    + "come after 1..--ops-per-run acknowledged operations. The summary says where the kills "
                    + "landed. A file starts with one bucket; once it has doubled --doublings-per-file times, a "
                    + "fresh one replaces it, so growths keep coming.",
            "",
            "Progress goes to stderr, the summary to stdout. On a loss or a failed check the campaign stops, "
                    + "prints the seed and the command that reruns it, and keeps the file as the kill left it. "
                    + "Kill instants depend on timing: a rerun repeats the workloads and the plan of kills, not "
                    + "the instants.",
            "",
            "FILE must not exist. Without FILE the file is torture.hidx in --dir (created when missing), or "
                    + "in a new temporary directory. After a campaign without failure the file and the children's "
                    + "stderr (FILE.child-stderr.txt) are deleted, unless --keep.",
            "",
            "Examples:",
            "  hashidx torture --kills 2000",
            "  hashidx torture --dir /tmp/t --kills 200 --seed 42 --growth-share 0.5 --json",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every kill survived: nothing acknowledged was lost and every check passed",
            "1:a loss or a failed check (the output names the kill, the key, the seed and the kept file)",
            "2:error: usage, or a hashidx error (the message starts with its code, e.g. HIDX-004)"})
final class TortureCommand extends ToolCommand {
    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "the file to torture; must not exist")
    Path file;

    @Option(names = "--dir", paramLabel = "D", description = "put the file (torture.hidx) in D instead")
    Path dir;

    @Option(names = "--kills", paramLabel = "N", required = true, description = "how many times to kill a child")
    int kills;

    @Option(names = "--seed", paramLabel = "S", description = "seeds the workloads, the kill plan and the file seeds "
            + "(default: random, printed)")
    Long seed;

    @Option(names = "--ops-per-run", paramLabel = "N", defaultValue = "" + Campaign.DEFAULT_OPS_PER_RUN,
            description = "a kill not aimed at growth comes after 1..N acknowledged operations (default: ${DEFAULT-VALUE})")
    long opsPerRun;

    @Option(names = "--growth-share", paramLabel = "F", defaultValue = "" + Campaign.DEFAULT_GROWTH_SHARE,
            description = "share of the kills aimed at growth, 0..1 (default: ${DEFAULT-VALUE})")
    double growthShare;

    @Option(names = "--doublings-per-file", paramLabel = "D", defaultValue = "" + Campaign.DEFAULT_DOUBLINGS_PER_FILE,
            description = "replace the file by a fresh one once it has doubled D times (default: ${DEFAULT-VALUE}, "
                    + "1 to 4,096 buckets, about 26,600 entries)")
    int doublingsPerFile;

    @Option(names = "--key-size", paramLabel = "K", defaultValue = "" + Campaign.DEFAULT_KEY_WIDTH,
            description = "key width of the files, at least 8 (default: ${DEFAULT-VALUE}); with --variable, the "
                    + "longest key (keys are 8..K bytes)")
    int keySize;

    @Option(names = "--value-size", paramLabel = "V", defaultValue = "" + Campaign.DEFAULT_VALUE_WIDTH,
            description = "value width of the files; values are 0..V bytes (default: ${DEFAULT-VALUE}); with "
                    + "--variable, the longest value")
    int valueSize;

    @Option(names = "--variable", description = "torture variable-length files: keys and values longer than the "
            + "16 inline bytes live in records (e.g. --variable --key-size 40 --value-size 1200)")
    boolean variable;

    @Option(names = "--keep", description = "keep the file after a campaign without failure")
    boolean keep;

    @Option(names = "--json", description = "print the summary as one JSON object with snake_case keys")
    boolean json;

    @Override
    public Integer call() throws IOException {
        checkOptions();
        long campaignSeed = seed != null ? seed : new SecureRandom().nextLong();
        Path tempDir = null;
        Path target = file;
        if (target == null) {
            Path d = dir;
            if (d == null) {
                tempDir = Files.createTempDirectory("hashidx-torture");
                d = tempDir;
            }
            Files.createDirectories(d);
            target = d.resolve("torture.hidx");
        }
        if (Files.exists(target)) {
            throw usageError("FILE " + target + " exists; torture creates its own file (delete it, or choose another name)");
        }
        Campaign.Settings settings = new Campaign.Settings(target, kills, campaignSeed, opsPerRun, growthShare,
                doublingsPerFile, keySize, valueSize, variable, path -> { });
        err().println("hashidx torture: " + kills + " kills on " + target + ", seed " + campaignSeed);
        err().flush();
        Progress progress = new Progress(err(), Boolean.getBoolean("hashidx.stderr.tty"), System::nanoTime);
        Campaign.Result result = Campaign.run(settings,
                soFar -> progress.update("torture", soFar.kills(), "kills", (double) soFar.kills() / kills, detail(soFar)));
        progress.finish();
        boolean kept = keep || !result.ok();
        if (!kept) {
            Files.deleteIfExists(HashIndex.readerTable(target)); // before the file: it is named after the file's real path
            Files.deleteIfExists(target);
            Files.deleteIfExists(Campaign.childStderr(target));
            if (tempDir != null) {
                Files.deleteIfExists(tempDir);
            }
        }
        print(out(), result, kept, json);
        return result.ok() ? 0 : Main.NOT_FOUND_OR_PROBLEMS;
    }

    private void checkOptions() {
        if (file != null && dir != null) {
            throw usageError("give FILE or --dir, not both");
        }
        if (kills < 1 || opsPerRun < 1 || doublingsPerFile < 1) {
            throw usageError("--kills, --ops-per-run and --doublings-per-file must be at least 1");
        }
        if (!(growthShare >= 0 && growthShare <= 1)) {
            throw usageError("--growth-share must be between 0 and 1, not " + growthShare);
        }
        if (keySize < 8 || valueSize < 0) {
            throw usageError("--key-size must be at least 8 (a key starts with its 8-byte id) and --value-size at least 0");
        }
    }

    private static String detail(Campaign.Result r) {
        return Figures.count(r.acknowledged()) + " ops, " + r.doublings() + " doublings, growth kills "
                + (r.landedAtGrowthStart() + r.landedMidEvacuation()) + ", losses " + r.losses()
                + (r.invariantFailures() > 0 ? ", FAILED checks " + r.invariantFailures() : "");
    }

    /** Prints the summary of a campaign: text, or one JSON object. */
    static void print(PrintWriter out, Campaign.Result result, boolean kept, boolean json) {
        if (json) {
            out.println(Json.write(json(result, kept)));
        } else {
            text(out, result, kept);
        }
    }

    /** The command that repeats this campaign's workloads and plan of kills. */
    private static String rerun(Campaign.Result r) {
        Campaign.Settings s = r.settings();
        return "hashidx torture --kills " + s.kills() + " --seed " + s.seed() + " --ops-per-run " + s.opsPerRun()
                + " --growth-share " + s.growthShare() + " --doublings-per-file " + s.doublingsPerFile()
                + " --key-size " + s.keyWidth() + " --value-size " + s.valueWidth() + (s.variable() ? " --variable" : "");
    }

    private static Map<String, Object> json(Campaign.Result r, boolean kept) {
        Campaign.Settings s = r.settings();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", s.file().toString());
        o.put("seed", s.seed());
        o.put("ops_per_run", s.opsPerRun());
        o.put("growth_share", s.growthShare());
        o.put("doublings_per_file", s.doublingsPerFile());
        o.put("key_size", s.keyWidth());
        o.put("value_size", s.valueWidth());
        o.put("variable_lengths", s.variable());
        o.put("kills", r.kills());
        o.put("aimed_at_growth_start", r.aimedAtGrowthStart());
        o.put("aimed_mid_evacuation", r.aimedMidEvacuation());
        o.put("aimed_at_random", r.aimedAtRandom());
        o.put("landed_at_growth_start", r.landedAtGrowthStart());
        o.put("landed_mid_evacuation", r.landedMidEvacuation());
        o.put("landed_elsewhere", r.landedElsewhere());
        o.put("acknowledged_ops", r.acknowledged());
        o.put("key_checks", r.keyChecks());
        o.put("in_flight_applied", r.inFlightApplied());
        o.put("in_flight_not_applied", r.inFlightNotApplied());
        o.put("torn_header_copies", r.tornHeaderCopies());
        o.put("files", r.files());
        o.put("doublings", r.doublings());
        o.put("max_doublings_per_file", r.maxDoublings());
        o.put("same_size_growths", r.sameSizeGrowths());
        o.put("leaked_cells", r.leakedCells());
        o.put("losses", r.losses());
        o.put("failed_checks", r.invariantFailures());
        o.put("seconds", Math.round(r.seconds() * 10) / 10.0);
        o.put("ok", r.ok());
        o.put("failures", r.failures());
        o.put("kept_file", kept ? s.file().toString() : null);
        o.put("rerun", rerun(r));
        return o;
    }

    private static void text(PrintWriter out, Campaign.Result r, boolean kept) {
        Campaign.Settings s = r.settings();
        out.println("torture campaign on " + s.file() + ", seed " + s.seed());
        line(out, "kills", Figures.count(r.kills()));
        line(out, "  aimed", Figures.count(r.aimedAtGrowthStart()) + " right after a growth starts, "
                + Figures.count(r.aimedMidEvacuation()) + " mid-evacuation, " + Figures.count(r.aimedAtRandom())
                + " at random moments");
        line(out, "  landed", Figures.count(r.landedAtGrowthStart()) + " right after a growth start, "
                + Figures.count(r.landedMidEvacuation()) + " mid-evacuation, " + Figures.count(r.landedElsewhere())
                + " elsewhere");
        line(out, "acknowledged ops", Figures.count(r.acknowledged()) + " (each checked after the next kill)");
        line(out, "key checks", Figures.count(r.keyChecks()));
        line(out, "in flight at a kill", Figures.count(r.inFlightApplied()) + " applied, "
                + Figures.count(r.inFlightNotApplied()) + " not applied");
        line(out, "torn header copies", Figures.count(r.tornHeaderCopies()));
        line(out, "files", Figures.count(r.files()) + " (a fresh one after " + s.doublingsPerFile() + " doublings)");
        line(out, "doublings", Figures.count(r.doublings()) + " (up to " + r.maxDoublings() + " in one file)");
        line(out, "same-size growths", Figures.count(r.sameSizeGrowths()));
        line(out, "leaked cells", Figures.count(r.leakedCells()) + " in the last file (at most 2 per kill allowed)");
        line(out, "losses", Figures.count(r.losses()));
        line(out, "failed checks", Figures.count(r.invariantFailures()));
        line(out, "seconds", Figures.decimal(r.seconds(), 1));
        if (r.ok()) {
            out.println("ok: every acknowledged operation survived " + Figures.count(r.kills()) + " kills");
            if (kept) {
                out.println("file kept: " + s.file());
            }
            return;
        }
        out.println("FAILED at kill " + r.kills() + " (seed " + s.seed() + "):");
        r.failures().forEach(f -> out.println("  " + f));
        out.println("file kept as the kill left it: " + s.file() + " (the children's stderr: "
                + Campaign.childStderr(s.file()) + ")");
        out.println("rerun: " + rerun(r));
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-22s%s%n", label, value);
    }
}
