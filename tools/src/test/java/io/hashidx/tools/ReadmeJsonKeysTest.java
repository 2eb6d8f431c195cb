package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every key that a {@code --json} output prints is snake_case and named in the README (as {@code `key`},
 * or {@code `parent[].key`} for the keys of nested objects), so that scripts can rely on the documentation.
 * A new key without a line in the README fails here.
 */
class ReadmeJsonKeysTest {
    private static final Path README = Path.of("").toAbsolutePath().getParent().resolve("README.md");
    private static final Pattern SNAKE_CASE = Pattern.compile("[a-z][a-z0-9]*(_[a-z0-9]+)*");

    @TempDir
    Path dir;

    @Test
    void everyJsonKeyIsSnakeCaseAndDocumentedInTheReadme() throws IOException {
        String readme = Files.readString(README);
        Path file = dir.resolve("x.hidx");
        Path tsv = Files.writeString(dir.resolve("in.tsv"), "a\t1\nb\t2\nno tab\n");
        List<Cli> outputs = List.of(
                Cli.run("create", "--json", dir.resolve("empty.hidx").toString(), "--key-size", "4", "--value-size", "4"),
                Cli.run("load", "--json", "--skip-bad", file.toString(), tsv.toString()),
                Cli.run("inspect", "--json", file.toString()),
                Cli.run("inspect", "--json", InspectGoldenTest.midGrowthFile(dir).toString(), "--bucket", "1"),
                Cli.run("verify", "--json", file.toString()),
                Cli.run("plan", "--json", "--expected", "100", "--key-size", "4", "--value-size", "4"),
                Cli.run("compact", "--json", file.toString(), "--to", dir.resolve("out.hidx").toString()));
        Set<String> keys = new TreeSet<>();
        for (Cli output : outputs) {
            assertThat(output.exitCode()).as(output.toString()).isZero();
            collectKeys(output.json(), keys);
        }

        assertThat(keys).hasSizeGreaterThan(60);
        for (String key : keys) {
            assertThat(key).matches(SNAKE_CASE);
            boolean named = Pattern.compile("[`.]" + key + "(\\[])?`").matcher(readme).find();
            assertThat(named).as("README names the JSON key " + key).isTrue();
        }
    }

    private static void collectKeys(Object value, Set<String> keys) {
        if (value instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                keys.add((String) e.getKey());
                collectKeys(e.getValue(), keys);
            }
        } else if (value instanceof List<?> l) {
            l.forEach(v -> collectKeys(v, keys));
        }
    }
}
