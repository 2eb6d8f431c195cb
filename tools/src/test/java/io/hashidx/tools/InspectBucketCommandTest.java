package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inspect --bucket N}: one bucket's pages and slots, as text and JSON. */
class InspectBucketCommandTest {
    @TempDir
    Path dir;

    private Path file;

    @BeforeEach
    void build() throws IOException {
        file = InspectGoldenTest.midGrowthFile(dir);
    }

    @Test
    void everyBucketShowsItsPagesAndSlots() {
        Map<String, Object> summary = Cli.run("inspect", "--json", file.toString()).json();
        long buckets = (Long) summary.get("buckets");
        long live = 0;
        for (long b = 0; b < buckets; b++) {
            Cli text = Cli.run("inspect", file.toString(), "--bucket", String.valueOf(b));
            Cli json = Cli.run("inspect", "--json", file.toString(), "--bucket", String.valueOf(b));
            assertThat(text.exitCode()).as(text.toString()).isZero();
            assertThat(text.out()).contains("bucket              " + b + " of " + buckets + "\n")
                    .containsPattern("primary page cell \\d+ at file offset \\d+ \\(0x[0-9a-f]+\\), overflow ")
                    .contains("  slot 0  tophash ", "  slot 7  tophash ");
            Map<String, Object> j = json.json();
            assertThat(j).containsEntry("bucket", b).containsEntry("growing", true).containsKeys("old_bucket", "pages");
            boolean oldEvacuated = (Boolean) j.get("old_bucket_evacuated");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> pages = (List<Map<String, Object>>) j.get(oldEvacuated ? "pages" : "old_pages");
            assertThat(pages).isNotEmpty();
            for (Map<String, Object> page : pages) {
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> slots = (List<Map<String, Object>>) page.get("slots");
                assertThat(slots).hasSize(8);
                live += slots.stream().filter(s -> "tophash".equals(s.get("state"))).count();
                slots.stream().filter(s -> "tophash".equals(s.get("state"))).forEach(s -> assertThat(s)
                        .containsKeys("key_hex", "value_hex").extractingByKey("key").asString().startsWith("\"key-"));
            }
            if (!oldEvacuated) {
                assertThat(text.out()).contains("is NOT evacuated", "\nold bucket " + j.get("old_bucket") + " (not evacuated)\n");
            }
        }
        // each unevacuated old bucket is shown for both of its destinations
        assertThat(live).isGreaterThanOrEqualTo(InspectGoldenTest.PUTS);
    }

    @Test
    void slotsShowTheKeyAndValueAsText() {
        Cli text = Cli.run("inspect", file.toString(), "--bucket", "0");

        assertThat(text.out()).containsPattern("slot \\d  tophash +\\d+ entry +key \"key-\\d+\"  value \"value-\\d+\"");
        assertThat(text.out()).containsPattern("tophash +0 empty_rest\n");
    }

    @Test
    void aBucketOutOfRangeIsAnError() {
        Map<String, Object> summary = Cli.run("inspect", "--json", file.toString()).json();
        long buckets = (Long) summary.get("buckets");

        Cli over = Cli.run("inspect", file.toString(), "--bucket", String.valueOf(buckets));
        Cli negative = Cli.run("inspect", file.toString(), "--bucket", "-1");

        assertThat(over.exitCode()).isEqualTo(2);
        assertThat(over.out()).isEmpty();
        assertThat(over.err()).isEqualTo("hashidx: HIDX-011 invalid argument: " + file + ": bucket " + buckets
                + " is out of range; the file has " + buckets + " buckets (0.." + (buckets - 1) + ")\n");
        assertThat(negative.exitCode()).isEqualTo(2);
        assertThat(negative.err()).contains("--bucket -1 is negative").hasLineCount(1);
    }

    @Test
    void histogramsAddTheTophashDistribution() {
        Cli summary = Cli.run("inspect", file.toString());
        Cli full = Cli.run("inspect", "--histograms", file.toString());

        assertThat(summary.out()).containsPattern("\noccupancy +(\\d+ ){9}buckets hold 0..8 entries in their primary "
                + "page \\(mean \\d+\\.\\d\\d\\)\n").doesNotContain("tophash distribution");
        assertThat(full.out()).contains("tophash distribution", "\n    0- 15 ", "\n  240-255 ",
                "occupancy (entries in a bucket's primary page: buckets)\n");
        assertThat(full.out().lines().filter(l -> l.matches(" +\\d+-\\s*\\d+( +\\d+){16}"))).hasSize(16);
    }
}
