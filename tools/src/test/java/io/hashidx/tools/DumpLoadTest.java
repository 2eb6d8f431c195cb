package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DumpLoadTest {
    @TempDir
    Path dir;

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** Random binary entries: the empty key, every byte 0x00..0xff, tabs, newlines, CRs, backslashes, UTF-8. */
    private Map<String, String> randomIndex(Path file) {
        Map<String, String> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(2024);
        byte[] special = "\t\n\r\\\\x0 \u00e9\u20ac".getBytes(UTF_8);
        try (HashIndex idx = HashIndex.create(file, Options.widths(24, 40).seed(3))) {
            List<byte[][]> entries = new ArrayList<>();
            entries.add(new byte[][] {new byte[0], "value of the empty key".getBytes(UTF_8)});
            for (int b = 0; b < 256; b++) {
                entries.add(new byte[][] {new byte[] {(byte) b}, new byte[] {(byte) b, (byte) b}});
            }
            entries.add(new byte[][] {"plain key".getBytes(UTF_8), new byte[0]});
            entries.add(new byte[][] {"\u00e9t\u00e9".getBytes(UTF_8), "\u2603 snow\\man".getBytes(UTF_8)});
            for (int i = 0; i < 3000; i++) {
                byte[][] kv = {new byte[1 + rnd.nextInt(24)], new byte[rnd.nextInt(41)]};
                for (byte[] b : kv) {
                    for (int j = 0; j < b.length; j++) {
                        b[j] = rnd.nextInt(3) == 0 ? special[rnd.nextInt(special.length)] : (byte) rnd.nextInt(256);
                    }
                }
                entries.add(kv);
            }
            for (byte[][] kv : entries) {
                idx.put(kv[0], kv[1]);
                model.put(hex(kv[0]), hex(kv[1]));
            }
        }
        return model;
    }

    private static Map<String, String> contents(Path file) {
        Map<String, String> m = new HashMap<>();
        try (HashIndex idx = HashIndex.openReadOnly(file)) {
            idx.forEach((k, v) -> assertThat(m.put(hex(k), hex(v))).as("each key once").isNull());
        }
        return m;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tsv, ''", "tsv, --hex", "jsonl, ''"})
    void randomBinaryEntriesRoundTripThroughDumpAndLoad(String format, String hexFlag) throws Exception {
        Path source = dir.resolve("source.hidx");
        Map<String, String> model = randomIndex(source);
        List<String> dumpArgs = new ArrayList<>(List.of("dump", source.toString(), "--format", format));
        List<String> loadArgs = new ArrayList<>(List.of("load", "--format", format));
        if (!hexFlag.isEmpty()) {
            dumpArgs.add(hexFlag);
            loadArgs.add(hexFlag);
        }

        Cli dump = Cli.run(dumpArgs.toArray(String[]::new));
        assertThat(dump.exitCode()).as(dump.err()).isZero();
        assertThat(dump.err()).isEmpty();
        assertThat(dump.out().lines().count()).isEqualTo(model.size());
        Path text = Files.writeString(dir.resolve("dump." + format), dump.out(), UTF_8);
        Path copy = dir.resolve("copy.hidx");
        loadArgs.addAll(List.of(copy.toString(), text.toString()));
        Cli load = Cli.run(loadArgs.toArray(String[]::new));

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.out()).containsPattern("inserted +" + Figures.count(model.size()) + "\n")
                .containsPattern("rejected +0\n");
        assertThat(contents(copy)).isEqualTo(model);
        assertThat(contents(source)).isEqualTo(model);
    }

    @Test
    void tsvEscapesControlAndInvalidBytesAndKeepsUtf8Readable() throws Exception {
        Path file = dir.resolve("x.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.widths(8, 8))) {
            idx.put(new byte[0], "\u00e9\t\\".getBytes(UTF_8));
        }

        assertThat(Cli.run("dump", file.toString())).isEqualTo(new Cli(0, "\t\u00e9\\t\\\\\n", ""));
        assertThat(Cli.run("dump", file.toString(), "--hex")).isEqualTo(new Cli(0, "\tc3a9095c\n", ""));
        assertThat(Cli.run("dump", file.toString(), "--format", "jsonl"))
                .isEqualTo(new Cli(0, "{\"key\":\"\",\"value\":\"\u00e9\\t\\\\\"}\n", ""));
        try (HashIndex idx = HashIndex.open(file)) {
            idx.put(new byte[] {(byte) 0xff}, new byte[] {0, 'a'});
        }
        assertThat(Cli.run("dump", file.toString(), "--format", "jsonl").out())
                .contains("{\"key_hex\":\"ff\",\"value\":\"\\u0000a\"}\n");
        assertThat(Cli.run("dump", file.toString()).out()).contains("\\xff\t\\x00a\n");
    }

    @Test
    void dumpRefusesCsvAndHexWithJsonlAndReportsAMissingFile() {
        Cli csv = Cli.run("dump", dir.resolve("x.hidx").toString(), "--format", "csv");
        Cli hexJsonl = Cli.run("dump", dir.resolve("x.hidx").toString(), "--format", "jsonl", "--hex");
        Cli missing = Cli.run("dump", dir.resolve("missing.hidx").toString());

        assertThat(csv.exitCode()).isEqualTo(Main.USAGE_ERROR);
        assertThat(csv.err()).contains("csv is an input format of load only");
        assertThat(hexJsonl.exitCode()).isEqualTo(Main.USAGE_ERROR);
        assertThat(missing.exitCode()).isEqualTo(Main.HASHIDX_ERROR);
        assertThat(missing.err()).startsWith("hashidx: HIDX-");
        assertThat(missing.out()).isEmpty();
    }

    @Test
    void loadRefusesABadEscapeNamingTheLineAndTellsHowToWriteABackslash() throws Exception {
        Path input = Files.writeString(dir.resolve("in.tsv"), "ok\t1\nC:\\data\tdir\n", UTF_8);
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", file.toString(), input.toString());
        Cli skip = Cli.run("load", "--skip-bad", dir.resolve("y.hidx").toString(), input.toString());

        assertThat(load.exitCode()).isEqualTo(Main.INPUT_DATA_ERROR);
        assertThat(load.err()).contains("line 2 of " + input).contains("unknown escape \\d")
                .contains("literal backslash is written \\\\");
        assertThat(skip.exitCode()).as(skip.toString()).isZero();
        assertThat(skip.out()).containsPattern("inserted +1\n").containsPattern("rejected +1\n");
    }

    @Test
    void escapedWidthsAreMeasuredAfterUnescaping() throws Exception {
        Path input = Files.writeString(dir.resolve("in.tsv"), "\\x00\\x01\ta\\\\b\n", UTF_8);
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--fit-widths", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.out()).contains("key width 2 bytes, value width 3 bytes");
        assertThat(contents(file)).isEqualTo(Map.of("0001", hex("a\\b".getBytes(UTF_8))));
    }

    @Test
    void loadHexRefusesANonHexLine() throws Exception {
        Path input = Files.writeString(dir.resolve("in.tsv"), "00ff\t61\nzz\t61\n", UTF_8);

        Cli load = Cli.run("load", "--hex", dir.resolve("x.hidx").toString(), input.toString());

        assertThat(load.exitCode()).isEqualTo(Main.INPUT_DATA_ERROR);
        assertThat(load.err()).contains("line 2 of ").contains("key is not a hex string");
    }

    @Test
    void jsonlBadLinesAreNamed() throws Exception {
        Path input = Files.writeString(dir.resolve("in.jsonl"), """
                {"key":"a","value":"1"}
                {"key":"b","key_hex":"62","value":"2"}
                {"key":"c"}
                {"key":"d","value":"4","extra":"x"}
                {"key":"e","value":5}
                not json
                {"key_hex":"6","value":"6"}
                {"key":"\\ud800","value":"7"}
                """, UTF_8);
        Path file = dir.resolve("x.hidx");

        Cli load = Cli.run("load", "--format", "jsonl", "--skip-bad", "--json", file.toString(), input.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.json()).containsEntry("inserted", 1L).containsEntry("rejected", 7L);
        Cli strict = Cli.run("load", "--format", "jsonl", dir.resolve("y.hidx").toString(), input.toString());
        assertThat(strict.exitCode()).isEqualTo(Main.INPUT_DATA_ERROR);
        assertThat(strict.err()).contains("line 2 of ").contains("both \"key\" and \"key_hex\" fields");
        assertThat(contents(file)).isEqualTo(Map.of("61", "31"));
    }

    @Test
    void csvByIndexByHeaderNameAndWithQuotedFields() throws Exception {
        Path byIndex = Files.writeString(dir.resolve("a.csv"), "id,name,email\n"
                + "1,\"Smith, Jane\",jane@example.com\n"
                + "2,\"multi\nline \"\"quoted\"\"\",bob@example.com\n", UTF_8);

        Cli columns = Cli.run("load", "--format", "csv", "--key-column", "3", "--value-column", "2",
                dir.resolve("a.hidx").toString(), byIndex.toString());
        Cli names = Cli.run("load", "--format", "csv", "--key-column", "email", "--value-column", "name",
                dir.resolve("b.hidx").toString(), byIndex.toString());
        Cli defaults = Cli.run("load", "--format", "csv", dir.resolve("c.hidx").toString(), byIndex.toString());

        assertThat(columns.exitCode()).as(columns.toString()).isZero();
        assertThat(contents(dir.resolve("a.hidx"))).hasSize(3).containsEntry(hex("email".getBytes(UTF_8)),
                hex("name".getBytes(UTF_8)));
        assertThat(names.exitCode()).as(names.toString()).isZero();
        assertThat(contents(dir.resolve("b.hidx"))).isEqualTo(Map.of(
                hex("jane@example.com".getBytes(UTF_8)), hex("Smith, Jane".getBytes(UTF_8)),
                hex("bob@example.com".getBytes(UTF_8)), hex("multi\nline \"quoted\"".getBytes(UTF_8))));
        assertThat(defaults.exitCode()).as(defaults.toString()).isZero();
        assertThat(contents(dir.resolve("c.hidx"))).containsEntry(hex("1".getBytes(UTF_8)),
                hex("Smith, Jane".getBytes(UTF_8)));
    }

    @Test
    void csvErrors() throws Exception {
        Path csv = Files.writeString(dir.resolve("a.csv"), "k,v\nx\ny,1\n", UTF_8);
        Path unterminated = Files.writeString(dir.resolve("b.csv"), "k,v\n\"open,1\n", UTF_8);

        Cli noSuchColumn = Cli.run("load", "--format", "csv", "--key-column", "nope", "--value-column", "v",
                dir.resolve("a.hidx").toString(), csv.toString());
        Cli shortRecord = Cli.run("load", "--format", "csv", dir.resolve("b.hidx").toString(), csv.toString());
        Cli malformed = Cli.run("load", "--format", "csv", dir.resolve("c.hidx").toString(), unterminated.toString());
        Cli columnWithTsv = Cli.run("load", "--key-column", "2", dir.resolve("d.hidx").toString(), csv.toString());
        Cli hexWithCsv = Cli.run("load", "--format", "csv", "--hex", dir.resolve("e.hidx").toString(), csv.toString());

        assertThat(noSuchColumn.exitCode()).isEqualTo(Main.INPUT_DATA_ERROR);
        assertThat(noSuchColumn.err()).contains("no column \"nope\" in the CSV header [k, v]");
        assertThat(shortRecord.exitCode()).isEqualTo(Main.INPUT_DATA_ERROR);
        assertThat(shortRecord.err()).contains("line 2 of ").contains("the record has 1 columns, fewer than 2");
        assertThat(malformed.exitCode()).as(malformed.toString()).isEqualTo(Main.INPUT_DATA_ERROR);
        assertThat(malformed.err()).contains("malformed CSV");
        assertThat(columnWithTsv.exitCode()).isEqualTo(Main.USAGE_ERROR);
        assertThat(hexWithCsv.exitCode()).isEqualTo(Main.USAGE_ERROR);
        assertThat(dir.resolve("d.hidx")).doesNotExist();
    }

    @Test
    void helpTextsHaveExamplesAndTheBackslashRule() {
        assertThat(Cli.run("dump", "--help").out()).contains("hashidx dump demo.hidx > demo.tsv");
        assertThat(Cli.run("load", "--help").out().replaceAll("\\s+", " "))
                .contains("a literal backslash in the input must be written \\\\.")
                .contains("hashidx load --format csv --key-column email --value-column name u.hidx u.csv");
    }
}
