package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each way a file can be unusable has its own one-line message naming the file and what to do, exit
 * code 2, and a stack trace only with --verbose.
 */
class FileErrorsTest {
    @TempDir
    Path dir;

    private Path index() {
        Path file = dir.resolve("x.hidx");
        assertThat(Cli.run("create", file.toString(), "--key-size", "8", "--value-size", "8").exitCode()).isZero();
        return file;
    }

    @Test
    void aMissingFile() {
        Path file = dir.resolve("nope.hidx");
        Cli get = Cli.run("get", file.toString(), "k");

        assertThat(get.exitCode()).isEqualTo(2);
        assertThat(get.err()).isEqualTo("hashidx: HIDX-011 invalid argument: " + file
                + ": no such file; create the index first (HashIndex.create / hashidx create)\n");
    }

    @Test
    void aFileThatIsNotAHashidxFile() throws IOException {
        Path file = Files.writeString(dir.resolve("notes.hidx"), "just some notes\n".repeat(400));
        Cli inspect = Cli.run("inspect", file.toString());

        assertThat(inspect.exitCode()).isEqualTo(2);
        assertThat(inspect.err()).startsWith("hashidx: HIDX-001 not hashidx file: " + file + ": not a hashidx index file")
                .contains("check the path, or create a new index with `hashidx create`").hasLineCount(1);
    }

    @Test
    void aLockedFile() {
        Path file = index();
        try (HashIndex writer = HashIndex.open(file)) {
            Cli put = Cli.run("put", file.toString(), "k", "v");

            assertThat(put.exitCode()).isEqualTo(2);
            assertThat(put.err()).startsWith("hashidx: HIDX-004 locked: " + file + ": ")
                    .contains("close the other handle or stop the other process").hasLineCount(1);
        }
    }

    @Test
    void aFileAnotherProcessWritesIsReadButNotScannedAndTheMessageSaysWhyAndWhatToDo() throws Exception {
        Path file = index();
        try (HashIndex idx = HashIndex.open(file)) {
            idx.put("k".getBytes(java.nio.charset.StandardCharsets.UTF_8), "v".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        try (OtherProcess writer = OtherProcess.holding(file, true)) {
            for (String command : new String[] {"inspect", "verify"}) {
                Cli refused = Cli.run(command, file.toString());
                assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(2);
                assertThat(refused.err()).isEqualTo("hashidx: HIDX-004 locked: " + file + ": another process has the "
                        + "file open for writing, and 'hashidx " + command + "' reads a file only while nobody writes "
                        + "it (so that it never sees a change half made); run it again once the writer has closed "
                        + "the file, or run it on a copy made with 'hashidx backup'\n");
            }
            assertThat(Cli.run("get", file.toString(), "k")).as("get beside the writer").isEqualTo(new Cli(0, "v\n", ""));
            assertThat(Cli.run("dump", file.toString())).as("dump beside the writer").isEqualTo(new Cli(0, "k\tv\n", ""));
            Cli put = Cli.run("put", file.toString(), "k", "v");
            assertThat(put.exitCode()).isEqualTo(2);
            assertThat(put.err()).startsWith("hashidx: HIDX-004 locked: " + file + ": another process has the file "
                    + "open for writing").endsWith("; close the other handle or stop the other process, or open the "
                    + "file read-only\n");
        }
        assertThat(Cli.run("verify", file.toString())).as("once the writer is gone").isEqualTo(new Cli(0, "ok\n", ""));
    }

    @Test
    void inspectTakesNoWriteLockSoItRunsBesideAnotherReaderAndAWriterMayJoinThem() throws Exception {
        Path file = index();
        try (OtherProcess reader = OtherProcess.holding(file, false)) {
            Cli inspect = Cli.run("inspect", "--json", file.toString());
            assertThat(inspect.exitCode()).as(inspect.toString()).isZero();
            assertThat(inspect.json()).containsEntry("count", 0L);
            assertThat(Cli.run("put", file.toString(), "k", "v").exitCode()).as("a writer beside a reader").isZero();
        }
    }

    @Test
    void aReadOnlyFile() throws IOException {
        Path file = index();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));

        Cli put = Cli.run("put", file.toString(), "k", "v");
        Cli get = Cli.run("get", file.toString(), "k");

        assertThat(put.exitCode()).isEqualTo(2);
        assertThat(put.err()).isEqualTo("hashidx: HIDX-009 read only: " + file + ": the file is read-only (its "
                + "permissions allow no writing); make it writable (chmod u+w) to change it, or only read it "
                + "(get, inspect, verify)\n");
        assertThat(get.exitCode()).as("reading still works").isEqualTo(1);
        assertThat(Cli.run("verify", file.toString())).isEqualTo(new Cli(0, "ok\n", ""));
    }

    @Test
    void theStackTraceOnlyWithVerbose() {
        Path file = dir.resolve("nope.hidx");

        Cli quiet = Cli.run("inspect", file.toString());
        Cli verbose = Cli.run("inspect", "--verbose", file.toString());
        Cli verboseFirst = Cli.run("--verbose", "verify", file.toString());

        assertThat(quiet.err()).hasLineCount(1);
        for (Cli loud : new Cli[] {verbose, verboseFirst}) {
            assertThat(loud.exitCode()).isEqualTo(2);
            assertThat(loud.err()).contains("HashIndexException", "\tat io.hashidx.")
                    .endsWith("hashidx: HIDX-011 invalid argument: " + file
                            + ": no such file; create the index first (HashIndex.create / hashidx create)\n");
        }
    }
}
