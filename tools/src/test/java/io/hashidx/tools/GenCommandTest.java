package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenCommandTest {
    @TempDir
    Path dir;

    private List<String> gen(String... options) throws IOException {
        Path out = dir.resolve("out-" + String.join("_", options).replaceAll("[^a-z0-9_.-]", "") + ".tsv");
        String[] args = new String[options.length + 2];
        args[0] = "gen";
        args[1] = out.toString();
        System.arraycopy(options, 0, args, 2, options.length);
        Cli gen = Cli.run(args);
        assertThat(gen.exitCode()).as(gen.toString()).isZero();
        return Files.readAllLines(out, US_ASCII);
    }

    @Test
    void theSameOptionsGiveTheSameBytesInAFileAndOnStdout() throws IOException {
        Path a = dir.resolve("a.tsv");
        Path b = dir.resolve("b.tsv");
        Cli first = Cli.run("gen", a.toString(), "--count", "5000", "--keys", "zipf", "--seed", "42", "--value-size", "40");
        Cli second = Cli.run("gen", b.toString(), "--count", "5000", "--keys", "zipf", "--seed", "42", "--value-size", "40");
        Cli stdout = Cli.run("gen", "-", "--count", "5000", "--keys", "zipf", "--seed", "42", "--value-size", "40");
        Cli otherSeed = Cli.run("gen", "-", "--count", "5000", "--keys", "zipf", "--seed", "43", "--value-size", "40");

        assertThat(first.out()).isEqualTo("wrote 5,000 lines, 290,000 (283.2 KiB), to " + a + "\n");
        assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
        assertThat(stdout.out().getBytes(US_ASCII)).isEqualTo(Files.readAllBytes(a));
        assertThat(otherSeed.out()).isNotEqualTo(stdout.out());
    }

    /** The recipe in data-samples/README.md: these lines must never change. */
    @Test
    void uniformKeysOfSeedOneAreTheDocumentedOnes() throws IOException {
        assertThat(gen("--count", "3", "--seed", "1")).containsExactly(
                "7ab40e090f363a7d\t910a2dec89025cc1",
                "d9bf17d113f38956\tbeeb8da1658eec67",
                "ef30b01c2974aeeb\tf893a2eefb32555e");
    }

    @Test
    void sequentialKeysAreZeroPaddedLineNumbers() throws IOException {
        List<String> lines = gen("--count", "1000", "--keys", "sequential", "--key-size", "6", "--value-size", "3");

        assertThat(lines).hasSize(1000);
        for (int i = 0; i < lines.size(); i++) {
            assertThat(lines.get(i)).matches(String.format("%06d\t[0-9a-f]{3}", i));
        }
    }

    @Test
    void uniformKeysOfSixteenOrMoreCharactersAreDistinct() throws IOException {
        List<String> lines = gen("--count", "100000", "--key-size", "20", "--value-size", "0");
        Set<String> keys = new HashSet<>();
        for (String line : lines) {
            assertThat(line).matches("[0-9a-f]{20}\t");
            keys.add(line);
        }
        assertThat(keys).hasSize(100_000);
    }

    @Test
    void zipfKeysRepeatWithFrequencyFallingAsAPowerOfTheRank() throws IOException {
        List<String> lines = gen("--count", "200000", "--keys", "zipf", "--zipf-exponent", "1", "--value-size", "1");
        List<String> uniform = gen("--count", "3", "--value-size", "1");
        Map<String, Integer> counts = new HashMap<>();
        for (String line : lines) {
            counts.merge(line.substring(0, 16), 1, Integer::sum);
        }
        int first = counts.get(uniform.get(0).substring(0, 16));
        int second = counts.get(uniform.get(1).substring(0, 16));
        int third = counts.get(uniform.get(2).substring(0, 16));
        // exponent 1 over 200,000 ranks: P(1) = 1 / H(200000) = 7.6%, P(2) = P(1) / 2, P(3) = P(1) / 3
        assertThat(first).isBetween(14_500, 16_000);
        assertThat((double) first / second).isBetween(1.85, 2.15);
        assertThat((double) first / third).isBetween(2.75, 3.25);
        assertThat(counts.values().stream().mapToInt(Integer::intValue).max().orElseThrow()).isEqualTo(first);
        assertThat(counts.size()).as("distinct keys").isBetween(40_000, 55_000);
    }

    @Test
    void shortKeysAreTheLastDigitsOfTheUniformKeys() throws IOException {
        List<String> lines = gen("--count", "3", "--key-size", "4", "--value-size", "16");
        assertThat(lines).containsExactly("3a7d\t910a2dec89025cc1", "8956\tbeeb8da1658eec67", "aeeb\tf893a2eefb32555e");
    }

    @Test
    void genOutputLoadsIntoAnIndexWithOneEntryPerDistinctKey() throws IOException {
        Path tsv = dir.resolve("g.tsv");
        Path file = dir.resolve("g.hidx");
        assertThat(Cli.run("gen", tsv.toString(), "--count", "20000", "--keys", "zipf").exitCode()).isZero();
        long distinct = Files.readAllLines(tsv, US_ASCII).stream().map(l -> l.substring(0, 16)).distinct().count();

        Cli load = Cli.run("load", "--json", file.toString(), tsv.toString());

        assertThat(load.exitCode()).as(load.toString()).isZero();
        assertThat(load.json()).containsEntry("entries_read", 20_000L).containsEntry("entries", distinct)
                .containsEntry("inserted", distinct).containsEntry("replaced", 20_000L - distinct)
                .containsEntry("variable_lengths", true).containsEntry("key_size", null).containsEntry("value_size", null);
        assertThat(Cli.run("verify", file.toString()).out()).isEqualTo("ok\n");
    }

    @Test
    void badOptionsAreUsageErrors() {
        Cli tooFewDigits = Cli.run("gen", "-", "--count", "1001", "--keys", "sequential", "--key-size", "3");
        Cli badExponent = Cli.run("gen", "-", "--count", "10", "--keys", "zipf", "--zipf-exponent", "0");
        Cli noCount = Cli.run("gen", "-");

        assertThat(tooFewDigits.exitCode()).isEqualTo(2);
        assertThat(tooFewDigits.err()).contains("needs 4 digits for 1,001 lines");
        assertThat(Cli.run("gen", "-", "--count", "1000", "--keys", "sequential", "--key-size", "3").exitCode()).isZero();
        assertThat(badExponent.exitCode()).isEqualTo(2);
        assertThat(noCount.exitCode()).isEqualTo(2);
        assertThat(noCount.err()).contains("--count");
    }

    @Test
    void helpShowsExamplesAndExitCodes() {
        Cli help = Cli.run("gen", "--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).startsWith("Usage: hashidx gen").contains("Examples:", "--keys", "zipf",
                "Exit codes:", "  2   error: usage");
    }
}
