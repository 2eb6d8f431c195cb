package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the real sample data-samples/unicode-names.tsv (34,884 lines, see its README) end to end. */
class UnicodeSampleLoadTest {
    /** Maven runs the tests with the module directory as the working directory. */
    static final Path SAMPLE = Path.of("..", "data-samples", "unicode-names.tsv");

    @TempDir
    Path dir;

    /** load unescapes backslash sequences since dump and load round-trip any bytes; the sample has none. */
    @Test
    void sampleHasNoBackslashSoItLoadsAsPlainText() throws Exception {
        assertThat(Files.readAllBytes(SAMPLE)).doesNotContain((byte) '\\');
    }

    @Test
    void loadsEveryLineIntoAPresizedFileThatNeverGrows() {
        assertThat(SAMPLE).as("run from the tools module directory").isRegularFile();
        String file = dir.resolve("names.hidx").toString();

        Cli load = Cli.run("load", "--json", "--fit-widths", file, SAMPLE.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.err()).isEmpty();
        Map<String, Object> s = load.json();
        assertThat(s).containsEntry("created", true)
                .containsEntry("key_size", 5L)
                .containsEntry("value_size", 88L)
                .containsEntry("entries_read", 34_884L)
                .containsEntry("inserted", 34_884L)
                .containsEntry("replaced", 0L)
                .containsEntry("rejected", 0L)
                .containsEntry("entries", 34_884L)
                .containsEntry("doublings", 0L)
                .containsEntry("same_size_growths", 0L);

        assertThat(Cli.run("get", file, "0041")).isEqualTo(new Cli(0, "LATIN CAPITAL LETTER A\n", ""));
        assertThat(Cli.run("get", file, "0007", "1F514", "1FBA8", "110000")).isEqualTo(new Cli(1,
                "0007\tBELL\n1F514\tBELL\n1FBA8\tBOX DRAWINGS LIGHT DIAGONAL UPPER CENTRE TO MIDDLE LEFT AND MIDDLE "
                        + "RIGHT TO LOWER CENTRE\n", "not found: 110000 (6 bytes, longer than the file's key width of 5 bytes)\n"));
        assertThat(Cli.run("verify", file)).isEqualTo(new Cli(0, "ok\n", ""));
        assertThat(Cli.run("inspect", "--json", file).json()).containsEntry("entries", 34_884L)
                .containsEntry("raw_key_value_bytes", 1_128_660L - 2L * 34_884)
                .containsEntry("tophash_verdict", "uniform");
    }
}
