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
 * this build uses. Needs git, mvn and util-linux's script (for a terminal); fails, never skips,
 * without them.
 */
class LauncherEndToEndTest {
    private static final Path REPO = Path.of("").toAbsolutePath().getParent();

    @TempDir
    Path dir;

    @Test
    void everyCommandThroughTheLauncherWithItsExitCodesProgressAndPipes() throws Exception {
        requireTool("git", "--version");
        requireTool("mvn", "--version");
        requireTool("script", "--version");
        String head = run(REPO, 60, 0, "git", "rev-parse", "HEAD").out().strip();
        Path clone = dir.resolve("clone");
        run(dir, 120, 0, "git", "clone", "--quiet", "--local", "--no-checkout", REPO.toString(), clone.toString());
        run(clone, 60, 0, "git", "checkout", "--quiet", "--detach", head);

        Result load = run(clone, 600, 0, "./hashidx", "load", "demo.hidx", "data-samples/unicode-names.tsv");
        assertThat(load.out()).contains("inserted          34,884");
        assertThat(load.err()).as("stderr is a file, not a terminal: no bar").doesNotContain("\r");

        assertThat(run(clone, 120, 0, "./hashidx", "get", "demo.hidx", "0041").out()).isEqualTo("LATIN CAPITAL LETTER A\n");
        assertThat(run(clone, 120, 1, "./hashidx", "get", "demo.hidx", "NOPE")).isEqualTo(new Result("", "not found: NOPE\n"));
        assertThat(run(clone, 120, 0, "./hashidx", "inspect", "demo.hidx", "--json").out()).contains("\"count\": 34884");
        assertThat(run(clone, 120, 0, "./hashidx", "verify", "demo.hidx")).isEqualTo(new Result("ok\n", ""));
        assertThat(run(clone, 120, 0, "./hashidx", "--version").out()).startsWith("hashidx ").contains("\nJava ");
        Result missing = run(clone, 120, 2, "./hashidx", "inspect", "missing.hidx");
        assertThat(missing.err()).startsWith("hashidx: HIDX-011 ").contains("missing.hidx").hasLineCount(1);

        // dump | load - round-trips: a new file from a pipe, measured through a temporary copy
        run(clone, 300, 0, "bash", "-c", "set -o pipefail; ./hashidx dump demo.hidx | ./hashidx load copy.hidx -");
        String sorted = "./hashidx dump %s | LC_ALL=C sort";
        assertThat(run(clone, 300, 0, "bash", "-c", sorted.formatted("copy.hidx")).out())
                .isEqualTo(run(clone, 300, 0, "bash", "-c", sorted.formatted("demo.hidx")).out())
                .hasLineCount(34_884);

        // on a terminal ([ -t 2 ] in the launcher) the load draws a bar in place, phase by phase
        Result terminal = run(clone, 300, 0, "script", "-q", "-e", "-c",
                "./hashidx load tty.hidx data-samples/unicode-names.tsv", "/dev/null");
        assertThat(terminal.out()).contains("\rreading [", "\rwriting ", "% ", " records ", "/s ETA ")
                .contains("inserted          34,884");
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

    /** Runs a command in {@code cwd} with no input; fails with its output unless it exits {@code exit} in time. */
    private static Result run(Path cwd, int seconds, int exit, String... command)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("launcher-out", ".txt");
        Path err = Files.createTempFile("launcher-err", ".txt");
        try {
            List<String> cmd = new ArrayList<>(List.of(command));
            Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectInput(ProcessBuilder.Redirect.from(
                    new java.io.File("/dev/null"))).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor();
            }
            Result r = new Result(Files.readString(out, UTF_8), Files.readString(err, UTF_8));
            if (!done || p.exitValue() != exit) {
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
