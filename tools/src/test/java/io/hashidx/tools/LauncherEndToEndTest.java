package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./hashidx} launcher end to end, in a fresh clone of the committed HEAD (so it tests
 * committed code only): its first use builds the tool with Maven, in the clone, never in the tree
 * this build uses. Needs git and mvn; fails, never skips, without them.
 */
class LauncherEndToEndTest {
    private static final Path REPO = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path dir;

    @Test
    void loadGetAndInspectThroughTheLauncher() throws Exception {
        requireTool("git", "--version");
        requireTool("mvn", "--version");
        String head = run(REPO, 60, "git", "rev-parse", "HEAD").out().strip();
        Path clone = dir.resolve("clone");
        run(dir, 120, "git", "clone", "--quiet", "--local", "--no-checkout", REPO.toString(), clone.toString());
        run(clone, 60, "git", "checkout", "--quiet", "--detach", head);

        Result load = run(clone, 600, "./hashidx", "load", "demo.hidx", "data-samples/unicode-names.tsv");
        Result get = run(clone, 120, "./hashidx", "get", "demo.hidx", "0041");
        Result inspect = run(clone, 120, "./hashidx", "inspect", "demo.hidx", "--json");

        assertThat(load.out()).contains("inserted          34,884");
        assertThat(get.out()).isEqualTo("LATIN CAPITAL LETTER A\n");
        assertThat(inspect.out()).contains("\"count\": 34884");
    }

    private record Result(String out, String err) {
    }

    private static void requireTool(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("'" + String.join(" ", command) + "' failed; this test needs " + command[0]);
            }
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("this test needs " + command[0] + " on the PATH, and it cannot be run: " + e, e);
        }
    }

    /** Runs a command in {@code cwd}; fails with its output unless it exits 0 within the time. */
    private static Result run(Path cwd, int seconds, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("launcher-out", ".txt");
        Path err = Files.createTempFile("launcher-err", ".txt");
        try {
            List<String> cmd = new ArrayList<>(List.of(command));
            Process p = new ProcessBuilder(cmd).directory(cwd.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor();
            }
            Result r = new Result(Files.readString(out, UTF_8), Files.readString(err, UTF_8));
            if (!done || p.exitValue() != 0) {
                throw new AssertionError("'" + String.join(" ", command) + "' in " + cwd + (done ? " exited "
                        + p.exitValue() : " took more than " + seconds + " s") + "\n--- out ---\n" + r.out()
                        + "--- err ---\n" + r.err());
            }
            return r;
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
