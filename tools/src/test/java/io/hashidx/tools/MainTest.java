package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MainTest {
    @TempDir
    Path dir;

    @Test
    void helpListsTheCommandsAndDocumentsTheExitCodes() {
        Cli help = Cli.run("--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.err()).isEmpty();
        assertThat(help.out()).startsWith("Usage: hashidx [-hV] [--verbose] [COMMAND]");
        for (String command : new String[] {"create", "load", "get", "put", "delete", "inspect", "verify", "recover", "torture"}) {
            assertThat(help.out()).containsPattern("\n  " + command + " +\\S");
        }
        assertThat(help.out()).contains("Exit codes:", "  0   success",
                "  1   a key was not found (get, delete) or verify found problems", "recover lost", "  2   error: a usage error, a hashidx error",
                "bad load input", "--verbose", "HASHIDX_DEBUG=1");
        assertThat(help.out()).doesNotContain("  3   ", "  4   ");
    }

    /** Every command registered in Main, except picocli's own 'help'. */
    private static List<String> commands() {
        List<String> names = new ArrayList<>(new CommandLine(Main.class).getSubcommands().keySet());
        names.remove("help");
        return names;
    }

    @Test
    void everyCommandHasHelpWithAnExampleAndItsExitCodes() {
        List<String> commands = commands();
        assertThat(commands).contains("create", "load", "dump", "get", "put", "delete", "inspect", "verify", "plan",
                "compact", "recover", "torture");
        for (String command : commands) {
            Cli help = Cli.run(command, "--help");
            assertThat(help.exitCode()).as(command).isZero();
            assertThat(help.out()).as(command).startsWith("Usage: hashidx " + command)
                    .containsPattern("\nExamples?:\n  hashidx " + command + " ")
                    .contains("Exit codes:", "  0   ", "  2   error")
                    .doesNotContain("  3   ", "  4   ", "exit code 3", "exit code 4");
        }
        assertThat(Cli.run("help", "load").out()).isEqualTo(Cli.run("load", "--help").out());
    }

    @Test
    void everyCommandPrintsTheVersion() {
        String version = Cli.run("--version").out();
        for (String command : commands()) {
            assertThat(Cli.run(command, "--version")).as(command).isEqualTo(new Cli(0, version, ""));
        }
    }

    @Test
    void versionNamesTheToolAndJava() {
        Cli version = Cli.run("--version");

        assertThat(version.exitCode()).isZero();
        assertThat(version.out()).startsWith("hashidx ").contains("\nJava " + Runtime.version());
    }

    @Test
    void usageErrorsExitWith2AndOneLine() {
        Cli none = Cli.run();
        Cli unknown = Cli.run("frobnicate");
        Cli missing = Cli.run("get", "x.hidx");
        Cli badNumber = Cli.run("create", "x.hidx", "--key-size", "many", "--value-size", "8");

        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).isEqualTo("hashidx: Missing required subcommand (see 'hashidx --help')\n");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).hasLineCount(1).startsWith("hashidx: Unmatched argument");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.err()).isEqualTo("hashidx get: Missing required parameter: 'KEY' (see 'hashidx get --help')\n");
        assertThat(badNumber.exitCode()).isEqualTo(2);
        assertThat(badNumber.err()).hasLineCount(1).contains("--key-size");
        assertThat(dir.resolve("x.hidx")).doesNotExist();
    }

    @Test
    void aFileThatIsNotAHashidxFileExitsWith2AndItsCode() throws IOException {
        Path notIndex = Files.writeString(dir.resolve("notes.txt"), "hello, this is not an index\n".repeat(300));

        for (String command : new String[] {"inspect", "verify"}) {
            Cli result = Cli.run(command, notIndex.toString());
            assertThat(result.exitCode()).isEqualTo(2);
            assertThat(result.out()).isEmpty();
            assertThat(result.err()).startsWith("hashidx: HIDX-001 not hashidx file: " + notIndex + ": not a hashidx "
                    + "index file").hasLineCount(1);
        }
        Cli load = Cli.run("load", notIndex.toString(), notIndex.toString());
        assertThat(load.exitCode()).isEqualTo(2);
        assertThat(load.err()).startsWith("hashidx: HIDX-001 ");
    }

    @Test
    void aMissingFileExitsWith2() {
        Cli get = Cli.run("get", dir.resolve("nope.hidx").toString(), "k");

        assertThat(get.exitCode()).isEqualTo(2);
        assertThat(get.err()).startsWith("hashidx: HIDX-011 invalid argument: " + dir.resolve("nope.hidx")
                + ": no such file");
    }

    @Test
    void createRefusesAnExistingFile() {
        String file = dir.resolve("x.hidx").toString();
        Cli.run("create", file, "--key-size", "8", "--value-size", "8");

        Cli again = Cli.run("create", file, "--key-size", "8", "--value-size", "8");

        assertThat(again.exitCode()).isEqualTo(2);
        assertThat(again.err()).startsWith("hashidx: HIDX-011 ").contains("file already exists");
    }

    @Test
    void aFileOpenForWritingElsewhereIsReportedAsLocked() {
        Path file = dir.resolve("x.hidx");
        Cli.run("create", file.toString(), "--key-size", "8", "--value-size", "8");

        try (HashIndex writer = HashIndex.open(file)) {
            Cli put = Cli.run("put", file.toString(), "k", "v");
            Cli get = Cli.run("get", file.toString(), "k");

            assertThat(put.exitCode()).isEqualTo(2);
            assertThat(put.err()).startsWith("hashidx: HIDX-004 locked: ").hasLineCount(1);
            assertThat(get.exitCode()).isEqualTo(2);
            assertThat(get.err()).startsWith("hashidx: HIDX-004 locked: ");
            assertThat(writer.size()).isZero();
        }
    }

    @Test
    void createWithJsonReportsTheGeometry() {
        Cli created = Cli.run("create", "--json", dir.resolve("x.hidx").toString(), "--key-size", "16",
                "--value-size", "100", "--expected", "1000", "--seed", "-1");

        assertThat(created.exitCode()).isZero();
        assertThat(created.json()).containsEntry("key_size", 16L).containsEntry("value_size", 100L)
                .containsEntry("seed", "0xffffffffffffffff").containsEntry("expected", 1000L)
                .containsKeys("path", "file_bytes");
        assertThat((Long) created.json().get("buckets") * 6.5).as("presized for 1000 at load 6.5")
                .isGreaterThanOrEqualTo(1000);
    }
}
