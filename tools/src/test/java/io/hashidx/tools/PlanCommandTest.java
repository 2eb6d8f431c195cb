package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlanCommandTest {
    @TempDir
    Path dir;

    @Test
    void planFileBytesEqualTheSizeOfAFileCreatedWithTheSameOptions() throws Exception {
        Cli plan = Cli.run("plan", "--expected", "100000", "--key-size", "16", "--value-size", "16", "--json");
        Path file = dir.resolve("presized.hidx");
        Cli create = Cli.run("create", file.toString(), "--key-size", "16", "--value-size", "16",
                "--expected", "100000");

        assertThat(plan.exitCode()).as(plan.toString()).isZero();
        assertThat(create.exitCode()).as(create.toString()).isZero();
        Map<String, Object> j = plan.json();
        assertThat(j).containsEntry("file_bytes", Files.size(file))
                .containsEntry("expected_entries", 100000L)
                .containsEntry("buckets", 15385L);
        try (HashIndex idx = HashIndex.openReadOnly(file)) {
            assertThat(j).containsEntry("buckets", idx.inspect().buckets())
                    .containsEntry("page_bytes", (long) idx.inspect().pageBytes());
        }
        assertThat((Double) j.get("bytes_per_entry")).isCloseTo(Files.size(file) / 100000.0, within(1e-9));
        assertThat((Long) j.get("reserved_overflow_pages"))
                .isEqualTo(HashIndex.plan(Options.widths(16, 16).expectedEntries(100000)).reservedOverflowPages());
    }

    @Test
    void textShowsTheFiguresAndAboutTwentyOnePercentOverflowAtFullLoad() {
        Cli plan = Cli.run("plan", "--expected", "13000", "--key-size", "16", "--value-size", "16");

        assertThat(plan.exitCode()).as(plan.toString()).isZero();
        long bytes = HashIndex.plan(Options.widths(16, 16).expectedEntries(13000)).fileBytes();
        assertThat(plan.out()).startsWith("plan for 13,000 entries, key width 16 bytes, value width 16 bytes\n")
                .containsPattern("buckets +2,000 \\(load 6\\.50\\)\n")
                .containsPattern("expected overflow +20\\.8% of buckets\n")
                .contains("file bytes          " + Figures.bytes(bytes) + "\n");
        assertThat(plan.err()).isEmpty();
    }

    @Test
    void poissonTailAtLoadSixAndAHalfIsTwentyPointEightPercent() {
        assertThat(PlanCommand.poissonTailAbove(8, 6.5)).isCloseTo(0.2084, within(0.0005));
        assertThat(PlanCommand.poissonTailAbove(8, 0)).isZero();
    }

    @Test
    void missingOptionOrBadWidthIsAUsageError() {
        Cli missing = Cli.run("plan", "--expected", "10", "--key-size", "16");
        Cli negative = Cli.run("plan", "--expected", "10", "--key-size", "-1", "--value-size", "16");

        assertThat(missing.exitCode()).isEqualTo(Main.USAGE_ERROR);
        assertThat(missing.err()).contains("--value-size");
        assertThat(negative.exitCode()).as(negative.toString()).isEqualTo(Main.USAGE_ERROR);
        assertThat(negative.err()).contains("key width -1");
    }

    @Test
    void helpHasAnExample() {
        Cli help = Cli.run("plan", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("hashidx plan --expected 10000000 --key-size 16 --value-size 16");
    }
}
