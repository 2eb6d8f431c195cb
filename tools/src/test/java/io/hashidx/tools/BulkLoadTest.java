package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hashidx load} into a new file, which goes through the bulk builder. */
class BulkLoadTest {
    @TempDir
    Path dir;

    private Path gen(String name, String... options) {
        Path out = dir.resolve(name);
        String[] args = Stream.concat(Stream.of("gen", out.toString()), Stream.of(options)).toArray(String[]::new);
        assertThat(Cli.run(args).exitCode()).isZero();
        return out;
    }

    private List<String> sortedDump(Path file) {
        Cli dump = Cli.run("dump", file.toString());
        assertThat(dump.exitCode()).as(dump.toString()).isZero();
        return dump.out().lines().sorted().toList();
    }

    private List<String> temporaryFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.contains(".bulk-")).toList();
        }
    }

    @Test
    void aNewFileHoldsWhatPutsIntoAPresizedFileHoldAndCountsDuplicatesAsReplaced() throws IOException {
        Path input = gen("in.tsv", "--count", "30000", "--keys", "zipf", "--seed", "5", "--value-size", "24");
        Path bulk = dir.resolve("bulk.hidx");
        Path puts = dir.resolve("puts.hidx");
        assertThat(Cli.run("create", puts.toString(), "--key-size", "16", "--value-size", "24",
                "--expected", "30000").exitCode()).isZero();

        Cli bulkLoad = Cli.run("load", "--json", "--memory", "164m", "--fit-widths", bulk.toString(), input.toString());
        Cli putLoad = Cli.run("load", "--json", puts.toString(), input.toString());

        assertThat(bulkLoad.exitCode()).as(bulkLoad.toString()).isZero();
        assertThat(putLoad.exitCode()).as(putLoad.toString()).isZero();
        Map<String, Object> b = bulkLoad.json();
        Map<String, Object> p = putLoad.json();
        assertThat(b).containsEntry("created", true).containsEntry("doublings", 0L);
        for (String key : List.of("entries_read", "inserted", "replaced", "rejected", "entries", "buckets",
                "key_size", "value_size", "file_bytes")) {
            assertThat(b.get(key)).as(key).isEqualTo(p.get(key));
        }
        assertThat((Long) b.get("replaced")).as("zipf keys repeat").isPositive();
        assertThat(sortedDump(bulk)).isEqualTo(sortedDump(puts));
        assertThat(Cli.run("verify", bulk.toString()).out()).isEqualTo("ok\n");
        assertThat(temporaryFiles()).isEmpty();
    }

    /**
     * Without widths a new FILE has variable lengths (values of 24 bytes go out of line): it holds what
     * puts into a presized variable-length file hold, with the same bucket count, and verifies.
     */
    @Test
    void aNewFileWithoutWidthsIsAVariableLengthFileThatHoldsWhatPutsHold() throws IOException {
        Path input = gen("in.tsv", "--count", "30000", "--keys", "zipf", "--seed", "5", "--value-size", "24");
        Path bulk = dir.resolve("bulk.hidx");
        Path puts = dir.resolve("puts.hidx");
        assertThat(Cli.run("create", puts.toString(), "--expected", "30000").exitCode()).isZero();

        Cli bulkLoad = Cli.run("load", "--json", "--memory", "164m", bulk.toString(), input.toString());
        Cli putLoad = Cli.run("load", "--json", puts.toString(), input.toString());

        assertThat(bulkLoad.exitCode()).as(bulkLoad.toString()).isZero();
        assertThat(putLoad.exitCode()).as(putLoad.toString()).isZero();
        Map<String, Object> b = bulkLoad.json();
        Map<String, Object> p = putLoad.json();
        assertThat(b).containsEntry("created", true).containsEntry("doublings", 0L).containsEntry("variable_lengths", true)
                .containsEntry("key_size", null).containsEntry("value_size", null);
        for (String key : List.of("entries_read", "inserted", "replaced", "rejected", "entries", "buckets",
                "variable_lengths", "key_size", "value_size")) {
            assertThat(b.get(key)).as(key).isEqualTo(p.get(key));
        }
        assertThat(sortedDump(bulk)).isEqualTo(sortedDump(puts));
        assertThat(Cli.run("verify", bulk.toString()).out()).isEqualTo("ok\n");
        assertThat(Cli.run("inspect", "--json", bulk.toString()).json()).containsEntry("format_version", 3L);
    }

    @Test
    void theSummaryNamesWhatThePresizingCountedAndExpectedCanOnlyAddRoom() throws IOException {
        Path input = gen("in.tsv", "--count", "1000", "--keys", "sequential", "--key-size", "4");
        Path small = dir.resolve("small.hidx");
        Path roomy = dir.resolve("roomy.hidx");

        Cli smallLoad = Cli.run("load", "--expected", "10", "--fit-widths", small.toString(), input.toString());
        Cli roomyLoad = Cli.run("load", "--json", "--expected", "100000", roomy.toString(), input.toString());

        assertThat(smallLoad.out()).startsWith("created " + small + ": key width 4 bytes, value width 16 bytes, "
                + "presized for 1,000 entries\n").containsPattern("growths done +0 doublings");
        assertThat(roomyLoad.json()).containsEntry("entries", 1000L).containsEntry("buckets", 15_385L);
    }

    @Test
    void underTheSmallestMemoryBudgetManyRunsAreSpilledAndNoneIsLeftBehind() throws IOException {
        Path input = gen("in.tsv", "--count", "300000", "--value-size", "8");
        Path file = dir.resolve("x.hidx");

        // the smallest budget leaves the builder 4 MiB: runs of 1.5 MiB
        Cli load = Cli.run("load", "--memory", "164m", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.out()).containsPattern("inserted +300,000\n");
        assertThat(temporaryFiles()).isEmpty();
        assertThat(Cli.run("verify", file.toString()).out()).isEqualTo("ok\n");
        assertThat(Cli.run("get", file.toString(), "7ab40e090f363a7d").out()).isEqualTo("89025cc1\n");
    }

    @Test
    void temporaryFilesOfAKilledLoadAreDeletedByTheNextLoadOfTheSameFile() throws IOException {
        Path input = gen("in.tsv", "--count", "100");
        Path file = dir.resolve("x.hidx");
        Files.writeString(dir.resolve("x.hidx.bulk-123-abc.tmp"), "half-written index");
        Files.writeString(dir.resolve("x.hidx.bulk-123-abc.run-0"), "a run");
        Files.writeString(dir.resolve("y.hidx.bulk-123-abc.tmp"), "another target's");

        Cli load = Cli.run("load", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(temporaryFiles()).containsExactly("y.hidx.bulk-123-abc.tmp");
    }

    @Test
    void skippedBadLinesAreCountedAndTheWidthsFitTheLinesLoaded() throws IOException {
        Path input = Files.writeString(dir.resolve("in.tsv"), "a\t1\nno tab here\nbb\t22\n\\q\tbad escape\n", UTF_8);
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--json", "--skip-bad", "--fit-widths", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.json()).containsEntry("entries_read", 4L).containsEntry("rejected", 2L)
                .containsEntry("inserted", 2L).containsEntry("key_size", 2L).containsEntry("value_size", 2L);
    }

    @Test
    void badMemorySizesAreUsageErrorsAndCreateNothing() throws IOException {
        Path input = gen("in.tsv", "--count", "10");
        Path file = dir.resolve("x.hidx");

        Cli tooSmall = Cli.run("load", "--memory", "163m", file.toString(), input.toString());
        Cli notASize = Cli.run("load", "--memory", "lots", file.toString(), input.toString());
        Cli units = Cli.run("load", "--memory", "1GiB", file.toString(), input.toString());

        assertThat(tooSmall.exitCode()).isEqualTo(2);
        assertThat(tooSmall.err()).contains("--memory 163m is below the minimum of 164m: the JVM takes 160m (a heap of "
                + "96m and 64m of its own) and the builder at least 4m");
        assertThat(notASize.exitCode()).isEqualTo(2);
        assertThat(notASize.err()).contains("--memory lots is not a size such as 512m, 2g or 1073741824");
        assertThat(units.exitCode()).as(units.toString()).isZero();
        assertThat(BulkLoad.memoryBytes("512m")).isEqualTo(512L << 20);
        assertThat(BulkLoad.memoryBytes("2G")).isEqualTo(2L << 30);
        assertThat(BulkLoad.memoryBytes("4 MiB")).isEqualTo(4L << 20);
        assertThat(BulkLoad.memoryBytes("65536")).isEqualTo(65536);
    }
}
