package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectCommandTest {
    @TempDir
    Path dir;

    private Path file;

    /** 3,000 entries with 10-byte keys and 12-byte values, loaded into a file that grew from one bucket. */
    @BeforeEach
    void load() throws IOException {
        file = dir.resolve("x.hidx");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 3000; i++) {
            sb.append(String.format("key-%06d\tvalue-%06d%n", i, i));
        }
        Path input = Files.writeString(dir.resolve("in.tsv"), sb);
        assertThat(Cli.run("create", file.toString(), "--key-size", "10", "--value-size", "12", "--seed", "42")
                .exitCode()).isZero();
        // --expected 0: no room made first, so the file grows from one bucket by doublings
        assertThat(Cli.run("load", "--expected", "0", file.toString(), input.toString()).exitCode()).isZero();
    }

    @Test
    void jsonHasEveryKeyWithTheFileFigures() throws IOException {
        Cli inspect = Cli.run("inspect", "--json", file.toString());

        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        Map<String, Object> j = inspect.json();
        assertThat(j).containsKeys("read_version", "write_version", "free_pages", "retired_pages", "allocated_pages",
                "page_bytes", "overflow_pages", "overflow_percent", "bytes_per_entry", "overhead_ratio",
                "growth_slack_bytes", "compact_would_pay_off", "tophash_counts", "tophash_chi_square");
        assertThat(j).containsEntry("path", file.toString())
                .containsEntry("file_bytes", Files.size(file))
                .containsEntry("key_size", 10L)
                .containsEntry("value_size", 12L)
                .containsEntry("seed", "0x000000000000002a")
                .containsEntry("entries", 3000L)
                .containsEntry("raw_key_value_bytes", 3000L * 22)
                .containsEntry("tophash_degrees_of_freedom", 250L)
                .containsEntry("tophash_verdict", "uniform");
        long buckets = (Long) j.get("buckets");
        assertThat((Long) j.get("doublings")).isPositive();
        assertThat((Double) j.get("load_factor")).isCloseTo(3000.0 / buckets, within(1e-9));
        assertThat((Double) j.get("bytes_per_entry")).isCloseTo(Files.size(file) / 3000.0, within(1e-9));
        assertThat((Double) j.get("tophash_critical_value")).isCloseTo(324.83, within(0.1));
        assertThat((Double) j.get("tophash_chi_square")).isLessThan((Double) j.get("tophash_critical_value"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> copies = (List<Map<String, Object>>) j.get("header_copies");
        assertThat(copies).extracting(c -> c.get("copy")).containsExactly("A", "B");
        assertThat(copies).allSatisfy(c -> assertThat(c).containsEntry("valid", true).containsKey("generation"));
        @SuppressWarnings("unchecked")
        Map<String, Object> growth = (Map<String, Object>) j.get("growth");
        assertThat(growth).containsEntry("growing", false).containsKeys("same_size", "old_buckets", "evacuated",
                "evacuated_mark", "percent");
        List<?> occupancy = (List<?>) j.get("occupancy");
        assertThat(occupancy).hasSize(9);
        assertThat(occupancy.stream().mapToLong(o -> (Long) o).sum()).isEqualTo(buckets);
        List<?> chains = (List<?>) j.get("chain_lengths");
        assertThat(chains.stream().mapToLong(o -> (Long) o).sum()).isEqualTo(buckets);
        assertThat(((List<?>) j.get("tophash_counts")).stream().mapToLong(o -> (Long) o).sum()).isEqualTo(3000);
    }

    @Test
    void textShowsTheSameFiguresReadably() {
        Map<String, Object> j = Cli.run("inspect", "--json", file.toString()).json();

        Cli inspect = Cli.run("inspect", "--histograms", file.toString());

        assertThat(inspect.exitCode()).isZero();
        assertThat(inspect.err()).isEmpty();
        assertThat(inspect.out()).contains(
                "file                " + file + "\n",
                "widths              key 10 bytes, value 12 bytes\n",
                "seed                0x000000000000002a\n",
                "header copy A       generation ",
                "entries             3,000\n",
                "buckets             " + Figures.count((Long) j.get("buckets")) + "\n",
                "growths             " + j.get("doublings") + " doublings, 0 same-size\n",
                "growth              not growing\n",
                "overhead ratio      ",
                "occupancy (entries in a bucket's primary page: buckets)\n  0 ",
                "\n  8 ",
                "chain lengths (overflow pages chained on a bucket: buckets)\n  0 ",
                "99.9% critical value 324.9): uniform\n");
        assertThat(inspect.out()).containsPattern("header copy A +generation \\d+, valid\n");
        assertThat(inspect.out()).containsPattern("\n  \\d #+ +[0-9,]+\n");
    }

    @Test
    void textNamesEveryFigureOfTheIssueWithTheJsonValues() {
        Map<String, Object> j = Cli.run("inspect", "--json", file.toString()).json();
        long fileBytes = (Long) j.get("file_bytes");
        long slack = (Long) j.get("growth_slack_bytes");

        Cli inspect = Cli.run("inspect", file.toString());

        assertThat(inspect.out()).contains(
                "format              read version 2, write version 2\n",
                "load factor         " + Figures.decimal((Double) j.get("load_factor"), 2) + " entries per bucket\n",
                "overflow pages      " + Figures.count((Long) j.get("overflow_pages")) + " ("
                        + Figures.decimal((Double) j.get("overflow_percent"), 1) + "% of buckets)\n",
                "free pages          " + Figures.count((Long) j.get("free_pages")) + "\n",
                "file bytes          " + Figures.bytes(fileBytes) + "\n",
                "bytes per entry     " + Figures.decimal((Double) j.get("bytes_per_entry"), 1) + "\n",
                "overhead ratio      " + Figures.decimal((Double) j.get("overhead_ratio"), 2)
                        + " file bytes per key+value byte (66,000 key+value bytes)\n",
                "chain lengths       ");
        assertThat(slack).as("a file grown from one bucket").isPositive();
        assertThat(j).containsEntry("compact_would_pay_off", slack * 4 >= fileBytes);
        assertThat(inspect.out()).contains("growth slack        " + Figures.bytes(slack) + ", "
                + Figures.decimal(100.0 * slack / fileBytes, 1) + "% of the file"
                + ((Boolean) j.get("compact_would_pay_off") ? ": 'hashidx compact " + file + "' would give it back\n"
                : " (too little for compact to pay off)\n"));
        assertThat(inspect.out()).containsPattern("\noccupancy +" + counts(j.get("occupancy_histogram"))
                + " buckets hold 0..8 entries in their primary page \\(mean \\d+\\.\\d\\d\\)\n");
    }

    @Test
    void aCompactedFileHasNoSlackAndSaysSo() {
        assertThat(Cli.run("compact", file.toString()).exitCode()).isZero();

        assertThat(Cli.run("inspect", file.toString()).out())
                .contains("growth slack        0 (the file is no bigger than one presized for its entries)\n");
    }

    @Test
    void midGrowthTheTextShowsHowFarTheGrowthHasGot() throws IOException {
        Path growing = InspectGoldenTest.midGrowthFile(dir);
        Map<String, Object> j = Cli.run("inspect", "--json", growing.toString()).json();
        @SuppressWarnings("unchecked")
        Map<String, Object> g = (Map<String, Object>) j.get("growth");

        Cli inspect = Cli.run("inspect", growing.toString());

        assertThat(g).containsEntry("growing", true).containsEntry("old_buckets", 8L);
        assertThat(inspect.out()).contains("growth              growing (doubling): " + g.get("evacuated") + " of 8 old "
                + "buckets evacuated (" + Figures.decimal((Double) g.get("percent"), 1) + "%), all below "
                + g.get("evacuated_mark") + "\n");
    }

    @Test
    void midAReservedGrowthTheTextSaysByHowMuchTheArrayGrows() throws IOException {
        Path building = dir.resolve("building.hidx");
        Path copy = dir.resolve("reserving.hidx");
        try (HashIndex idx = HashIndex.create(building, Options.widths(8, 8).seed(42))) {
            for (int i = 0; i < 200; i++) {
                idx.put(("key-" + i).getBytes(java.nio.charset.StandardCharsets.UTF_8), new byte[] {(byte) i});
            }
            idx.finishGrowth();
            assertThat(idx.reserve(64 * 200)).isTrue();
            Files.copy(building, copy); // as a kill would leave it: mid-growth
        }

        Cli inspect = Cli.run("inspect", copy.toString());

        assertThat(inspect.out()).containsPattern("growth +growing \\(to 64 times the buckets, reserved\\): 0 of 32 old "
                + "buckets evacuated \\(0.0%\\), all below 0\n");
        assertThat(inspect.out()).contains("format              read version 2, write version 2\n");
        assertThat(Cli.run("verify", copy.toString()).out()).isEqualTo("ok\n");
    }

    private static String counts(Object histogram) {
        StringBuilder sb = new StringBuilder();
        for (Object c : (List<?>) histogram) {
            sb.append(sb.isEmpty() ? "" : " ").append(c);
        }
        return sb.toString();
    }

    @Test
    void aChainHistogramThatADamagedChainMadeLongNamesOnlyTheLengthsThatOccur() {
        long[] chains = new long[1_000_001];
        chains[0] = 90;
        chains[1] = 9;
        chains[1_000_000] = 1;

        assertThat(InspectCommand.chainSummary(new long[] {4236, 1129, 2}))
                .isEqualTo("4236 1129 2 buckets have 0..2 overflow pages (78.9% none)");
        assertThat(InspectCommand.chainSummary(chains)).isEqualTo("buckets by overflow pages: 90 with 0, 9 with 1, "
                + "1 with 1000000 (90.0% none); run 'hashidx verify'");
    }

    @Test
    void wilsonHilfertyCriticalValueMatchesTables() {
        // chi-square 0.999 quantiles from statistical tables: 100 dof 149.449, 250 dof 324.832
        assertThat(InspectCommand.chiSquareCriticalValue(100, InspectCommand.Z_999)).isCloseTo(149.449, within(0.1));
        assertThat(InspectCommand.chiSquareCriticalValue(250, InspectCommand.Z_999)).isCloseTo(324.832, within(0.1));
    }

    @Test
    void fewEntriesAreTooFewToJudgeTheHash() {
        Path small = dir.resolve("small.hidx");
        Cli.run("create", small.toString(), "--key-size", "4", "--value-size", "4");
        Cli.run("put", small.toString(), "k", "v");

        assertThat(Cli.run("inspect", "--json", small.toString()).json()).containsEntry("entries", 1L)
                .containsEntry("tophash_verdict", "too few entries");
    }
}
