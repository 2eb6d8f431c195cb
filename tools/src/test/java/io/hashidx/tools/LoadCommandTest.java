package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import io.hashidx.store.Plan;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoadCommandTest {
    @TempDir
    Path dir;

    private Path tsv(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content, UTF_8);
    }

    /** n lines "key000001<TAB>value-1" ... (keys 9 bytes, values up to 6 + digits bytes). */
    private Path numbered(String name, int from, int to) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i <= to; i++) {
            sb.append(String.format("key%06d\tvalue-%d%n", i, i));
        }
        return tsv(name, sb.toString());
    }

    @Test
    void loadIntoNewFileMeasuresWidthsInUtf8BytesAndSplitsAtTheFirstTab() throws IOException {
        Path input = tsv("in.tsv", """
                a\t1
                \u00e9t\u00e9\tsummer
                tabs\tvalue\twith a tab

                crlf\tline\r
                longest-key\t\u20ac\u20ac""");
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--fit-widths", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.out()).contains("created " + file + ": key width 11 bytes, value width 16 bytes");
        assertThat(load.out()).containsPattern("entries read +5\n");
        assertThat(load.out()).containsPattern("inserted +5\n");
        assertThat(load.out()).containsPattern("rejected +0\n");
        assertThat(load.out()).containsPattern("growths done +0 doublings, 0 same-size\n");
        assertThat(load.err()).isEmpty();
        assertThat(Cli.run("get", file.toString(), "\u00e9t\u00e9").out()).isEqualTo("summer\n");
        assertThat(Cli.run("get", file.toString(), "tabs").out()).isEqualTo("value\twith a tab\n");
        assertThat(Cli.run("get", file.toString(), "crlf").out()).isEqualTo("line\n");
        assertThat(Cli.run("get", "--hex", file.toString(), "6c6f6e676573742d6b6579").out())
                .isEqualTo("e282ace282ac\n");
    }

    @Test
    void loadIntoNewFileIsPresizedForTheLineCountSoItNeverDoubles() throws IOException {
        Path a = numbered("a.tsv", 1, 3000);
        Path b = numbered("b.tsv", 3001, 5000);
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--json", "--fit-widths", file.toString(), a.toString(), b.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        Map<String, Object> s = load.json();
        assertThat(s).containsEntry("created", true)
                .containsEntry("key_size", 9L)
                .containsEntry("value_size", 10L)
                .containsEntry("entries_read", 5000L)
                .containsEntry("inserted", 5000L)
                .containsEntry("replaced", 0L)
                .containsEntry("rejected", 0L)
                .containsEntry("entries", 5000L)
                .containsEntry("doublings", 0L)
                .containsEntry("same_size_growths", 0L)
                .containsEntry("inputs", List.of(a.toString(), b.toString()))
                .containsEntry("file_bytes", Files.size(file));
        assertThat(s).containsKeys("buckets", "bytes_per_entry", "seconds", "entries_per_second", "rejected_lines");
        assertThat(Cli.run("get", file.toString(), "key004321").out()).isEqualTo("value-4321\n");
    }

    @Test
    void loadIntoExistingFileKeepsItsWidthsGrowsAndCountsReplacements() throws IOException {
        Path file = dir.resolve("x.hidx");
        assertThat(Cli.run("create", file.toString(), "--key-size", "16", "--value-size", "16").exitCode()).isZero();

        Cli first = Cli.run("load", "--json", file.toString(), numbered("a.tsv", 1, 2000).toString());
        Cli second = Cli.run("load", "--json", file.toString(), numbered("b.tsv", 1501, 2500).toString());

        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.json()).containsEntry("created", false).containsEntry("key_size", 16L)
                .containsEntry("inserted", 2000L).containsEntry("entries", 2000L);
        assertThat((Long) first.json().get("doublings")).as("an unpresized file grows").isPositive();
        assertThat(first.json()).as("made room for the 2000 lines in one growth").containsEntry("reserved_for", 2000L);
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(second.json()).containsEntry("inserted", 500L).containsEntry("replaced", 500L)
                .containsEntry("entries", 2500L);
        assertThat(Cli.run("inspect", "--json", file.toString()).json())
                .containsEntry("entries", 2500L)
                .containsEntry("growth", Map.of("growing", false, "same_size", false, "old_buckets", 0L,
                        "evacuated", 0L, "evacuated_mark", 0L, "percent", 100.0, "old_overflow_pages", 0L));
        assertThat(Cli.run("verify", file.toString()).out()).isEqualTo("ok\n");
    }

    @Test
    void loadIntoExistingFileWithOtherWidthsIsAUsageError() throws IOException {
        Path file = dir.resolve("x.hidx");
        Cli.run("create", file.toString(), "--key-size", "16", "--value-size", "16");

        Cli load = Cli.run("load", file.toString(), numbered("a.tsv", 1, 3).toString(), "--key-size", "32");

        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.err()).contains("exists with key width 16 and value width 16");
        assertThat(Cli.run("inspect", "--json", file.toString()).json()).containsEntry("entries", 0L);
    }

    @Test
    void badLineStopsTheLoadOfANewFileWithExit2NamingInputAndLineAndCreatesNoFile() throws IOException {
        Path input = tsv("in.tsv", "k1\tv1\nk2\tv2\n\nk3 has no tab\nk4\tv4\n");
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", file.toString(), input.toString());

        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.out()).isEmpty();
        assertThat(load.err()).isEqualTo("hashidx: bad line 4 of " + input + ": no tab between key and value; "
                + "nothing was loaded: " + file + " was not created; fix the line, or pass --skip-bad to skip bad lines\n");
        assertThat(file).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no temporary files either")
                    .containsExactly("in.tsv");
        }
    }

    @Test
    void badLineStopsTheLoadIntoAnExistingFileAndKeepsEarlierEntries() throws IOException {
        Path input = tsv("in.tsv", "k1\tv1\nk2\tv2\n\nk3 has no tab\nk4\tv4\n");
        Path file = dir.resolve("x.hidx");
        assertThat(Cli.run("create", file.toString(), "--key-size", "8", "--value-size", "8").exitCode()).isZero();

        Cli load = Cli.run("load", file.toString(), input.toString());

        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.out()).isEmpty();
        assertThat(load.err()).isEqualTo("hashidx: bad line 4 of " + input + ": no tab between key and value; the 2 "
                + "entries before it were loaded and stay in " + file + "; fix the line, or pass --skip-bad to skip "
                + "bad lines\n");
        assertThat(Cli.run("get", file.toString(), "k1", "k2").out()).isEqualTo("k1\tv1\nk2\tv2\n");
        Cli k4 = Cli.run("get", file.toString(), "k4");
        assertThat(k4.exitCode()).isEqualTo(1);
        assertThat(k4.err()).isEqualTo("not found: k4\n");
    }

    @Test
    void keyLongerThanTheGivenWidthIsABadLine() throws IOException {
        Path input = tsv("in.tsv", "abcd\tv\nabcdefgh\tv\n");
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--key-size", "4", file.toString(), input.toString());

        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.err()).startsWith("hashidx: bad line 2 of " + input
                + ": key of 8 bytes is longer than the key width of 4 bytes;");
    }

    @Test
    void skipBadCountsRejectedLinesAndListsTheFirstFive() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= 10; i++) {
            sb.append(i % 2 == 0 ? "bad" + i + "\n" : "k" + i + "\tv" + i + "\n");
        }
        sb.append("k7\t").append("x".repeat(30)).append('\n');
        Path input = tsv("in.tsv", sb.toString());
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--skip-bad", "--value-size", "8", file.toString(), input.toString());
        Cli json = Cli.run("load", "--skip-bad", "--json", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.out()).contains("""
                rejected          6
                  line 2 of %1$s: no tab between key and value
                  line 4 of %1$s: no tab between key and value
                  line 6 of %1$s: no tab between key and value
                  line 8 of %1$s: no tab between key and value
                  line 10 of %1$s: no tab between key and value
                  ... and 1 more
                entries in index  5
                """.formatted(input));
        assertThat(json.exitCode()).isZero();
        Map<String, Object> s = json.json();
        assertThat(s).containsEntry("entries_read", 11L).containsEntry("replaced", 5L)
                .containsEntry("rejected", 6L).containsEntry("entries", 5L);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rejected = (List<Map<String, Object>>) s.get("rejected_lines");
        assertThat(rejected).hasSize(5);
        assertThat(rejected.get(0)).isEqualTo(Map.of("input", input.toString(), "line", 2L,
                "reason", "no tab between key and value"));
        assertThat(rejected).extracting(m -> m.get("line")).containsExactly(2L, 4L, 6L, 8L, 10L);
        assertThat(Cli.run("load", "--skip-bad", "--json", file.toString(), tsv("long.tsv", sb.toString()
                .substring(sb.lastIndexOf("k7"))).toString()).json().get("rejected_lines"))
                .isEqualTo(List.of(Map.of("input", dir.resolve("long.tsv").toString(), "line", 1L,
                        "reason", "value of 30 bytes is longer than the value width of 8 bytes")));
    }

    @Test
    void missingInputIsAnInputErrorAndCreatesNoFile() {
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", file.toString(), dir.resolve("nope.tsv").toString());

        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.err()).isEqualTo("hashidx: cannot read input " + dir.resolve("nope.tsv") + ": no such file\n");
        assertThat(file).doesNotExist();
    }

    /** Runs a command line with {@code stdin} as standard input. */
    private static Cli withStandardInput(String stdin, String... args) {
        InputStream saved = System.in;
        System.setIn(new ByteArrayInputStream(stdin.getBytes(UTF_8)));
        try {
            return Cli.run(args);
        } finally {
            System.setIn(saved);
        }
    }

    @Test
    void dashReadsStandardInputIntoANewFileInOnePassLeavingNoTemporaryFile() throws IOException {
        Path file = dir.resolve("x.hidx");

        Cli load = withStandardInput("k1\tv1\nkey2\tvalue2\n", "load", "--json", "--fit-widths", file.toString(), "-");

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.json()).containsEntry("created", true).containsEntry("inputs", List.of("-"))
                .containsEntry("key_size", 4L).containsEntry("value_size", 6L).containsEntry("inserted", 2L)
                .containsEntry("doublings", 0L);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).as("no copy of the input, no temporary files").containsExactly(file);
        }
        assertThat(Cli.run("get", file.toString(), "key2").out()).isEqualTo("value2\n");
    }

    @Test
    void dashWithAllSizesGivenMixesWithFiles() throws IOException {
        Path file = dir.resolve("x.hidx");
        Path other = numbered("a.tsv", 1, 3);

        Cli load = withStandardInput("k1\tv1\n", "load", "--key-size", "9", "--value-size", "8", "--expected",
                "10", file.toString(), other.toString(), "-");

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.out()).containsPattern("inserted +4\n");
        assertThat(Cli.run("get", file.toString(), "k1", "key000003").out()).isEqualTo("k1\tv1\nkey000003\tvalue-3\n");
    }

    @Test
    void aBadLineOnStandardInputIsNamedSo() {
        Path file = dir.resolve("x.hidx");

        Cli load = withStandardInput("k1\tv1\nno tab here\n", "load", file.toString(), "-");

        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.err()).startsWith("hashidx: bad line 2 of standard input: no tab between key and value; "
                + "nothing was loaded: " + file + " was not created");
        assertThat(file).doesNotExist();
    }

    @Test
    void dashTwiceIsAUsageError() {
        Cli load = Cli.run("load", dir.resolve("x.hidx").toString(), "-", "-");

        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.err()).isEqualTo("hashidx load: '-' (standard input) is given twice; it can be read only once "
                + "(see 'hashidx load --help')\n");
        assertThat(dir.resolve("x.hidx")).doesNotExist();
    }

    /**
     * Loading many entries into a non-empty file grows it once, straight to 2^k times its buckets, not
     * k times: the file ends up no larger than it was plus a file presized for the new bucket count,
     * which k doublings (arrays of 2b, 4b, ... all kept as slack) would far exceed.
     */
    @Test
    void loadIntoANonEmptyFileMakesRoomForTheInputsLinesInOneGrowth() throws IOException {
        Path file = dir.resolve("x.hidx");
        assertThat(Cli.run("load", "--value-size", "12", file.toString(), numbered("a.tsv", 1, 1000).toString())
                .exitCode()).isZero();
        long bucketsBefore;
        long overflowPagesBefore;
        long bytesBefore = Files.size(file);
        try (HashIndex idx = HashIndex.openReadOnly(file)) {
            bucketsBefore = idx.inspect().buckets();
            overflowPagesBefore = idx.inspect().overflowPages();
        }

        Cli load = Cli.run("load", "--json", file.toString(), numbered("b.tsv", 1001, 50_000).toString(),
                numbered("c.tsv", 1, 1000).toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        Map<String, Object> s = load.json();
        assertThat(s).containsEntry("inserted", 49_000L).containsEntry("replaced", 1000L)
                .containsEntry("entries", 50_000L).containsEntry("reserved_for", 51_000L)
                .containsEntry("same_size_growths", 0L);
        long doublings = (Long) s.get("doublings");
        long buckets = (Long) s.get("buckets");
        assertThat(buckets).isEqualTo(bucketsBefore << doublings);
        assertThat(bucketsBefore << (doublings - 1)).as("the smallest 2^k multiple for 51,000 entries")
                .isLessThan(HashIndex.plan(Options.widths(9, 12).expectedEntries(51_000)).buckets());
        Plan presized = HashIndex.plan(Options.widths(9, 12).expectedEntries(13 * buckets / 2));
        // the evacuation margin a growth writes besides (at most the old array's overflow pages) depends
        // on how much of the free list the old array's evacuation left, which the order of evacuation decides
        long margin = overflowPagesBefore * presized.pageBytes();
        assertThat((Long) s.get("file_bytes")).as("one growth: the old file plus one new array, its reserve and margin")
                .isLessThanOrEqualTo(bytesBefore + presized.fileBytes() + margin);
        assertThat(Cli.run("verify", file.toString()).out()).isEqualTo("ok\n");
        assertThat(Cli.run("get", file.toString(), "key050000").out()).isEqualTo("value-50000\n");
    }

    @Test
    void standardInputIntoAnExistingFileGrowsAsNeededUnlessExpectedSaysHowManyEntriesCome() throws IOException {
        Path grown = dir.resolve("grown.hidx");
        Path reserved = dir.resolve("reserved.hidx");
        for (Path file : List.of(grown, reserved)) {
            Cli.run("create", file.toString(), "--key-size", "16", "--value-size", "16");
        }
        String lines = Files.readString(numbered("a.tsv", 1, 5000));

        Cli asNeeded = withStandardInput(lines, "load", "--json", grown.toString(), "-");
        Cli withExpected = withStandardInput(lines, "load", "--json", "--expected", "5000", reserved.toString(), "-");

        assertThat(asNeeded.exitCode()).as(asNeeded.toString()).isZero();
        assertThat(asNeeded.json()).containsEntry("reserved_for", 0L).containsEntry("doublings", 10L);
        assertThat(withExpected.exitCode()).as(withExpected.toString()).isZero();
        assertThat(withExpected.json()).containsEntry("reserved_for", 5000L).containsEntry("doublings", 10L)
                .containsEntry("entries", 5000L);
        assertThat((Long) withExpected.json().get("file_bytes")).as("no slack of nine earlier arrays")
                .isLessThan((Long) asNeeded.json().get("file_bytes"));
        assertThat(withExpected.out()).doesNotContain("made room");
        assertThat(Cli.run("load", "--expected", "10", reserved.toString(), numbered("b.tsv", 1, 3).toString()).out())
                .as("a file large enough already is not grown").doesNotContain("made room");
        assertThat(Cli.run("load", "--expected", "-1", reserved.toString(), "-").err()).contains("--expected must not be negative");
    }

    @Test
    void lineFeedsAreCountedEightBytesAtATimeExactlyAsOneByOne() {
        long seed = 42;
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        for (int round = 0; round < 200; round++) {
            byte[] b = new byte[rnd.nextInt(100)];
            for (int i = 0; i < b.length; i++) {
                // mostly line feeds and their neighbours in value (0x09, 0x0b, 0x8a) and bytes with the high bit set
                b[i] = (byte) new int[] {0x0a, 0x0a, 0x09, 0x0b, 0x8a, 0x00, 0xff, 0x7f, rnd.nextInt(256)}[rnd.nextInt(9)];
            }
            int n = rnd.nextInt(b.length + 1);
            long expected = 0;
            for (int i = 0; i < n; i++) {
                expected += b[i] == '\n' ? 1 : 0;
            }
            assertThat(LoadCommand.lineFeeds(b, n)).as("seed %d round %d", seed, round).isEqualTo(expected);
        }
    }

    /**
     * Without widths a new FILE has variable lengths: a key of 40 bytes and a value of 3,000 load, the
     * summary says so (key_size and value_size null), and --fit-widths is refused for an existing FILE.
     */
    @Test
    void aNewFileWithoutWidthsHasVariableLengths() throws IOException {
        Path file = dir.resolve("v.hidx");
        String longKey = "k".repeat(40);
        String longValue = "v".repeat(3_000);
        Path input = tsv("v.tsv", "short\tx\n" + longKey + "\t" + longValue + "\n");

        Cli load = Cli.run("load", "--json", file.toString(), input.toString());
        Cli text = Cli.run("load", "--fit-widths", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.json()).containsEntry("created", true).containsEntry("variable_lengths", true)
                .containsEntry("key_size", null).containsEntry("value_size", null).containsEntry("inserted", 2L);
        assertThat(Cli.run("get", file.toString(), longKey).out()).isEqualTo(longValue + "\n");
        assertThat(Cli.run("verify", file.toString()).out()).isEqualTo("ok\n");
        assertThat(text.exitCode()).isEqualTo(2);
        assertThat(text.err()).contains("--fit-widths applies only when FILE is created");
        Path other = dir.resolve("w.hidx");
        assertThat(Cli.run("load", other.toString(), input.toString()).out())
                .startsWith("created " + other + ": variable lengths, presized for 2 entries");
    }

    @Test
    void emptyInputCreatesAnEmptyFile() throws IOException {
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--json", "--fit-widths", file.toString(), tsv("empty.tsv", "\n\n").toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.json()).containsEntry("entries_read", 0L).containsEntry("entries", 0L)
                .containsEntry("key_size", 0L).containsEntry("value_size", 0L);
    }
}
