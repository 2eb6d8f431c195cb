package io.hashidx.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupCommandTest {
    @TempDir
    Path dir;
    private Path file;

    @BeforeEach
    void fill() {
        file = dir.resolve("live.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.widths(8, 8).seed(5))) {
            for (int i = 0; i < 3_000; i++) {
                idx.put(("k" + i).getBytes(StandardCharsets.UTF_8), ("v" + i).getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void aFileNobodyWritesIsCopiedAtOneInstant() {
        Path out = dir.resolve("copy.hidx");
        Cli backup = Cli.run("backup", file.toString(), out.toString(), "--json");

        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        assertThat(backup.json()).containsEntry("path", file.toString()).containsEntry("written", out.toString())
                .containsEntry("entries", 3_000L).containsEntry("point_in_time", true);
        assertThat(Cli.run("verify", out.toString())).isEqualTo(new Cli(0, "ok\n", ""));
        assertThat(Cli.run("get", out.toString(), "k2999").out()).isEqualTo("v2999\n");
        assertNoTemporaryFiles();
    }

    @Test
    void aFileAnotherProcessWritesIsCopiedLiveAndTheCopyVerifies() throws Exception {
        Path out = dir.resolve("copy.hidx");
        Cli backup;
        try (OtherProcess writer = OtherProcess.holding(file, true)) {
            backup = Cli.run("backup", file.toString(), out.toString());
            Cli verify = Cli.run("verify", file.toString());
            assertThat(verify.exitCode()).isEqualTo(2);
            assertThat(verify.err()).startsWith("hashidx: HIDX-004 locked: " + file + ": another process has the file "
                    + "open for writing, and 'hashidx verify' reads a file only while nobody writes it");
        }
        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        assertThat(backup.out()).startsWith("backed up " + file + " to " + out + "\n")
                .contains("entries: 3,000").contains("copy: live (another process wrote the file meanwhile");
        assertThat(Cli.run("verify", out.toString())).isEqualTo(new Cli(0, "ok\n", ""));
        assertThat(Cli.run("dump", out.toString()).out().lines().sorted().toList())
                .isEqualTo(Cli.run("dump", file.toString()).out().lines().sorted().toList());
        assertNoTemporaryFiles();
    }

    @Test
    void anExistingOutIsAUsageErrorAndIsLeftAlone() throws Exception {
        Path out = dir.resolve("taken.hidx");
        Files.writeString(out, "precious");
        Cli backup = Cli.run("backup", file.toString(), out.toString());

        assertThat(backup.exitCode()).isEqualTo(2);
        assertThat(backup.err()).contains("OUT " + out + " exists");
        assertThat(Files.readString(out)).isEqualTo("precious");
    }

    @Test
    void helpSaysWhatTheCopyHolds() {
        Cli help = Cli.run("backup", "--help");

        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("point in time").contains("live")
                .contains("hashidx backup live.hidx /backups/live-monday.hidx").contains("Exit codes");
    }

    private void assertNoTemporaryFiles() {
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".bulk-"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
