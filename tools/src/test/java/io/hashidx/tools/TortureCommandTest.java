package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import io.hashidx.tools.torture.Campaign;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hashidx torture}: the CI kill -9 campaign (SIGKILL of a real child JVM, {@code -Dhashidx.kills=N},
 * {@code -Dhashidx.test.seed=S} for other campaigns), its output, and proof that a loss is caught.
 */
class TortureCommandTest {
    private static final int KILLS = Integer.getInteger("hashidx.kills", 200);
    private static final long SEED = Long.getLong("hashidx.test.seed", System.nanoTime());

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedOperationSurvivesTwoHundredKillsAndAFifthOrMoreLandInAGrowth() {
        System.out.println("TortureCommandTest seed " + SEED + ", " + KILLS + " kills (-Dhashidx.test.seed=" + SEED
                + " -Dhashidx.kills=" + KILLS + ")");

        Cli result = Cli.run("torture", "--dir", dir.toString(), "--kills", String.valueOf(KILLS),
                "--seed", String.valueOf(SEED), "--json");

        System.out.println(result.out());
        assertThat(result.exitCode()).as("seed %d: %s", SEED, result).isZero();
        Map<String, Object> summary = result.json();
        assertThat(summary).as("seed %d", SEED).containsEntry("kills", (long) KILLS).containsEntry("losses", 0L)
                .containsEntry("failed_checks", 0L).containsEntry("ok", true).containsEntry("kept_file", null)
                .containsEntry("seed", SEED);
        long atStart = (long) summary.get("landed_at_growth_start");
        long mid = (long) summary.get("landed_mid_evacuation");
        long elsewhere = (long) summary.get("landed_elsewhere");
        assertThat(atStart + mid + elsewhere).isEqualTo(KILLS);
        assertThat(atStart + mid).as("seed %d: kills that landed in a growth (a third are aimed)", SEED)
                .isGreaterThanOrEqualTo(KILLS / 5);
        assertThat(atStart).as("seed %d: right after a growth starts", SEED).isGreaterThanOrEqualTo(KILLS / 20);
        assertThat(mid).as("seed %d: mid-evacuation", SEED).isGreaterThanOrEqualTo(KILLS / 20);
        assertThat((long) summary.get("acknowledged_ops")).isGreaterThan(100L * KILLS);
        assertThat((long) summary.get("max_doublings_per_file")).as("seed %d: doublings one file went through", SEED)
                .isGreaterThanOrEqualTo(Math.min(10, KILLS / 10));
        assertThat(dir).as("the file is deleted after a campaign without failure").isEmptyDirectory();
    }

    /**
     * The same campaign on variable-length files: keys of 8..40 bytes and values of 0..1200 bytes, half
     * of them near the 16-byte inline widths and many in records of one to four cells, so kills land while
     * records are taken, published, replaced and freed.
     */
    @Test
    void variableLengthFilesLoseNothingAcknowledgedAndLeakNoRecordCellAcrossKills() {
        int kills = Math.max(20, KILLS / 3);
        Cli result = Cli.run("torture", "--dir", dir.toString(), "--kills", String.valueOf(kills),
                "--seed", String.valueOf(SEED), "--variable", "--key-size", "40", "--value-size", "1200", "--json");

        System.out.println(result.out());
        assertThat(result.exitCode()).as("seed %d: %s", SEED, result).isZero();
        Map<String, Object> summary = result.json();
        assertThat(summary).as("seed %d", SEED).containsEntry("kills", (long) kills).containsEntry("losses", 0L)
                .containsEntry("failed_checks", 0L).containsEntry("ok", true).containsEntry("variable_lengths", true);
        assertThat((String) summary.get("rerun")).endsWith("--key-size 40 --value-size 1200 --variable");
        assertThat((long) summary.get("landed_at_growth_start") + (long) summary.get("landed_mid_evacuation"))
                .as("seed %d: kills that landed in a growth", SEED).isGreaterThanOrEqualTo(kills / 5);
    }

    @Test
    void aLossIsReportedWithTheSeedTheRerunCommandAndTheFileKeptAsTheKillLeftIt() {
        Path file = dir.resolve("sabotaged.hidx");
        // between the kill and the check, an acknowledged entry gets another value: the check must see it
        Campaign.Settings settings = Campaign.Settings.defaults(file, 3, 77).withAfterKill(path -> {
            try (HashIndex idx = HashIndex.open(path)) {
                Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator();
                Map.Entry<byte[], byte[]> e = it.next();
                idx.put(e.getKey(), e.getValue().length == 0 ? new byte[] {1} : new byte[0]);
            }
        });

        Campaign.Result result = Campaign.run(settings, soFar -> { });

        assertThat(result.ok()).isFalse();
        assertThat(result.kills()).as("the campaign stops at the first failed check").isEqualTo(1);
        assertThat(result.losses()).isGreaterThanOrEqualTo(1);
        assertThat(result.failures()).anySatisfy(f -> assertThat(f).startsWith("kill 1: LOST key ")
                .contains("but get returns"));
        assertThat(file).exists();
        StringWriter text = new StringWriter();
        TortureCommand.print(new PrintWriter(text, true), result, true, false);
        assertThat(text.toString()).startsWith("torture campaign on " + file + ", seed 77\n")
                .contains("FAILED at kill 1 (seed 77):\n  kill 1: LOST key ",
                        "file kept as the kill left it: " + file + " (the children's stderr: "
                                + Campaign.childStderr(file) + ")\n",
                        "rerun: hashidx torture --kills 3 --seed 77 --ops-per-run 3000 --growth-share "
                                + Campaign.DEFAULT_GROWTH_SHARE + " --doublings-per-file 12 --key-size 8 --value-size 16\n");
        StringWriter json = new StringWriter();
        TortureCommand.print(new PrintWriter(json, true), result, true, true);
        assertThat(MiniJson.object(json.toString())).containsEntry("ok", false).containsEntry("kept_file", file.toString())
                .containsEntry("seed", 77L).containsEntry("kills", 1L);
    }

    @Test
    void aShortCampaignPrintsItsSummaryAndProgressAndKeepsTheFileWithKeep() {
        Path file = dir.resolve("kept.hidx");

        Cli result = Cli.run("torture", file.toString(), "--kills", "3", "--seed", "5", "--keep", "--growth-share", "0");

        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.err()).startsWith("hashidx torture: 3 kills on " + file + ", seed 5\n");
        assertThat(result.out()).startsWith("torture campaign on " + file + ", seed 5\nkills                 3\n"
                        + "  aimed               0 right after a growth starts, 0 mid-evacuation, 3 at random moments\n")
                .contains("\nlosses                0\nfailed checks         0\n")
                .endsWith("ok: every acknowledged operation survived 3 kills\nfile kept: " + file + "\n");
        try (HashIndex idx = HashIndex.openReadOnly(file)) {
            assertThat(idx.verify()).isEmpty();
        }
    }

    @Test
    void badOptionsAreUsageErrors() throws IOException {
        Path existing = Files.writeString(dir.resolve("existing.hidx"), "x");
        String[][] lines = {
            {"torture", existing.toString(), "--kills", "1"},
            {"torture", "a.hidx", "--dir", dir.toString(), "--kills", "1"},
            {"torture", "--kills", "0"},
            {"torture", "--kills", "1", "--growth-share", "1.5"},
            {"torture", "--kills", "1", "--key-size", "4"},
            {"torture"}};
        String[] messages = {"exists; torture creates its own file", "give FILE or --dir, not both", "at least 1",
            "--growth-share must be between 0 and 1", "--key-size must be at least 8", "Missing required option: '--kills=N'"};
        for (int i = 0; i < lines.length; i++) {
            Cli result = Cli.run(lines[i]);
            assertThat(result.exitCode()).as(result.toString()).isEqualTo(2);
            assertThat(result.err()).as(String.join(" ", lines[i])).contains(messages[i]).hasLineCount(1);
        }
    }

    @Test
    void helpGivesAnExampleAndTheExitCodes() {
        Cli help = Cli.run("torture", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).startsWith("Usage: hashidx torture").contains("--kills=N", "--seed=S", "--ops-per-run=N",
                "--growth-share=F", "--doublings-per-file=D", "--json", "hashidx torture --kills 2000", "Exit codes:",
                "  0   every kill survived", "  1   a loss or a failed check", "  2   error: usage");
    }
}
