package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole {@code inspect --json} output of a file built deterministically (fixed seed, fixed puts,
 * two doublings done and a third under way) against {@code inspect-golden.json}. A change to the
 * output or to the file layout shows up here; update the golden file only on purpose.
 */
class InspectGoldenTest {
    static final String GOLDEN = "/inspect-golden.json";
    /** Puts that take a 1-bucket file through doublings to 8 buckets and start the doubling to 16. */
    static final int PUTS = 53;

    @TempDir
    Path dir;

    /**
     * Builds the file through the public API only. It copies the file while the writer still has it
     * open, right after the put that started a growth: the copy is what a crash at that instant would
     * leave, a file in the middle of a growth (closing would finish the growth).
     */
    static Path midGrowthFile(Path dir) throws IOException {
        Path building = dir.resolve("building.hidx");
        Path file = dir.resolve("golden.hidx");
        try (HashIndex idx = HashIndex.create(building, Options.widths(8, 8).seed(42))) {
            for (int i = 0; i < PUTS; i++) {
                idx.put(("key-" + i).getBytes(UTF_8), ("value-" + i).getBytes(UTF_8));
            }
            Files.copy(building, file);
        }
        return file;
    }

    @Test
    void inspectJsonMatchesTheGoldenFile() throws IOException {
        Path file = midGrowthFile(dir);

        Cli inspect = Cli.run("inspect", "--json", file.toString());

        assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
        Map<String, Object> j = inspect.json();
        assertThat(j).containsEntry("growing", true).containsEntry("count", (long) PUTS);
        String actual = inspect.out().replace(Json.write(file.toString()), "\"<PATH>\"");
        String expected;
        try (InputStream in = InspectGoldenTest.class.getResourceAsStream(GOLDEN)) {
            assertThat(in).as(GOLDEN + " on the test class path").isNotNull();
            expected = new String(in.readAllBytes(), UTF_8);
        }
        if (!actual.equals(expected)) {
            Path written = Path.of("target", "inspect-golden.actual.json");
            Files.writeString(written, actual);
            assertThat(actual).as("inspect --json differs from " + GOLDEN + " (actual output in " + written.toAbsolutePath()
                    + ")").isEqualTo(expected);
        }
    }
}
