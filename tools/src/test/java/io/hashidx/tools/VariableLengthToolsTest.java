package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tools on variable-length files: create without widths makes one, put/get/delete take keys and
 * values longer than any width, inspect reports the record space (and null widths in JSON), compact
 * packs the records freed by overwrites and removes, load adds to one and recover copies one.
 */
class VariableLengthToolsTest {
    @TempDir
    Path dir;

    private static String text(char c, int n) {
        return String.valueOf(c).repeat(n);
    }

    @Test
    void createWithoutWidthsMakesAVariableLengthFileAndOneWidthAloneIsAUsageError() {
        String file = dir.resolve("v.hidx").toString();
        Cli created = Cli.run("create", file, "--seed", "7");
        assertThat(created.exitCode()).as(created.toString()).isZero();
        assertThat(created.out()).startsWith("created " + file + ": variable-length keys and values (up to 16 MiB each; "
                + "inline up to 16 and 16 bytes), seed 0x0000000000000007");
        Cli json = Cli.run("create", "--json", dir.resolve("w.hidx").toString());
        assertThat(json.json()).containsEntry("variable_lengths", true).containsEntry("key_size", null)
                .containsEntry("value_size", null);
        Cli half = Cli.run("create", dir.resolve("h.hidx").toString(), "--key-size", "8");
        assertThat(half.exitCode()).isEqualTo(2);
        assertThat(half.err()).contains("give both --key-size and --value-size for a fixed-width file, or neither");
        assertThat(dir.resolve("h.hidx")).doesNotExist();
    }

    @Test
    void longKeysAndValuesRoundTripAndInspectReportsTheRecordSpace() {
        String file = dir.resolve("v.hidx").toString();
        assertThat(Cli.run("create", file).exitCode()).isZero();
        String longKey = text('k', 300);
        String longValue = text('v', 5000);
        assertThat(Cli.run("put", file, longKey, longValue)).isEqualTo(new Cli(0, "inserted\n", ""));
        assertThat(Cli.run("put", file, "short", "inline")).isEqualTo(new Cli(0, "inserted\n", ""));
        assertThat(Cli.run("get", file, longKey)).isEqualTo(new Cli(0, longValue + "\n", ""));
        assertThat(Cli.run("get", file, "short")).isEqualTo(new Cli(0, "inline\n", ""));

        Map<String, Object> in = Cli.run("inspect", "--json", file).json();
        assertThat(in).containsEntry("variable_lengths", true).containsEntry("key_size", null)
                .containsEntry("value_size", null).containsEntry("inline_key_size", 16L)
                .containsEntry("inline_value_size", 16L).containsEntry("format_version", 3L)
                .containsEntry("record_bytes", 5300L);
        long recordPages = (long) in.get("record_pages");
        long pageBytes = (long) in.get("page_bytes");
        assertThat(recordPages).isEqualTo((5300 + pageBytes - 17) / (pageBytes - 16));
        assertThat(in.get("record_free_bytes")).isEqualTo(recordPages * (pageBytes - 16) - 5300);
        assertThat(Cli.run("inspect", file).out()).containsPattern("lengths +variable, up to 16 MiB each \\(inline up to key 16 bytes")
                .containsPattern("record pages +" + recordPages + " holding 5,300 key\\+value bytes of out-of-line entries");

        assertThat(Cli.run("delete", file, longKey)).isEqualTo(new Cli(0, "deleted 1 of 1\n", ""));
        Map<String, Object> after = Cli.run("inspect", "--json", file).json();
        assertThat(after).containsEntry("record_pages", 0L).containsEntry("record_bytes", 0L)
                .containsEntry("free_pages", recordPages);
        assertThat(Cli.run("verify", file)).isEqualTo(new Cli(0, "ok\n", ""));
    }

    @Test
    void compactPacksTheRecordsThatOverwritesAndRemovesFreed() throws Exception {
        Path file = dir.resolve("churn.hidx");
        Map<String, String> model = new HashMap<>();
        assertThat(Cli.run("create", file.toString()).exitCode()).isZero();
        try (HashIndex idx = HashIndex.open(file)) {
            for (int i = 0; i < 3_000; i++) {
                String key = "key-" + i + text('x', i % 40);
                String value = text((char) ('a' + i % 26), (i * 37) % 900);
                idx.put(key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
                model.put(key, value);
            }
            for (int i = 0; i < 3_000; i += 2) {
                String key = "key-" + i + text('x', i % 40);
                idx.remove(key.getBytes(StandardCharsets.UTF_8));
                model.remove(key);
            }
        }
        Map<String, Object> before = Cli.run("inspect", "--json", file.toString()).json();
        assertThat((long) before.get("free_pages")).as("records freed by the removes").isGreaterThan(100);

        Cli compacted = Cli.run("compact", "--json", file.toString());
        assertThat(compacted.exitCode()).as(compacted.toString()).isZero();
        Map<String, Object> after = Cli.run("inspect", "--json", file.toString()).json();
        assertThat(after).containsEntry("variable_lengths", true).containsEntry("free_pages", 0L)
                .containsEntry("record_bytes", before.get("record_bytes"))
                .containsEntry("record_pages", before.get("record_pages"));
        assertThat((long) after.get("file_bytes")).isLessThan((long) before.get("file_bytes"));
        assertThat(Cli.run("verify", file.toString())).isEqualTo(new Cli(0, "ok\n", ""));
        try (HashIndex idx = HashIndex.openReadOnly(file)) {
            Map<String, String> seen = new HashMap<>();
            for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(); it.hasNext(); ) {
                Map.Entry<byte[], byte[]> e = it.next();
                seen.put(new String(e.getKey(), StandardCharsets.UTF_8), new String(e.getValue(), StandardCharsets.UTF_8));
            }
            assertThat(seen).isEqualTo(model);
        }
    }

    @Test
    void loadAddsToAVariableLengthFileAndRecoverCopiesOne() throws Exception {
        Path file = dir.resolve("v.hidx");
        assertThat(Cli.run("create", file.toString()).exitCode()).isZero();
        Path tsv = Files.writeString(dir.resolve("in.tsv"), "a\t1\n" + text('k', 100) + "\t" + text('v', 2000) + "\n");
        Cli loaded = Cli.run("load", "--json", file.toString(), tsv.toString());
        assertThat(loaded.exitCode()).as(loaded.toString()).isZero();
        assertThat(loaded.json()).containsEntry("variable_lengths", true).containsEntry("key_size", null)
                .containsEntry("inserted", 2L);
        Cli widths = Cli.run("load", file.toString(), tsv.toString(), "--key-size", "8");
        assertThat(widths.exitCode()).isEqualTo(2);
        assertThat(widths.err()).contains("exists with variable lengths");

        Path out = dir.resolve("copy.hidx");
        Cli recovered = Cli.run("recover", "--json", file.toString(), out.toString());
        assertThat(recovered.exitCode()).as(recovered.toString()).isZero();
        assertThat(recovered.json()).containsEntry("variable_lengths", true).containsEntry("recovered_entries", 2L)
                .containsEntry("complete", true);
        assertThat(Cli.run("get", out.toString(), text('k', 100))).isEqualTo(new Cli(0, text('v', 2000) + "\n", ""));
    }
}
